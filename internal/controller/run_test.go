package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// agentNamespace holds the snapshot ConfigMap of the agents under test.
const agentNamespace = "ospf-agent-test"

// agentRun is an agent publishing the LSDB of a fake ospfd to an API
// server, through a mirror, as the agent subcommand runs it. It is shared
// by the Ginkgo specs and the benchmarks.
type agentRun struct {
	srv      *ospfapitest.Server
	db       *lsdb.DB
	mirror   *mirror.Mirror
	agent    *Agent
	metrics  *Metrics
	requests *requestCounter
	started  time.Time

	// wantRouters and wantNetworks are the object counts the LSDB asks
	// for, once allPresent has computed them (-1 before).
	wantRouters, wantNetworks int

	cancel context.CancelFunc
	done   sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// startAgentRun starts a fake ospfd serving lsas with router ID self, a
// mirror and an agent with opts (in agentNamespace), with a manager of
// its own on restCfg.
func startAgentRun(restCfg *rest.Config, sch *runtime.Scheme, lsas []ospfapitest.AreaLSA, self netip.Addr,
	opts Options, log io.Writer) (*agentRun, error) {
	r := &agentRun{db: lsdb.New(lsdb.Config{}), metrics: NewMetrics(), requests: &requestCounter{}, wantRouters: -1, wantNetworks: -1}
	var err error
	if r.srv, err = ospfapitest.NewServer(ospfapitest.Config{RouterID: self}, lsas); err != nil {
		return nil, err
	}
	opts.Namespace = agentNamespace
	opts.Metrics = r.metrics
	r.mirror = mirror.New(mirror.Config{
		Server:   r.srv.Addr(),
		DB:       r.db,
		Logger:   slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn})),
		OnSynced: func(mirror.SyncReport) { r.agent.Trigger() },
	})
	opts.RouterID = r.mirror.RouterID
	if r.agent, err = NewAgent(r.db, opts); err != nil {
		r.srv.Close()
		return nil, err
	}
	mcfg := rest.CopyConfig(restCfg)
	mcfg.QPS = -1 // as the agent subcommand runs it against a server with API Priority and Fairness
	mcfg.Wrap(r.requests.wrap)
	mgr, err := ctrl.NewManager(mcfg, ctrl.Options{
		Scheme:                 sch,
		Cache:                  CacheOptions(agentNamespace, opts.ConfigMapName),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr(true)},
	})
	if err == nil {
		err = r.agent.SetupWithManager(mgr)
	}
	if err != nil {
		r.srv.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.started = time.Now()
	r.done.Go(func() { r.fail(mgr.Start(runCtx)) })
	r.done.Go(func() { r.fail(r.mirror.Run(runCtx)) })
	return r, nil
}

func (r *agentRun) fail(err error) {
	if err != nil {
		r.mu.Lock()
		r.errs = append(r.errs, err)
		r.mu.Unlock()
	}
}

// stop stops the agent and the fake ospfd and returns what failed.
func (r *agentRun) stop() error {
	r.cancel()
	r.done.Wait()
	r.srv.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

// converged reports whether the cluster, read through c, shows exactly
// what the LSDB asks for, times aside.
func (r *agentRun) converged(ctx context.Context, c client.Client) error {
	self, _ := r.mirror.RouterID()
	return clusterMirrors(ctx, c, r.db, self, r.agent.opts.MaxInlineExternals)
}

// clusterMirrors reports whether the cluster, read through c, shows
// exactly what db asks for from the router self, times aside.
func clusterMirrors(ctx context.Context, c client.Client, db *lsdb.DB, self netip.Addr, maxInline int) error {
	if !db.Loaded() {
		return errors.New("LSDB not loaded")
	}
	d := DesiredState(db.View(), self, MapOptions{MaxInlineExternals: maxInline})
	var routers ospfv1alpha1.OSPFRouterList
	if err := c.List(ctx, &routers, client.HasLabels{ospfv1alpha1.LabelManagedBy}); err != nil {
		return err
	}
	var networks ospfv1alpha1.OSPFNetworkList
	if err := c.List(ctx, &networks, client.HasLabels{ospfv1alpha1.LabelManagedBy}); err != nil {
		return err
	}
	if len(routers.Items) != len(d.Routers) || len(networks.Items) != len(d.Networks) {
		return fmt.Errorf("%d routers and %d networks, want %d and %d", len(routers.Items), len(networks.Items), len(d.Routers), len(d.Networks))
	}
	for _, got := range routers.Items {
		want := d.Routers[got.Name]
		if want == nil {
			return fmt.Errorf("router %s is not in the LSDB", got.Name)
		}
		if !routerContentEqual(&want.Status, &got.Status) || !cmp.Equal(want.Status.PathCost, got.Status.PathCost) ||
			!labelsEqual(want.Labels, got.Labels) || got.Status.LastChange == nil || len(got.Status.Conditions) != 1 ||
			got.Status.Conditions[0].Message != want.Status.Conditions[0].Message {
			return fmt.Errorf("router %s differs from the LSDB", got.Name)
		}
	}
	for _, got := range networks.Items {
		want := d.Networks[got.Name]
		if want == nil || !networkContentEqual(&want.Status, &got.Status) || !labelsEqual(want.Labels, got.Labels) {
			return fmt.Errorf("network %s differs from the LSDB", got.Name)
		}
	}
	return nil
}

// requestCounter counts the API requests of an agent's manager by method
// and resource.
type requestCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		kind := "other"
		switch p := req.URL.Path; {
		case strings.Contains(p, "/apis/"+ospfv1alpha1.GroupVersion.Group+"/"):
			kind = "ospf"
		case strings.Contains(p, "/events"):
			kind = "events"
		case strings.Contains(p, "/configmaps"):
			kind = "configmaps"
		case strings.Contains(p, "/leases"):
			kind = "leases"
		}
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		c.n[req.Method+" "+kind]++
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

// writes is the number of requests that may have written kind: everything
// but GET.
func (c *requestCounter) writes(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.n {
		if method, what, _ := strings.Cut(k, " "); what == kind && method != http.MethodGet {
			n += v
		}
	}
	return n
}

// deletes is the number of DELETE requests on kind.
func (c *requestCounter) deletes(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[http.MethodDelete+" "+kind]
}

func (c *requestCounter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
