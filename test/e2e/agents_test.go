//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/onsi/gomega"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/controller"
	"github.com/ospf-operator/ospf-operator/internal/demo"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// e2eAgent is one `ospf-operator agent` process of TestAgentsOnFRR,
// attached to one lab router's ospfd over its own host link.
type e2eAgent struct {
	name   string // its pod name
	router string // the lab router whose ospfd it follows
	args   []string
	env    []string
	health string // its /healthz and /readyz address
	procs  *demo.Processes
}

// TestAgentsOnFRR is the agent's end-to-end test: a real FRR network, a
// real API server, and two agents (the real binary, with the DaemonSet's
// arguments) attached to different routers, electing a leader. It changes
// the network through vtysh and checks the resources, the ConfigMap and
// the Events; kills the leader and checks that the other takes over
// without deleting or re-creating anything and without a burst of Events;
// stops the ospfd under the new leader and checks that it gives up
// leadership within 15 s; and stops the API server while the network
// changes, and checks that the agents converge once it is back.
func TestAgentsOnFRR(t *testing.T) {
	bin, assets := requireDemoMachine(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	const prefix = "ooe2eha"

	lab, err := frrlab.Up(ctx, frrlab.Options{Prefix: prefix, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Logf("FRR logs:\n%s", lab.LogTails())
		}
		if err := lab.Down(); err != nil {
			t.Error(err)
		}
	}()

	// The API server keeps its certificates in a directory of ours, so
	// that it can be stopped and started again with the same ones.
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, ospfv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	// Step 5 stops the API server: if it does not stop gracefully within
	// envtest's StopTimeout (it has not, with the agents connected, since
	// they hold more watches), envtest kills it, an outage all the same.
	env.ControlPlane.APIServer = &envtest.APIServer{CertDir: t.TempDir()}
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("starting the API server: %v", err)
	}
	defer func() {
		if err := env.Stop(); err != nil {
			t.Error(err)
		}
	}()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demo.Namespace}}); err != nil {
		t.Fatal(err)
	}

	manifestAgent, _, err := demo.ManifestArgs(filepath.Join("..", "..", "config", "manager", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Two agents on different routers of the backbone, each over its own
	// /30 host link; shorter leases than the defaults so that the test
	// does not wait 15 s for an expiry.
	var agents []*e2eAgent
	for i, routerName := range []string{"r2", "r4"} {
		r, err := lab.Router(routerName)
		if err != nil {
			t.Fatal(err)
		}
		base := netip.AddrFrom4([4]byte{198, 18, 1, byte(4 * i)})
		hostSide, routerSide := netip.PrefixFrom(base.Next(), 30), netip.PrefixFrom(base.Next().Next(), 30)
		hostIf := fmt.Sprintf("%s-h%d", prefix, i)
		if err := demo.HostLink(ctx, hostIf, r, hostSide, routerSide); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := demo.RemoveLink(hostIf); err != nil {
				t.Error(err)
			}
		}()
		a := &e2eAgent{name: fmt.Sprintf("agent-%d", i), router: routerName, procs: &demo.Processes{Dir: dir}}
		a.args = append(demo.Override(manifestAgent, 300+10*i, map[string]string{"--server": routerSide.Addr().String()}),
			"--kubeconfig="+kubeconfig,
			"--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s", "--leader-elect-retry-period=1s",
			"--snapshot-interval=1s", "--holddown=1s", "--agreement-interval=1s")
		a.health = demo.LocalAddr(demo.FlagValue(a.args, "--health-probe-bind-address"))
		a.env = append(os.Environ(), "POD_NAMESPACE="+demo.Namespace, "POD_NAME="+a.name)
		agents = append(agents, a)
	}
	start := func(a *e2eAgent) {
		t.Helper()
		a.procs = &demo.Processes{Dir: dir}
		if err := a.procs.Start(ctx, a.name, bin, a.args, a.env); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, a := range agents {
			if err := a.procs.Stop(); err != nil {
				t.Error(err)
			}
			if t.Failed() {
				t.Logf("%s log:\n%s", a.name, demo.Tail(filepath.Join(dir, a.name+".log"), 60))
			}
		}
	}()
	for _, a := range agents {
		t.Logf("starting %s: ospf-operator %s", a.name, strings.Join(a.args, " "))
		start(a)
	}

	// 1. Both agents sync; one leads; the network is mirrored.
	for _, a := range agents {
		mustWait(ctx, t, a.name+" ready (synced with its ospfd)", func() error { return getOK("http://" + a.health + "/readyz") })
	}
	leader := waitLeader(ctx, t, c, agents, nil)
	t.Logf("leader: %s (on %s)", leader.name, leader.router)
	mustWait(ctx, t, "an OSPFRouter for every lab router", func() error { return routersMirrored(ctx, c, lab) })
	// The agents follow backbone routers: area 1, where bit V is, is not
	// theirs.
	mustWait(ctx, t, "the lab's flags, route tags and DR address in the objects and their Table", func() error {
		return labFieldsMirrored(ctx, c, cfg, false)
	})

	// 2. A cost change reaches the resource, the ConfigMap and an Event.
	r2, _ := lab.Router("r2")
	r3, _ := lab.Router("r3")
	changeCost := func(cost int32) {
		t.Helper()
		if err := lab.Configure("r2", "interface eth-r3", fmt.Sprintf("ip ospf cost %d", cost)); err != nil {
			t.Fatal(err)
		}
		mustWait(ctx, t, fmt.Sprintf("r2's link to r3 at cost %d in its OSPFRouter", cost), func() error {
			return routerLinkMetric(ctx, c, r2.ID, r3.ID, cost)
		})
		mustWait(ctx, t, fmt.Sprintf("r2's link to r3 at cost %d in the ospf-lsdb ConfigMap", cost), func() error {
			return configMapLinkMetric(ctx, c, r2.ID, r3.ID, cost)
		})
	}
	before := time.Now().Add(-time.Second)
	changeCost(50)
	mustWait(ctx, t, "an Event on r2's OSPFRouter", func() error {
		evs, err := eventsSince(ctx, c, before)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.Regarding.Kind == "OSPFRouter" && e.Regarding.Name == r2.ID.String() {
				return nil
			}
		}
		return fmt.Errorf("%d events since the change, none on %s", len(evs), r2.ID)
	})

	// 3. Kill the leader: the other takes over, deletes nothing, emits no
	// burst of Events, and follows the next change.
	uids := objectUIDs(ctx, t, c)
	killed := time.Now()
	if err := leader.procs.Kill(0); err != nil {
		t.Fatal(err)
	}
	follower := waitLeader(ctx, t, c, agents, leader)
	t.Logf("%s took over %s after %v", follower.name, leader.name, time.Since(killed).Round(100*time.Millisecond))
	changeCost(60)
	if got := objectUIDs(ctx, t, c); !maps.Equal(got, uids) {
		t.Errorf("objects after the failover differ from before it (deleted, re-created or added):\nbefore %v\nafter  %v", uids, got)
	}
	evs, err := eventsSince(ctx, c, killed.Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Regarding.Name != r2.ID.String() {
			t.Errorf("event after the failover on %s %s (%s: %s): only r2 changed", e.Regarding.Kind, e.Regarding.Name, e.Reason, e.Note)
		}
	}

	// 4. The old leader comes back as a follower. The new leader's ospfd
	// stops: it gives up leadership within 15 s and the other takes over.
	start(leader)
	mustWait(ctx, t, leader.name+" ready again", func() error { return getOK("http://" + leader.health + "/readyz") })
	stopped := time.Now()
	if err := lab.StopDaemon(follower.router, "ospfd"); err != nil {
		t.Fatal(err)
	}
	back := waitLeader(ctx, t, c, agents, follower)
	if took := time.Since(stopped); took > 15*time.Second+2*time.Second {
		// 2 s: the poll interval and the clock of the Lease's renewTime.
		t.Errorf("%s gave up leadership %v after its ospfd stopped, want within 15 s", follower.name, took.Round(100*time.Millisecond))
	}
	t.Logf("%s leads again %v after %s's ospfd stopped", back.name, time.Since(stopped).Round(100*time.Millisecond), follower.router)
	if err := lab.StartDaemon(ctx, follower.router, "ospfd"); err != nil {
		t.Fatal(err)
	}
	if err := lab.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	mustWait(ctx, t, "every lab router mirrored after the restart of an ospfd", func() error { return routersMirrored(ctx, c, lab) })

	// 4b. The leader's ospfd freezes (SIGSTOP) rather than exits: the
	// session's probes notice, and the leader still gives up within 15 s.
	frozen := back
	if frozen.procs == follower.procs {
		t.Fatal("internal: the frozen agent is the follower")
	}
	fr, _ := lab.Router(frozen.router)
	pid := ospfdPID(t, fr)
	stopped = time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				t.Error(err)
			}
		}
	}
	defer thaw()
	next := waitLeader(ctx, t, c, agents, frozen)
	if took := time.Since(stopped); took > 15*time.Second+2*time.Second {
		t.Errorf("%s gave up leadership %v after its ospfd froze, want within 15 s", frozen.name, took.Round(100*time.Millisecond))
	}
	t.Logf("%s leads %v after %s's ospfd froze", next.name, time.Since(stopped).Round(100*time.Millisecond), frozen.router)
	thaw()
	if err := lab.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	mustWait(ctx, t, "every lab router mirrored after ospfd thawed", func() error { return routersMirrored(ctx, c, lab) })

	// 5. The API server stops while the network changes; once it is back,
	// the agents converge on the change.
	api := env.ControlPlane.APIServer
	if err := api.Stop(); err != nil {
		if !strings.Contains(err.Error(), "timeout waiting for process") {
			t.Fatalf("stopping the API server: %v", err)
		}
		t.Logf("the API server did not stop within %v of SIGTERM and was killed: %v", api.StopTimeout, err)
	}
	// Killed or stopped, its port must be free before it starts again.
	apiAddr := net.JoinHostPort(api.Address, api.Port)
	gomega.NewWithT(t).Eventually(func() error {
		conn, err := net.DialTimeout("tcp", apiAddr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
			return fmt.Errorf("%s still accepts connections", apiAddr)
		}
		return nil
	}).WithTimeout(30 * time.Second).WithPolling(100 * time.Millisecond).Should(gomega.Succeed())
	external := netip.MustParsePrefix("192.0.2.0/24")
	if err := lab.Configure("r4", "ip route "+external.String()+" Null0"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // the agents fail to reach it, and the leader's lease runs out
	if err := api.Start(); err != nil {
		t.Fatalf("starting the API server again: %v", err)
	}
	r4, _ := lab.Router("r4")
	mustWait(ctx, t, "r4's new external in its OSPFRouter after the API server's restart", func() error {
		var r ospfv1alpha1.OSPFRouter
		if err := c.Get(ctx, client.ObjectKey{Name: r4.ID.String()}, &r); err != nil {
			return err
		}
		for _, x := range r.Status.Externals {
			if x.Prefix == external.String() {
				return nil
			}
		}
		return fmt.Errorf("externals %+v", r.Status.Externals)
	})
	waitLeader(ctx, t, c, agents, nil)
}

