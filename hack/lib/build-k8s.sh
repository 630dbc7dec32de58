# shellcheck shell=bash
# The part of hack/build-envtest.sh and hack/build-cluster.sh that they
# share, sourced by both: where the Kubernetes binaries go, the lock that
# serialises concurrent runs, the version stamp, and the build of one binary
# from the module hack/envtest.
#
# The sourcing script sets k8s_log_name (the prefix of its progress lines)
# first. Sourcing sets ENVTEST_K8S_VERSION (default 1.37.2) and exports it,
# and sets k8s_root (the repository), k8s_module (hack/envtest), k8s_out
# (bin/k8s/<version>, under LOCALBIN when set) and k8s_ldflags (the stamp).

ENVTEST_K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
export ENVTEST_K8S_VERSION

k8s_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
k8s_module="${k8s_root}/hack/envtest"
k8s_out="${LOCALBIN:-${k8s_root}/bin}/k8s/${ENVTEST_K8S_VERSION}"

k8s_log() { printf '%s: %s\n' "${k8s_log_name}" "$*" >&2; }

# k8s_check_version: fails unless hack/envtest/go.mod requires the
# k8s.io/kubernetes release ENVTEST_K8S_VERSION names.
k8s_check_version() {
	local required
	required="$(cd "${k8s_module}" && go list -m -f '{{.Version}}' k8s.io/kubernetes)"
	if [[ "${required}" != "v${ENVTEST_K8S_VERSION}" ]]; then
		k8s_log "ENVTEST_K8S_VERSION=${ENVTEST_K8S_VERSION} but hack/envtest/go.mod requires k8s.io/kubernetes ${required}"
		return 1
	fi
}

# k8s_lock: creates k8s_out and holds its lock (fd 9) until the script
# exits. Several engineers and test runs share the tree: the second run waits
# for the first and then finds the binaries built.
k8s_lock() {
	mkdir -p "${k8s_out}"
	if command -v flock >/dev/null 2>&1; then
		exec 9>"${k8s_out}/.lock"
		flock 9
	fi
}

# Stamp the same variables as Kubernetes' hack/lib/version.sh, or clients
# (kubectl, discovery) cannot parse the server version; the kubelet reports
# it as the node's version.
k8s_major="${ENVTEST_K8S_VERSION%%.*}"
k8s_minor="${ENVTEST_K8S_VERSION#*.}"
k8s_minor="${k8s_minor%%.*}"
k8s_ldflags="-s -w"
for k8s_pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	k8s_ldflags+=" -X ${k8s_pkg}.gitVersion=v${ENVTEST_K8S_VERSION}"
	k8s_ldflags+=" -X ${k8s_pkg}.gitMajor=${k8s_major}"
	k8s_ldflags+=" -X ${k8s_pkg}.gitMinor=${k8s_minor}"
	k8s_ldflags+=" -X ${k8s_pkg}.gitTreeState=clean"
done
unset k8s_pkg

# k8s_build NAME PACKAGE [LDFLAGS]: builds PACKAGE (in hack/envtest) into
# k8s_out/NAME unless that is there, with LDFLAGS (default the stamp). It
# builds into a temporary file and renames it, so an interrupted build never
# leaves a binary that looks complete.
k8s_build() {
	local name="$1" pkg="$2" ldflags="${3:-${k8s_ldflags}}"
	if [[ -x "${k8s_out}/${name}" ]]; then
		k8s_log "${name}: present in ${k8s_out}"
		return
	fi
	k8s_log "${name}: building ${pkg} (minutes on a cold cache)"
	local start=${SECONDS}
	(cd "${k8s_module}" && CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "${ldflags}" \
		-o "${k8s_out}/.${name}.tmp" "${pkg}")
	mv -f "${k8s_out}/.${name}.tmp" "${k8s_out}/${name}"
	k8s_log "${name}: built in $((SECONDS - start)) s"
}
