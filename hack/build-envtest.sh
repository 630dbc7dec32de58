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

k8s_log_name=build-envtest
# shellcheck source=hack/lib/build-k8s.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/build-k8s.sh"

k8s_check_version
k8s_lock

k8s_build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
k8s_build etcd ./etcd "-s -w"

echo "${k8s_out}"
