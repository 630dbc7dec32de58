#!/usr/bin/env bash
# Builds the kube-apiserver and etcd that the envtest-based tests run against,
# from the Go module proxy (module hack/envtest), into bin/k8s/<version>/.
# A binary that is already there is not rebuilt, so the script is cheap to run
# before every test. On success the only line on stdout is the absolute
# directory to use as KUBEBUILDER_ASSETS; progress goes to stderr.
#
#   KUBEBUILDER_ASSETS="$(hack/build-envtest.sh)" go test ./internal/controller/...
#
# Environment: ENVTEST_K8S_VERSION (default 1.37.2) must match the
# k8s.io/kubernetes version required in hack/envtest/go.mod; LOCALBIN
# (default <repo>/bin) is where bin/k8s/<version>/ is created.
set -euo pipefail

ENVTEST_K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="${root}/hack/envtest"
localbin="${LOCALBIN:-${root}/bin}"
out="${localbin}/k8s/${ENVTEST_K8S_VERSION}"

log() { printf 'build-envtest: %s\n' "$*" >&2; }

required="$(cd "${module}" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
if [[ "${required}" != "v${ENVTEST_K8S_VERSION}" ]]; then
	log "ENVTEST_K8S_VERSION=${ENVTEST_K8S_VERSION} but hack/envtest/go.mod requires k8s.io/kubernetes ${required}"
	exit 1
fi

mkdir -p "${out}"

# Serialise concurrent runs (several engineers and test runs share the tree):
# the second waits for the first and then finds the binaries built.
if command -v flock >/dev/null 2>&1; then
	exec 9>"${out}/.lock"
	flock 9
fi

# Stamp the same variables as Kubernetes' hack/lib/version.sh, or clients
# (kubectl, discovery) cannot parse the server version.
major="${ENVTEST_K8S_VERSION%%.*}"
minor="${ENVTEST_K8S_VERSION#*.}"
minor="${minor%%.*}"
k8s_ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	k8s_ldflags+=" -X ${pkg}.gitVersion=v${ENVTEST_K8S_VERSION}"
	k8s_ldflags+=" -X ${pkg}.gitMajor=${major}"
	k8s_ldflags+=" -X ${pkg}.gitMinor=${minor}"
	k8s_ldflags+=" -X ${pkg}.gitTreeState=clean"
done

# build NAME PACKAGE LDFLAGS: builds into a temporary file and renames it, so
# an interrupted build never leaves a binary that looks complete.
build() {
	local name="$1" pkg="$2" ldflags="$3"
	if [[ -x "${out}/${name}" ]]; then
		log "${name}: present in ${out}"
		return
	fi
	log "${name}: building ${pkg} (several minutes on a cold cache)"
	local start=${SECONDS}
	(cd "${module}" && CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "${ldflags}" \
		-o "${out}/.${name}.tmp" "${pkg}")
	mv -f "${out}/.${name}.tmp" "${out}/${name}"
	log "${name}: built in $((SECONDS - start)) s"
}

build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "${k8s_ldflags}"
build etcd ./etcd "-s -w"

echo "${out}"
