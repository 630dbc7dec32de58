package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// benchEnv is an API server (envtest) for the benchmarks.
type benchEnv struct {
	cfg    *rest.Config
	scheme *runtime.Scheme
	client client.Client
}

// BenchmarkAgent measures the agent against a real kube-apiserver and etcd
// (envtest), fed by the fake ospfd with the NYC mesh LSDB:
//
//   - ColdStartFloor: the API server's own floor for the same writes: a
//     plain client, without client-side rate limit, doing the cold start's
//     server-side applies (one per object: labels and status) from
//     floorWorkers goroutines;
//   - ColdStart: from an empty cluster to every object written and in the
//     agent's cache (its client without client-side rate limit, as against
//     a server with API Priority and Fairness); the API requests and
//     writes it took, and its time as a multiple of the floor's when the
//     floor ran before it (x-floor);
//   - RefreshFlood: every LSA refreshed with the same content; the writes
//     it caused (goal 0), watched for 3s;
//   - LinkChange: one point-to-point link's metric changed at the agent's
//     own router; the writes and the objects whose content changed (goal:
//     equal), time to converged.
func BenchmarkAgent(b *testing.B) {
	env := startBenchEnv(b)
	nyc, err := ospfapitest.LoadSnapshotFile(nycSnapshotPath, ospfapitest.EncodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	nyc10, err := ospfapitest.Clone(nyc, 10)
	if err != nil {
		b.Fatal(err)
	}
	self := netip.MustParseAddr("10.69.2.27")
	b.Run("ColdStartFloor/NYC", func(b *testing.B) { benchColdStartFloor(b, env, nyc, self) })
	b.Run("ColdStart/NYC", func(b *testing.B) { benchColdStart(b, env, nyc, self, "NYC") })
	b.Run("ColdStartFloor/NYCx10", func(b *testing.B) { benchColdStartFloor(b, env, nyc10, self) })
	b.Run("ColdStart/NYCx10", func(b *testing.B) { benchColdStart(b, env, nyc10, self, "NYCx10") })
	b.Run("RefreshFlood/NYC", func(b *testing.B) { benchRefreshFlood(b, env, nyc, self) })
	b.Run("LinkChange/NYC", func(b *testing.B) { benchLinkChange(b, env, nyc, self) })
}

func startBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	assets, err := envtestAssets()
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.Fatal(err)
		}
		b.Skip(err)
	}
	logf.SetLogger(logr.Discard())
	sch := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(sch); err != nil {
		b.Fatal(err)
	}
	if err := ospfv1alpha1.AddToScheme(sch); err != nil {
		b.Fatal(err)
	}
	te := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
		Scheme:                sch,
	}
	cfg, err := te.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := te.Stop(); err != nil {
			b.Error(err)
		}
	})
	c, err := client.New(cfg, client.Options{Scheme: sch})
	if err != nil {
		b.Fatal(err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: agentNamespace}}
	if err := c.Create(context.Background(), ns); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	return &benchEnv{cfg: cfg, scheme: sch, client: c}
}

func (e *benchEnv) start(b *testing.B, lsas []ospfapitest.AreaLSA, self netip.Addr) *agentRun {
	b.Helper()
	r, err := startAgentRun(e.cfg, e.scheme, lsas, self, Options{SnapshotInterval: time.Second}, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

// stop stops the agent and empties the cluster.
func (e *benchEnv) stop(b *testing.B, r *agentRun) {
	b.Helper()
	if err := r.stop(); err != nil {
		b.Error(err)
	}
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: agentNamespace, Name: DefaultConfigMapName}}
	if err := client.IgnoreNotFound(e.client.Delete(ctx, cm)); err != nil {
		b.Fatal(err)
	}
	e.deleteObjects(b)
}

// deleteObjects deletes every OSPFRouter and OSPFNetwork and waits until
// they are gone. A busy server may drop the connection: it tries again.
func (e *benchEnv) deleteObjects(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	waitFor(b, 2*time.Minute, 100*time.Millisecond, func() error {
		for _, obj := range []client.Object{&ospfv1alpha1.OSPFRouter{}, &ospfv1alpha1.OSPFNetwork{}} {
			if err := e.client.DeleteAllOf(ctx, obj); err != nil {
				return err
			}
		}
		var l metav1.PartialObjectMetadataList
		l.SetGroupVersionKind(ospfv1alpha1.GroupVersion.WithKind("OSPFRouterList"))
		if err := e.client.List(ctx, &l); err != nil {
			return err
		}
		if len(l.Items) > 0 {
			return fmt.Errorf("%d routers left", len(l.Items))
		}
		return nil
	})
}

