/*
Copyright 2026 The ospf-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
)

// envtestK8sVersion is the version hack/build-envtest.sh builds; the suite
// looks for its binaries in bin/k8s/<version>/ unless KUBEBUILDER_ASSETS says
// otherwise.
const envtestK8sVersion = "1.37.2"

var (
	ctx       context.Context
	cancel    context.CancelFunc
	testEnv   *envtest.Environment
	cfg       *rest.Config
	k8sClient client.Client
	scheme    = runtime.NewScheme()
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controller Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	ctx, cancel = context.WithCancel(context.TODO())

	assets, err := envtestAssets()
	if err != nil {
		if os.Getenv("CI") == "true" {
			Fail(err.Error())
		}
		Skip(err.Error())
	}

	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(ospfv1alpha1.AddToScheme(scheme)).To(Succeed())

	By("bootstrapping the test environment from " + assets)
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		Scheme:                scheme,
	}
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())
	Expect(cfg).NotTo(BeNil())

	// ENVTEST_KUBECONFIG lets a person look at the server while the suite
	// runs (kubectl --kubeconfig "$ENVTEST_KUBECONFIG" get ospf).
	if path := os.Getenv("ENVTEST_KUBECONFIG"); path != "" {
		Expect(os.WriteFile(path, testEnv.KubeConfig, 0o600)).To(Succeed())
	}

	k8sClient, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	Expect(k8sClient).NotTo(BeNil())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if testEnv == nil {
		return
	}
	By("tearing down the test environment")
	Expect(testEnv.Stop()).To(Succeed())
})

// envtestAssets returns the directory holding kube-apiserver and etcd:
// $KUBEBUILDER_ASSETS, or bin/k8s/<version> as hack/build-envtest.sh leaves it.
func envtestAssets() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "bin", "k8s", envtestK8sVersion)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		fi, err := os.Stat(filepath.Join(abs, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("envtest binary %s missing in %s: build it with hack/build-envtest.sh (or set KUBEBUILDER_ASSETS)", name, abs)
		}
	}
	return abs, nil
}
