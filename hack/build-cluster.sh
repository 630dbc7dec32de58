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

k8s_log_name=build-cluster
# shellcheck source=hack/lib/build-k8s.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/build-k8s.sh"

k8s_out="$("${k8s_root}/hack/build-envtest.sh")"
k8s_lock

for name in kubelet kube-controller-manager kube-scheduler kubectl; do
	k8s_build "${name}" "k8s.io/kubernetes/cmd/${name}"
done

echo "${k8s_out}"
