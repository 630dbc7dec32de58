package main

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ospf-operator/ospf-operator/internal/agentcmd"
)

// TestSecureMetrics serves /metrics as the DaemonSet's agent does
// (--metrics-secure) with the agent's service account and RBAC as
// config/default installs them, and checks who gets in: no token 401, a
// token whose account lacks the metrics-reader ClusterRole 403, a token of
// an account bound to it 200, over HTTPS only.
func TestSecureMetrics(t *testing.T) {
	env := &envtest.Environment{}
	c := startEnvtest(t, env, clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	applyAll(ctx, t, c, renderKustomization(t, filepath.Join("..", "config", "default")))

	for _, name := range []string{"scraper", "stranger"} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: deployNamespace, Name: name}}
		if err := c.Create(ctx, sa); err != nil {
			t.Fatal(err)
		}
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "scraper-metrics"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "ospf-operator-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: deployNamespace, Name: "scraper"}},
	}
	if err := c.Create(ctx, binding); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(env.Config)
	token := func(sa string) string {
		tr, err := cs.CoreV1().ServiceAccounts(deployNamespace).CreateToken(ctx, sa,
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("token of %s: %v", sa, err)
		}
		return tr.Status.Token
	}

	// The server asks the API server as the agent's service account, so
	// the test also checks that metrics-auth-role is enough.
	agentCfg := rest.CopyConfig(env.Config)
	agentCfg.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + deployNamespace + ":" + deployServiceAccount,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + deployNamespace, "system:authenticated"},
	}
	httpClient, err := rest.HTTPClientFor(agentCfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := metricsserver.NewServer(agentcmd.MetricsOptions(addr, true), agentCfg, httpClient)
	if err != nil {
		t.Fatal(err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Start(srvCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("metrics server: %v", err)
		}
	})

	// The certificate is self-signed: scrapers skip verification, as
	// kubebuilder's ServiceMonitor does.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // self-signed by design
	}}
	get := func(scheme, bearer string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+"/metrics", nil)
		if err != nil {
			return 0, err
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	var status int
	for deadline := time.Now().Add(30 * time.Second); ; {
		if status, err = get("https", ""); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("metrics server not serving HTTPS on %s: %v", addr, err)
	}
	if status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}
	for _, tc := range []struct {
		who, token string
		want       int
	}{
		{"a token the API server does not know", "not-a-token", http.StatusUnauthorized},
		{"stranger (no metrics-reader)", token("stranger"), http.StatusForbidden},
		{"scraper (metrics-reader)", token("scraper"), http.StatusOK},
	} {
		if got, err := get("https", tc.token); err != nil || got != tc.want {
			t.Errorf("%s: %d %v, want %d", tc.who, got, err, tc.want)
		}
	}
	if got, err := get("http", token("scraper")); err == nil && got == http.StatusOK {
		t.Error("plain HTTP served /metrics")
	}
}
