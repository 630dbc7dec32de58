# Image URL to use all building/pushing image targets
IMG ?= ospf-operator:latest

# Version stamped into the binary (ospf-operator version).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS ?= -X main.version=$(VERSION)

# Arguments for `make run`; the default attaches to the local ospfd's API.
RUN_ARGS ?= stream --server localhost

# Benchmark selection and duration for `make bench`.
BENCH ?= .
BENCHTIME ?= 1s

# How long `make test` fuzzes each Fuzz target (0 skips the fuzz pass).
FUZZTIME ?= 10s

# CONTAINER_TOOL defines the container tool to be used for building images.
CONTAINER_TOOL ?= docker

# Setting SHELL to bash allows bash commands to be executed by recipes.
# Options are set to exit when a recipe line exits non-zero or a piped command fails.
SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

# The help target prints out all targets with their descriptions organized
# beneath their categories. The categories are represented by '##@' and the
# target descriptions by '##'.

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-15s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

# controller-gen runs only once API types exist (api/<version>/*_types.go);
# until then there is nothing to generate and the targets say so.
API_TYPES = $(wildcard api/*/*_types.go)

.PHONY: manifests
manifests: controller-gen ## Generate ClusterRole and CustomResourceDefinition objects.
ifeq ($(API_TYPES),)
	@echo "manifests: no API types under api/*/ yet, nothing to generate"
else
	"$(CONTROLLER_GEN)" rbac:roleName=manager-role crd paths="./..." output:crd:artifacts:config=config/crd/bases
endif

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods for the API types.
ifeq ($(API_TYPES),)
	@echo "generate: no API types under api/*/ yet, nothing to generate"
else
	"$(CONTROLLER_GEN)" object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
endif

.PHONY: fmt
fmt: ## Run go fmt against code.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet against code, the end-to-end tests (build tag e2e) included.
	go vet ./...
	go vet -tags e2e ./...

.PHONY: test
test: vet envtest ## Run the unit and envtest tests, the end-to-end tests (make test-e2e), then fuzz each Fuzz target for FUZZTIME.
	KUBEBUILDER_ASSETS="$$(LOCALBIN=$(LOCALBIN) hack/build-envtest.sh)" go test -count=1 ./...
	$(MAKE) test-e2e
	cd hack/image && go vet ./... && go test -count=1 ./...
	cd test/helm && go vet ./... && go test -count=1 ./...
	$(MAKE) test-cluster
	FUZZTIME=$(FUZZTIME) hack/fuzz-smoke.sh

.PHONY: test-e2e
test-e2e: envtest ## Run the end-to-end tests (test/, build tag e2e): the binary, the demo and the agents on real FRR (root) and a real API server.
	KUBEBUILDER_ASSETS="$$(LOCALBIN=$(LOCALBIN) hack/build-envtest.sh)" go test -tags e2e -count=1 ./test/...

# The packages whose tests need neither root, FRR nor an API server: make
# test-race runs them with the race detector.
UNIT_PKGS ?= ./internal/ospf/... ./internal/lsdb/... ./internal/topo/... ./internal/ospfapi/... ./internal/mirror/... ./internal/archive/... ./internal/stream/... ./internal/relay/... ./internal/history/... ./internal/schemavalidate/... ./internal/cli/...

.PHONY: test-race
test-race: ## Run the unit packages' tests with the race detector.
	go test -race -count=1 $(UNIT_PKGS)

# The image the cluster test builds, imports and deploys; not "latest",
# which the kubelet would try to pull.
CLUSTER_IMG ?= ospf-operator:cluster-test

.PHONY: test-cluster
test-cluster: ## Run the operator on a real single-node cluster beside an FRR lab (root, containerd, runc, CNI plugins, FRR).
	@# Without root or containerd, say so before minutes of building, unless
	@# under CI=true, where the test itself fails.
	@if [ "$${CI:-}" != true ] && { [ "$$(id -u)" != 0 ] || ! command -v containerd >/dev/null; }; then \
		echo "test-cluster: SKIPPED: needs root and containerd (apt-get install containerd runc containernetworking-plugins)"; \
	else \
		$(MAKE) kustomize controller-gen helm && \
		$(MAKE) image IMG=$(CLUSTER_IMG) && \
		K8S_BIN="$$(LOCALBIN=$(LOCALBIN) hack/build-cluster.sh)" && \
		CLUSTER_K8S_BIN="$$K8S_BIN" CLUSTER_IMAGE_TAR="$(LOCALBIN)/ospf-operator-image.tar" CLUSTER_IMG=$(CLUSTER_IMG) \
		CLUSTER_HELM="$(HELM)" \
			go test -tags cluster -count=1 -v -timeout 15m ./test/cluster/; \
	fi

.PHONY: envtest
envtest: ## Build the kube-apiserver and etcd of the envtest suites into bin/k8s/ (cached; minutes when cold).
	LOCALBIN=$(LOCALBIN) hack/build-envtest.sh >/dev/null

.PHONY: bench
bench: ## Run the benchmarks; results also go to bin/bench.txt.
	@mkdir -p "$(LOCALBIN)"
	go test -run='^$$' -bench='$(BENCH)' -benchmem -benchtime=$(BENCHTIME) -count=1 ./... | tee "$(LOCALBIN)/bench.txt"

.PHONY: lint
lint: golangci-lint ## Run golangci-lint linter.
	"$(GOLANGCI_LINT)" run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint linter and perform fixes.
	"$(GOLANGCI_LINT)" run --fix

.PHONY: lint-config
lint-config: golangci-lint ## Verify golangci-lint linter configuration.
	"$(GOLANGCI_LINT)" config verify

##@ Build

# The binary is static (CGO_ENABLED=0) and -trimpath, as the Dockerfile
# builds it: a dynamically linked one dies in a distroless or scratch image
# with "exec /ospf-operator: no such file or directory".
GO_BUILD_STATIC = CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)'