// waitFor polls cond every interval until it succeeds, failing b after
// timeout.
func waitFor(b *testing.B, timeout, interval time.Duration, cond func() error) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(interval)
	}
}

// waitReconciled waits for the first successful reconcile: every object
// written.
func waitReconciled(b *testing.B, r *agentRun) {
	b.Helper()
	waitFor(b, 5*time.Minute, 10*time.Millisecond, func() error {
		if testutil.ToFloat64(r.metrics.Reconciles.WithLabelValues("ok")) < 1 {
			return fmt.Errorf("no reconcile done")
		}
		return nil
	})
}

// checkConverged checks the cluster against the LSDB.
func (e *benchEnv) checkConverged(b *testing.B, r *agentRun) {
	b.Helper()
	waitFor(b, time.Minute, 100*time.Millisecond, func() error { return r.converged(context.Background(), e.client) })
}

// floorWorkers is how many goroutines the floor benchmark writes from:
// more does not make this API server faster on 2 cores.
const floorWorkers = 64

// floors holds the floor benchmark's time per op, by LSDB name, for the
// cold start's ratio.
var floors = map[string]time.Duration{}

func benchColdStart(b *testing.B, e *benchEnv, lsas []ospfapitest.AreaLSA, self netip.Addr, name string) {
	var requests, writes int
	for range b.N {
		r := e.start(b, lsas, self)
		// Converged as the agent's cache shows it: every write landed.
		// Polling the full comparison (the desired state computed again,
		// every object copied out of the cache) would take a core from
		// the API server on this 2-core machine, so the poll first waits
		// for the objects to be there (each is written once, labels and
		// status together), then compares once or a few times.
		ctx := context.Background()
		waitFor(b, 5*time.Minute, 50*time.Millisecond, func() error { return r.allPresent(ctx) })
		waitFor(b, time.Minute, 50*time.Millisecond, func() error {
			return r.converged(ctx, r.agent.client)
		})
		b.StopTimer()
		e.checkConverged(b, r)
		requests += r.requests.total()
		writes += r.requests.writes("ospf")
		e.stop(b, r)
		b.StartTimer()
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	if floor := floors[name]; floor > 0 {
		b.ReportMetric(float64(b.Elapsed())/float64(b.N)/float64(floor), "x-floor")
	}
}

// benchColdStartFloor writes the objects of lsas as the cold start does,
// with a plain client.
func benchColdStartFloor(b *testing.B, e *benchEnv, lsas []ospfapitest.AreaLSA, self netip.Addr) {
	b.StopTimer()
	db := lsdb.New(lsdb.Config{})
	db.BeginSync()
	for _, l := range lsas {
		raw, err := ospf.Marshal(l.LSA)
		if err == nil {
			err = db.Update(l.Area, raw, time.Now())
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	db.EndSync()
	d := DesiredState(db.View(), self, MapOptions{})
	var objs []client.Object
	for _, r := range d.Routers {
		objs = append(objs, r)
	}
	for _, n := range d.Networks {
		objs = append(objs, n)
	}
	cfg := rest.CopyConfig(e.cfg)
	cfg.QPS = -1
	c, err := client.New(cfg, client.Options{Scheme: e.scheme})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	for range b.N {
		b.StartTimer()
		work := make(chan client.Object)
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range floorWorkers {
			wg.Go(func() {
				for obj := range work {
					kind := kindRouter
					if _, ok := obj.(*ospfv1alpha1.OSPFNetwork); ok {
						kind = kindNetwork
					}
					switch o := obj.(type) {
					case *ospfv1alpha1.OSPFRouter:
						finishRouter(o, nil, now, now)
					case *ospfv1alpha1.OSPFNetwork:
						finishNetwork(o, nil, now)
					}
					st, err := statusOf(obj)
					if err != nil {
						b.Error(err)
						continue
					}
					u := applyObject(kind, obj.GetName())
					u.SetLabels(obj.GetLabels())
					u.Object["status"] = st
					if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("floor"), client.ForceOwnership); err != nil {
						failed.Add(1)
					}
				}
			})
		}
		for _, obj := range objs {
			work <- obj.DeepCopyObject().(client.Object)
		}
		close(work)
		wg.Wait()
		b.StopTimer()
		if n := failed.Load(); n > 0 {
			b.Fatalf("%d writes failed", n)
		}
		e.deleteObjects(b)
	}
	name := "NYC"
	if len(d.Routers) > 1000 {
		name = "NYCx10"
	}
	floors[name] = b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(len(objs)), "writes/op")
}

// allPresent reports whether the agent's cache holds as many OSPFRouters
// and OSPFNetworks as the LSDB asks for: a cheap test to poll before the
// full comparison of converged. The desired counts are computed once.
func (r *agentRun) allPresent(ctx context.Context) error {
	if !r.db.Loaded() {
		return errors.New("LSDB not loaded")
	}
	if r.wantRouters < 0 {
		self, _ := r.mirror.RouterID()
		d := DesiredState(r.db.View(), self, MapOptions{MaxInlineExternals: r.agent.opts.MaxInlineExternals})
		r.wantRouters, r.wantNetworks = len(d.Routers), len(d.Networks)
	}
	var routers ospfv1alpha1.OSPFRouterList
	var networks ospfv1alpha1.OSPFNetworkList
	if err := r.agent.client.List(ctx, &routers, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	if err := r.agent.client.List(ctx, &networks, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	if len(routers.Items) < r.wantRouters || len(networks.Items) < r.wantNetworks {
		return fmt.Errorf("%d of %d routers, %d of %d networks", len(routers.Items), r.wantRouters, len(networks.Items), r.wantNetworks)
	}
	return nil
}

func (r *agentRun) allWrites() int {
	return r.requests.writes("ospf") + r.requests.writes("configmaps") + r.requests.writes("events")
}

func benchRefreshFlood(b *testing.B, e *benchEnv, lsas []ospfapitest.AreaLSA, self netip.Addr) {
	b.StopTimer()
	r := e.start(b, lsas, self)
	defer e.stop(b, r)
	waitReconciled(b, r)
	e.checkConverged(b, r)
	time.Sleep(2 * time.Second) // the snapshot ConfigMap written, the cache caught up
	var writes, refreshed int
	for range b.N {
		before := r.allWrites()
		updates := r.db.Stats().Updates
		b.StartTimer()
		n, err := r.srv.RefreshAll()
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, time.Minute, 10*time.Millisecond, func() error {
			if got := r.db.Stats().Updates; got < updates+uint64(n) {
				return fmt.Errorf("%d of %d updates applied", got-updates, n)
			}
			return nil
		})
		// Past the reinstall window, the debounce and a snapshot interval.
		// Timed, so that the benchmark runs it once and not for a second
		// of timed work: ns/op is this 3s watch plus the flood's load.
		time.Sleep(3 * time.Second)
		b.StopTimer()
		writes += r.allWrites() - before
		refreshed += n
	}
	b.ReportMetric(float64(refreshed)/float64(b.N), "lsas/op")
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
}

func benchLinkChange(b *testing.B, e *benchEnv, lsas []ospfapitest.AreaLSA, self netip.Addr) {
	b.StopTimer()
	r := e.start(b, lsas, self)
	defer e.stop(b, r)
	waitReconciled(b, r)
	e.checkConverged(b, r)
	time.Sleep(2 * time.Second)
	ctx := context.Background()
	versionsOf := func() map[string]string {
		out := map[string]string{}
		var l metav1.PartialObjectMetadataList
		l.SetGroupVersionKind(ospfv1alpha1.GroupVersion.WithKind("OSPFRouterList"))
		if err := e.client.List(ctx, &l); err != nil {
			b.Fatal(err)
		}
		for _, o := range l.Items {
			out[o.Name] = o.ResourceVersion
		}
		return out
	}
	var writes, changed int
	for i := range b.N {
		before := versionsOf()
		w := r.requests.writes("ospf")
		b.StartTimer()
		seq := r.db.Feed().LastSeq()
		if err := r.srv.SetLinkMetric(netip.IPv4Unspecified(), self, 0, uint16(1000+i%2)); err != nil {
			b.Fatal(err)
		}
		// The LSDB has the change before the cluster can be compared with it.
		waitFor(b, time.Minute, time.Millisecond, func() error {
			if r.db.Feed().LastSeq() == seq {
				return fmt.Errorf("change not in the LSDB")
			}
			return nil
		})
		waitFor(b, time.Minute, 50*time.Millisecond, func() error { return r.converged(ctx, e.client) })
		b.StopTimer()
		time.Sleep(300 * time.Millisecond) // let any late write land
		writes += r.requests.writes("ospf") - w
		for k, v := range versionsOf() {
			if before[k] != v {
				changed++
			}
		}
	}
	b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	b.ReportMetric(float64(changed)/float64(b.N), "objects/op")
}
