#!/usr/bin/env bash
# Builds the Kubernetes components of the single-node test cluster
# (test/cluster) from the Go module proxy (module hack/envtest, the same
# k8s.io/kubernetes release as the envtest kube-apiserver) into
# bin/k8s/<version>/, beside the kube-apiserver and etcd of
# hack/build-envtest.sh, which it runs first. A binary that is already there
# is not rebuilt. On success the only line on stdout is the absolute
# directory holding all of them; progress goes to stderr.
#
#   K8S_BIN="$(hack/build-cluster.sh)"
#
# Environment: ENVTEST_K8S_VERSION and LOCALBIN as for hack/build-envtest.sh.
set -euo pipefail

ENVTEST_K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
export ENVTEST_K8S_VERSION

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="${root}/hack/envtest"
out="$("${root}/hack/build-envtest.sh")"

log() { printf 'build-cluster: %s\n' "$*" >&2; }

if command -v flock >/dev/null 2>&1; then
	exec 9>"${out}/.lock"
	flock 9
fi

# The same version stamp as build-envtest.sh gives the kube-apiserver: the
# kubelet reports it as the node's version and kubectl checks it.
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

build() {
	local name="$1"
	if [[ -x "${out}/${name}" ]]; then
		log "${name}: present in ${out}"
		return
	fi
	log "${name}: building k8s.io/kubernetes/cmd/${name} (minutes on a cold cache)"
	local start=${SECONDS}
	(cd "${module}" && CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "${k8s_ldflags}" \
		-o "${out}/.${name}.tmp" "k8s.io/kubernetes/cmd/${name}")
	mv -f "${out}/.${name}.tmp" "${out}/${name}"
	log "${name}: built in $((SECONDS - start)) s"
}

for name in kubelet kube-controller-manager kube-scheduler kubectl; do
	build "${name}"
done

echo "${out}"