# Two programs: ospf-operator, every command, and ospf-operator-agent,
# which `ospf-operator agent` runs from beside it. Only the agent links
# Kubernetes' client libraries, so the other commands start without their
# package initialisation.
.PHONY: build
build: ## Build the static binaries: bin/ospf-operator and bin/ospf-operator-agent (its agent command).
	$(GO_BUILD_STATIC) -o bin/ospf-operator ./cmd
	$(GO_BUILD_STATIC) -o bin/ospf-operator-agent ./cmd/ospf-operator-agent

# Where `make install` puts the binaries.
PREFIX ?= /usr/local

.PHONY: install
install: build ## Install bin/ospf-operator and its agent into $(DESTDIR)$(PREFIX)/bin, with ospf-stream-client, the Python client's name, a link to it.
	install -D -m 0755 bin/ospf-operator "$(DESTDIR)$(PREFIX)/bin/ospf-operator"
	install -D -m 0755 bin/ospf-operator-agent "$(DESTDIR)$(PREFIX)/bin/ospf-operator-agent"
	ln -sfn ospf-operator "$(DESTDIR)$(PREFIX)/bin/ospf-stream-client"

.PHONY: demo
demo: demo-preflight build envtest ## The main job: a live FRR network mirrored into a local API server, the stream and its live page (root, FRR).
	@# The built program, not `go run`, which exits 1 on Ctrl-C even when
	@# the demo stopped and cleaned up as asked.
	go build -o "$(LOCALBIN)/ospf-operator-demo" ./hack/demo
	"$(LOCALBIN)/ospf-operator-demo" $(DEMO_ARGS)

.PHONY: demo-preflight
demo-preflight: # Say what the demo lacks (root, FRR) before minutes of building.
	@go run ./hack/demo -preflight

.PHONY: run
run: build ## Run ospf-operator from your host (RUN_ARGS, default: stream --server localhost).
	bin/ospf-operator $(RUN_ARGS)

# The image's architecture; GOOS is linux.
IMAGE_ARCH ?= $(shell go env GOARCH)

.PHONY: image
image: ## Build the image IMG into bin/ospf-operator-image.tar without Docker (ctr -n k8s.io images import, docker load).
	@mkdir -p "$(LOCALBIN)/image"
	GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO_BUILD_STATIC) -o "$(LOCALBIN)/image/ospf-operator" ./cmd
	GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO_BUILD_STATIC) -o "$(LOCALBIN)/image/ospf-operator-agent" ./cmd/ospf-operator-agent
	cd hack/image && go run . -binary "$(LOCALBIN)/image/ospf-operator" -agent-binary "$(LOCALBIN)/image/ospf-operator-agent" -tag "$(IMG)" \
		-arch $(IMAGE_ARCH) -out "$(LOCALBIN)/ospf-operator-image.tar"

.PHONY: docker-build
docker-build: ## Build docker image with the binaries.
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) -t ${IMG} .

.PHONY: docker-push
docker-push: ## Push docker image with the binary.
	$(CONTAINER_TOOL) push ${IMG}

##@ Deployment

ifndef ignore-not-found
  ignore-not-found = false
endif

# The kustomization `make deploy` installs; config/prometheus adds a
# ServiceMonitor for the Prometheus Operator.
KUSTOMIZE_DIR ?= config/default