// ospfdPID reads the pid of router's ospfd from its pid file.
func ospfdPID(t *testing.T, r frrlab.Router) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(r.Dir, "ospfd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Fatalf("ospfd pid file of %s: %q", r.Name, data)
	}
	return pid
}

// mustWait is waitFor that ends the test on a timeout.
func mustWait(ctx context.Context, t *testing.T, what string, check func() error) {
	t.Helper()
	waitFor(ctx, t, what, check)
	if t.Failed() {
		t.FailNow()
	}
}

// waitLeader waits until one of agents other than not holds the leader
// Lease, and returns it.
func waitLeader(ctx context.Context, t *testing.T, c client.Client, agents []*e2eAgent, not *e2eAgent) *e2eAgent {
	t.Helper()
	var leader *e2eAgent
	mustWait(ctx, t, "a leader", func() error {
		var l coordinationv1.Lease
		if err := c.Get(ctx, types.NamespacedName{Namespace: demo.Namespace, Name: controller.DefaultLeaseName}, &l); err != nil {
			return err
		}
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		for _, a := range agents {
			if a != not && strings.HasPrefix(holder, a.name+"_") {
				leader = a
				return nil
			}
		}
		return fmt.Errorf("lease held by %q", holder)
	})
	return leader
}

func getOK(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", url, resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

func routersMirrored(ctx context.Context, c client.Client, lab *frrlab.Lab) error {
	var list ospfv1alpha1.OSPFRouterList
	if err := c.List(ctx, &list); err != nil {
		return err
	}
	var have, want []string
	for _, r := range list.Items {
		have = append(have, r.Name)
	}
	for _, r := range lab.Routers() {
		want = append(want, r.ID.String())
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		return fmt.Errorf("OSPFRouters %v, want %v", have, want)
	}
	return nil
}

func routerLinkMetric(ctx context.Context, c client.Client, router, peer netip.Addr, metric int32) error {
	var r ospfv1alpha1.OSPFRouter
	if err := c.Get(ctx, client.ObjectKey{Name: router.String()}, &r); err != nil {
		return err
	}
	for _, a := range r.Status.Areas {
		for _, l := range a.Links.Router {
			if l.ID == peer.String() && l.Metric == metric {
				return nil
			}
		}
	}
	return fmt.Errorf("status areas %+v", r.Status.Areas)
}

// configMapLinkMetric checks the snapshot in the ospf-lsdb ConfigMap, plain
// or gzipped, for router's link to peer at metric.
func configMapLinkMetric(ctx context.Context, c client.Client, router, peer netip.Addr, metric int32) error {
	var cm corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKey{Namespace: demo.Namespace, Name: "ospf-lsdb"}, &cm); err != nil {
		return err
	}
	data := []byte(cm.Data["lsdb.json"])
	if gz, ok := cm.BinaryData["lsdb.json.gz"]; ok {
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return err
		}
		if data, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	var snap lsdb.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("ConfigMap snapshot: %w", err)
	}
	for _, area := range snap.Areas {
		if rs, ok := area.Routers[router.String()]; ok {
			for _, l := range rs.Links.Router {
				if l.ID == peer.String() && int32(l.Metric) == metric {
					return nil
				}
			}
			return fmt.Errorf("router links %+v", rs.Links.Router)
		}
	}
	return fmt.Errorf("no router %s in the ConfigMap's snapshot", router)
}

func eventsSince(ctx context.Context, c client.Client, since time.Time) ([]eventsv1.Event, error) {
	var list eventsv1.EventList
	if err := c.List(ctx, &list); err != nil {
		return nil, err
	}
	var out []eventsv1.Event
	for _, e := range list.Items {
		if !e.CreationTimestamp.Time.Before(since.Truncate(time.Second)) {
			out = append(out, e)
		}
	}
	return out, nil
}

// objectUIDs maps every OSPFRouter and OSPFNetwork to its UID.
func objectUIDs(ctx context.Context, t *testing.T, c client.Client) map[string]types.UID {
	t.Helper()
	out := map[string]types.UID{}
	var routers ospfv1alpha1.OSPFRouterList
	var nets ospfv1alpha1.OSPFNetworkList
	if err := c.List(ctx, &routers); err != nil {
		t.Fatal(err)
	}
	if err := c.List(ctx, &nets); err != nil {
		t.Fatal(err)
	}
	for _, r := range routers.Items {
		out["router/"+r.Name] = r.UID
	}
	for _, n := range nets.Items {
		out["network/"+n.Name] = n.UID
	}
	return out
}
