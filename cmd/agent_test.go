package main

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/controller"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// agentEnv is an API server with the CRDs and the agent's namespace, and
// a kubeconfig for it.
type agentEnv struct {
	c          client.Client
	kubeconfig string
	namespace  string
}

func startAgentEnv(t *testing.T) *agentEnv {
	t.Helper()
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	c := startEnvtest(t, env, clientgoscheme.AddToScheme, ospfv1alpha1.AddToScheme)
	e := &agentEnv{c: c, namespace: "ospf-operator-system"}
	e.kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(e.kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.namespace}}); err != nil {
		t.Fatal(err)
	}
	return e
}

// agentProc is the agent binary running as a subprocess.
type agentProc struct {
	pod     string
	cmd     *exec.Cmd
	health  string // the probes' base URL
	metrics string
	log     *lockedBuffer
	exited  chan struct{}
}

func startAgentProc(t *testing.T, bin string, e *agentEnv, pod, server string, extra ...string) *agentProc {
	t.Helper()
	p := &agentProc{pod: pod, log: &lockedBuffer{}, exited: make(chan struct{})}
	health, metrics := streamtest.FreeAddr(t), streamtest.FreeAddr(t)
	p.health, p.metrics = "http://"+health, "http://"+metrics
	args := append([]string{"agent", "--server=" + server, "--leader-elect",
		"--kubeconfig=" + e.kubeconfig, "--pod-name=" + pod,
		"--metrics-bind-address=" + metrics, "--metrics-secure=false", "--health-probe-bind-address=" + health,
		"--leader-elect-lease-duration=3s", "--leader-elect-renew-deadline=2s", "--leader-elect-retry-period=500ms",
		"--agreement-interval=250ms", "--snapshot-interval=1s"}, extra...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), "POD_NAMESPACE="+e.namespace, "KUBECONFIG=")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(20 * time.Second):
			p.signal(syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", pod, p.log)
		}
	})
	return p
}

func (p *agentProc) signal(s syscall.Signal) { _ = p.cmd.Process.Signal(s) }

// probe returns the status code and body of a GET, 0 when nothing answers.
func probe(url string) (int, string) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *agentEnv) leaseHolder(name string) string {
	var l coordinationv1.Lease
	if err := e.c.Get(context.Background(), client.ObjectKey{Namespace: e.namespace, Name: name}, &l); err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// nycRouters is the number of OSPFRouters the NYC LSDB makes.
func nycRouters(t *testing.T) int {
	t.Helper()
	js, err := os.ReadFile(nycPath)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := lsdb.ParseSnapshot(js)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, a := range snap.Areas {
		for id := range a.Routers {
			ids[id] = true
		}
	}
	return len(ids)
}

// TestAgentBinary runs the built binary twice against a real API server
// and the fake ospfd serving the NYC LSDB, as the DaemonSet runs it: not
// ready until synced, the resources and the ConfigMap appear, one leader,
// and the other takes over when the leader is killed.
func TestAgentBinary(t *testing.T) {
	e := startAgentEnv(t)
	bin := buildOperator(t)
	ctx := context.Background()
	srv := nycServer(t, ospfapitest.Config{RouterID: netip.MustParseAddr("10.69.2.27")})
	addr := srv.Addr()
	srv.Stop() // ospfd is not there yet

	g := gomega.NewWithT(t)
	g.SetDefaultEventuallyPollingInterval(50 * time.Millisecond)
	// statusOf polls url's status code, 0 while nothing answers.
	statusOf := func(url string) func() int {
		return func() int { c, _ := probe(url); return c }
	}

	a := startAgentProc(t, bin, e, "agent-0", addr)
	g.Eventually(statusOf(a.health+"/healthz")).WithTimeout(30*time.Second).Should(gomega.Equal(http.StatusOK), "/healthz")
	if code, body := probe(a.health + "/readyz?verbose"); code == http.StatusOK || !strings.Contains(body, "[-]ospfd failed") {
		t.Fatalf("/readyz before ospfd answers: %d %q, want a failure of the ospfd check", code, body)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	g.Eventually(statusOf(a.health+"/readyz")).WithTimeout(30*time.Second).Should(gomega.Equal(http.StatusOK), "/readyz once synced")

	g.Eventually(func() (int, error) {
		var routers ospfv1alpha1.OSPFRouterList
		err := e.c.List(ctx, &routers)
		return len(routers.Items), err
	}).WithTimeout(60*time.Second).Should(gomega.Equal(nycRouters(t)), "the number of OSPFRouters: one per router of the NYC LSDB")
	g.Eventually(func() error {
		var cm corev1.ConfigMap
		return e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: controller.DefaultConfigMapName}, &cm)
	}).WithTimeout(30*time.Second).Should(gomega.Succeed(), "the ospf-lsdb ConfigMap")
	if holder := e.leaseHolder(controller.DefaultLeaseName); !strings.HasPrefix(holder, "agent-0_") {
		t.Errorf("leader Lease held by %q, want agent-0", holder)
	}
	_, metrics := probe(a.metrics + "/metrics")
	for _, line := range []string{"ospf_operator_leader 1", "ospf_operator_ospfd_session_up 1", `ospf_operator_lsas{area="0.0.0.0",type="router"}`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}

	b := startAgentProc(t, bin, e, "agent-1", addr)
	g.Eventually(statusOf(b.health+"/readyz")).WithTimeout(30*time.Second).Should(gomega.Equal(http.StatusOK), "agent-1 ready")
	g.Eventually(func() (string, error) {
		var l coordinationv1.Lease
		err := e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: "agent-1"}, &l)
		return l.Annotations[controller.AnnotationSynced], err
	}).WithTimeout(10*time.Second).Should(gomega.Equal("true"), "agent-1's Lease saying it is synced")
	if _, m := probe(b.metrics + "/metrics"); !strings.Contains(m, "ospf_operator_leader 0") {
		t.Errorf("agent-1 leads next to agent-0")
	}

	killed := time.Now()
	a.signal(syscall.SIGKILL)
	<-a.exited
	g.Eventually(func() string { return e.leaseHolder(controller.DefaultLeaseName) }).
		WithTimeout(3*time.Second+5*time.Second).Should(gomega.HavePrefix("agent-1_"), "agent-1 leading after agent-0 was killed")
	t.Logf("agent-1 took over %v after agent-0 was killed", time.Since(killed).Round(time.Millisecond))
	g.Eventually(func() float64 { _, m := probe(b.metrics + "/metrics"); return metricValue(m, "ospf_operator_leader") }).
		WithTimeout(10*time.Second).Should(gomega.Equal(1.0), "agent-1's metrics saying it leads")
	g.Eventually(func() error {
		var l coordinationv1.Lease
		return e.c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: "agent-0"}, &l)
	}).WithTimeout(30*time.Second).Should(gomega.Satisfy(apierrors.IsNotFound), "the Lease of the killed agent deleted once expired")
}