.PHONY: deploy
deploy: manifests kustomize check-config ## Deploy CRDs, RBAC and the agent DaemonSet (IMG) to the cluster of your kubeconfig.
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build $(KUSTOMIZE_DIR) | $(KUBECTL) apply --server-side --field-manager=ospf-operator-deploy -f -

.PHONY: render
render: manifests kustomize ## Print the manifests `make deploy` applies.
	"$(KUSTOMIZE)" build $(KUSTOMIZE_DIR)

.PHONY: build-installer
build-installer: manifests kustomize ## Write dist/install.yaml, the whole installation (CRDs, RBAC, DaemonSet, Services) for IMG in one file.
	@mkdir -p dist
	cd config/manager && "$(KUSTOMIZE)" edit set image controller=${IMG}
	"$(KUSTOMIZE)" build $(KUSTOMIZE_DIR) > dist/install.yaml

.PHONY: chart-crds
chart-crds: manifests ## Copy the CRDs, as config/default renders them, into the Helm chart (charts/ospf-operator/crds).
	cd test/helm && go test -count=1 -run TestChartRendersConfigDefault . -args -update

.PHONY: undeploy
undeploy: kustomize check-config ## Undeploy the operator from the K8s cluster specified in ~/.kube/config. Call with ignore-not-found=true to ignore resource not found errors during deletion.
	"$(KUSTOMIZE)" build $(KUSTOMIZE_DIR) | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: check-config
check-config:
	@test -f config/default/kustomization.yaml || { echo "config/default/kustomization.yaml does not exist yet: nothing to deploy" >&2; exit 1; }

##@ Dependencies

# Tools are versioned binaries under bin/ (kubebuilder's way), not go.mod
# `tool` directives: as tools, golangci-lint, controller-gen and kustomize add
# about 250 requirements to go.mod and raise versions the binary itself builds
# with (golang.org/x/text, spf13/pflag, and k8s.io/* once controller-runtime
# arrives), so a linter upgrade would change the operator's dependency graph.
# golangci-lint's own documentation advises against installing it as a tool.
# Each binary is installed as NAME-VERSION with a NAME symlink, so changing a
# version below reinstalls it.

## Location to install dependencies to
LOCALBIN ?= $(shell pwd)/bin
$(LOCALBIN):
	mkdir -p "$(LOCALBIN)"

## Tool Binaries
KUBECTL ?= kubectl
KUSTOMIZE ?= $(LOCALBIN)/kustomize
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
HELM ?= $(LOCALBIN)/helm

## Tool Versions
KUSTOMIZE_VERSION ?= v5.8.2
CONTROLLER_TOOLS_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION ?= v2.15.0
# The helm CLI the cluster test installs the chart with; test/helm renders
# the chart with the same release's libraries.
HELM_VERSION ?= v4.3.2

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Download kustomize locally if necessary.
$(KUSTOMIZE): $(LOCALBIN)
	$(call go-install-tool,$(KUSTOMIZE),sigs.k8s.io/kustomize/kustomize/v5,$(KUSTOMIZE_VERSION))

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Download controller-gen locally if necessary.
$(CONTROLLER_GEN): $(LOCALBIN)
	$(call go-install-tool,$(CONTROLLER_GEN),sigs.k8s.io/controller-tools/cmd/controller-gen,$(CONTROLLER_TOOLS_VERSION))

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Download golangci-lint locally if necessary.
$(GOLANGCI_LINT): $(LOCALBIN)
	$(call go-install-tool,$(GOLANGCI_LINT),github.com/golangci/golangci-lint/v2/cmd/golangci-lint,$(GOLANGCI_LINT_VERSION))

.PHONY: helm
helm: $(HELM) ## Build the helm CLI locally if necessary (go install from the module proxy, minutes when cold).
# Built from source, helm reports its version from this variable.
$(HELM): export GOFLAGS = -ldflags=-X=helm.sh/helm/v4/internal/version.version=$(HELM_VERSION)
$(HELM): $(LOCALBIN)
	$(call go-install-tool,$(HELM),helm.sh/helm/v4/cmd/helm,$(HELM_VERSION))

# go-install-tool will 'go install' any package with custom target and name of binary, if it doesn't exist
# $1 - target path with name of binary
# $2 - package url which can be installed
# $3 - specific version of package
define go-install-tool
@[ -f "$(1)-$(3)" ] && [ "$$(readlink -- "$(1)" 2>/dev/null)" = "$(1)-$(3)" ] || { \
set -e; \
package=$(2)@$(3) ;\
echo "Downloading $${package}" ;\
rm -f "$(1)" ;\
GOBIN="$(LOCALBIN)" go install $${package} ;\
mv "$(1)" "$(1)-$(3)" ;\
} ;\
ln -sf "$$(realpath "$(1)-$(3)")" "$(1)"
endef
