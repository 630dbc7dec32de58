package controller

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// FieldManager is the server-side apply field manager of every write.
const FieldManager = "ospf-operator"

// Defaults of Options.
const (
	// DefaultQPS and DefaultBurst are the agent's API client rate: the NYC
	// cold start (595 objects, two applies each) takes a few seconds.
	DefaultQPS   = 200
	DefaultBurst = 400
	// DefaultDebounce is how long changes from the LSDB gather before a
	// reconcile.
	DefaultDebounce = 150 * time.Millisecond
	// DefaultResyncPeriod is how often the cluster is compared with the
	// LSDB when nothing happens.
	DefaultResyncPeriod = 10 * time.Minute
	// DefaultConcurrency is how many writes run in parallel.
	DefaultConcurrency = 16
)

// Options configure an Agent.
type Options struct {
	// Namespace is the namespace of the snapshot ConfigMap. Required.
	Namespace string
	// ConfigMapName is the snapshot ConfigMap's name (DefaultConfigMapName).
	ConfigMapName string
	// RouterID returns the agent's own router ID, the root of the shortest
	// paths (mirror.Mirror.RouterID). Nil, or false: not known.
	RouterID func() (netip.Addr, bool)
	// Ready reports whether the database may be published. When nil: once
	// db is loaded and, if RouterID is set, the router ID is known. Nothing
	// is written, and nothing deleted, until it is true.
	Ready func() bool
	// MaxInlineExternals caps the external routes an OSPFRouter lists
	// (see MapOptions).
	MaxInlineExternals int
	// SnapshotInterval is how often, at most, the ConfigMap is written
	// (DefaultSnapshotInterval).
	SnapshotInterval time.Duration
	// CompressAbove is the JSON size above which the ConfigMap holds the
	// snapshot gzipped (DefaultCompressAbove).
	CompressAbove int
	// MaxConfigMapBytes is the most the snapshot may take in the ConfigMap
	// as stored (DefaultMaxConfigMapBytes).
	MaxConfigMapBytes int
	// Debounce is how long LSDB changes gather before a reconcile
	// (DefaultDebounce).
	Debounce time.Duration
	// ResyncPeriod is how often the cluster is compared with the LSDB when
	// nothing triggers it (DefaultResyncPeriod).
	ResyncPeriod time.Duration
	// QPS and Burst are the rate of the agent's API client for writes
	// (DefaultQPS, DefaultBurst); the manager's own client is not used
	// for them.
	QPS   float32
	Burst int
	// Concurrency is how many writes run in parallel (DefaultConcurrency).
	Concurrency int
	// CacheWait bounds how long a reconcile waits, after writing, for the
	// manager's cache to show its writes (default 5s), so that the next
	// run does not write the same again.
	CacheWait time.Duration
	// Events bound the Kubernetes Events.
	Events EventOptions
	// Metrics, when set, are kept up to date.
	Metrics *Metrics
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o *Options) setDefaults(db *lsdb.DB) {
	if o.ConfigMapName == "" {
		o.ConfigMapName = DefaultConfigMapName
	}
	switch {
	case o.Ready != nil:
	case o.RouterID != nil:
		// Publishing before the router ID is known would flip every
		// Reachable condition to Unknown and back.
		routerID := o.RouterID
		o.Ready = func() bool {
			_, known := routerID()
			return known && db.Loaded()
		}
	default:
		o.Ready = db.Loaded
	}
	if o.RouterID == nil {
		o.RouterID = func() (netip.Addr, bool) { return netip.Addr{}, false }
	}
	defaultTo(&o.SnapshotInterval, DefaultSnapshotInterval)
	defaultTo(&o.CompressAbove, DefaultCompressAbove)
	defaultTo(&o.MaxConfigMapBytes, DefaultMaxConfigMapBytes)
	defaultTo(&o.Debounce, DefaultDebounce)
	defaultTo(&o.ResyncPeriod, DefaultResyncPeriod)
	defaultTo(&o.QPS, DefaultQPS)
	defaultTo(&o.Burst, DefaultBurst)
	defaultTo(&o.Concurrency, DefaultConcurrency)
	defaultTo(&o.CacheWait, 5*time.Second)
	if o.Metrics == nil {
		o.Metrics = NewMetrics()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Events.setDefaults()
}

// Agent publishes an LSDB to Kubernetes: OSPFRouter and OSPFNetwork
// objects, the snapshot ConfigMap and Events. Create it with NewAgent and
// add it to a manager with SetupWithManager; everything it starts needs
// leader election, so that only the leader writes (a Runner gives each
// term a manager of its own, started only while it leads).
type Agent struct {
	db      *lsdb.DB
	opts    Options
	metrics *Metrics
	log     logr.Logger

	client    client.Client // writes at the agent's rate; reads from the cache
	reader    client.Reader // the manager's cache
	apiReader client.Reader // the API server, uncached
	emitter   *emitter

	trigger chan event.TypedGenericEvent[string]

	// Owned by Reconcile (one at a time).
	sub         *lsdb.Subscription
	pending     []lsdb.Event
	desired     *Desired
	desiredSeq  uint64
	desiredSelf netip.Addr
	skipped     string
}

// NewAgent returns an agent that publishes db.
func NewAgent(db *lsdb.DB, opts Options) (*Agent, error) {
	if db == nil {
		return nil, errors.New("agent: no database")
	}
	if opts.Namespace == "" {
		return nil, errors.New("agent: no namespace for the snapshot ConfigMap")
	}
	if opts.MaxInlineExternals > ospfv1alpha1.MaxInlineExternals {
		return nil, fmt.Errorf("agent: at most %d external routes can be kept inline, not %d", ospfv1alpha1.MaxInlineExternals, opts.MaxInlineExternals)
	}
	opts.setDefaults(db)
	return &Agent{
		db:      db,
		opts:    opts,
		metrics: opts.Metrics,
		log:     logr.Discard(),
		trigger: make(chan event.TypedGenericEvent[string], 1),
	}, nil
}

// lsdbRequest is the one key the agent reconciles: the whole LSDB.
var lsdbRequest = reconcile.Request{NamespacedName: client.ObjectKey{Name: "lsdb"}}

// SetupWithManager adds the agent to mgr: a controller that reconciles on
// LSDB changes (debounced), on changes of the objects and periodically; the
// snapshot ConfigMap writer. mgr's cache must cover OSPFRouter and
// OSPFNetwork objects; ConfigMaps are read uncached.
func (a *Agent) SetupWithManager(mgr ctrl.Manager) error {
	cfg := rest.CopyConfig(mgr.GetConfig())
	cfg.QPS, cfg.Burst = a.opts.QPS, a.opts.Burst
	c, err := client.New(cfg, client.Options{
		Scheme: mgr.GetScheme(),
		Mapper: mgr.GetRESTMapper(),
		Cache:  &client.CacheOptions{Reader: mgr.GetCache()},
	})
	if err != nil {
		return fmt.Errorf("agent: API client: %w", err)
	}
	a.client = c
	a.reader = mgr.GetCache()
	a.apiReader = mgr.GetAPIReader()
	a.log = mgr.GetLogger().WithName("agent")
	a.emitter = newEmitter(mgr.GetEventRecorder(FieldManager), a.opts.Events, a.metrics)

	enqueue := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{lsdbRequest}
	})
	kicked := handler.TypedFuncs[string, reconcile.Request]{
		GenericFunc: func(_ context.Context, _ event.TypedGenericEvent[string], q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(lsdbRequest)
		},
	}
	err = ctrl.NewControllerManagedBy(mgr).
		Named("ospf-agent").
		WatchesRawSource(source.Channel(a.trigger, kicked)).
		Watches(&ospfv1alpha1.OSPFRouter{}, enqueue).
		Watches(&ospfv1alpha1.OSPFNetwork{}, enqueue).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		Complete(a)
	if err != nil {
		return err
	}
	if err := mgr.Add(&feedWatcher{a: a}); err != nil {
		return err
	}
	return mgr.Add(&snapshotWriter{a: a})
}

// Trigger asks for a reconcile soon: call it when something the LSDB's feed
// does not announce changed, such as the agent's router ID after a dump.
func (a *Agent) Trigger() {
	select {
	case a.trigger <- event.TypedGenericEvent[string]{Object: "lsdb"}:
	default: // one pending trigger is enough
	}
}

func (a *Agent) ready() bool { return a.opts.Ready() }

func (a *Agent) countWrite(kind, op string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	a.metrics.Writes.WithLabelValues(kind, op, result).Inc()
}

// feedWatcher triggers a reconcile after LSDB changes, once they have
// gathered for the debounce interval, and once at start: the full resync
// of a new leader.
type feedWatcher struct{ a *Agent }

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (f *feedWatcher) NeedLeaderElection() bool { return true }

// Start follows the feed until ctx is done.
func (f *feedWatcher) Start(ctx context.Context) error {
	a := f.a
	feed := a.db.Feed()
	sub, err := feed.Subscribe(feed.LastSeq())
	if err != nil {
		return err
	}
	a.Trigger()
	buf := make([]lsdb.Event, 0, 256)
	for {
		buf, err = sub.Read(ctx, buf[:0])
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, lsdb.ErrLagged):
			if sub, err = feed.Subscribe(feed.LastSeq()); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(a.opts.Debounce):
		}
		a.Trigger()
	}
}

// takeEvents returns the LSDB events up to seq that the agent has not
// emitted yet. The first call starts at seq: what happened before this
// agent led is not announced again.
func (a *Agent) takeEvents(seq uint64) []lsdb.Event {
	feed := a.db.Feed()
	if a.sub == nil {
		sub, err := feed.Subscribe(seq)
		if err != nil {
			a.log.Error(err, "Following the LSDB change feed failed")
			return nil
		}
		a.sub = sub
	}
	done, cancel := context.WithCancel(context.Background())
	cancel() // read what is there, never wait
	var err error
	a.pending, err = a.sub.Read(done, a.pending)
	if errors.Is(err, lsdb.ErrLagged) {
		lost := feed.LastSeq() - a.sub.Next() + 1
		a.metrics.KubeEventsSuppressed.WithLabelValues("lagged").Add(float64(lost))
		a.log.Info("Fell behind the LSDB change feed; its changes are published without Events", "lost", lost)
		a.pending = a.pending[:0]
		a.sub, _ = feed.Subscribe(seq)
		return nil
	}
	n := 0
	for n < len(a.pending) && a.pending[n].Seq <= seq {
		n++
	}
	out := append([]lsdb.Event(nil), a.pending[:n]...)
	a.pending = append(a.pending[:0], a.pending[n:]...)
	return out
}

// desiredState returns the objects the LSDB asks for and the feed position
// they reflect, computed again only when the LSDB or the router ID moved.
func (a *Agent) desiredState() (*Desired, uint64) {
	self, ok := a.opts.RouterID()
	if !ok {
		self = netip.Addr{}
	}
	if a.desired != nil && a.desiredSeq == a.db.Feed().LastSeq() && a.desiredSelf == self {
		return a.desired, a.desiredSeq
	}
	v := a.db.View()
	seq := v.Seq
	d := DesiredState(v, self, MapOptions{MaxInlineExternals: a.opts.MaxInlineExternals})
	a.desired, a.desiredSeq, a.desiredSelf = d, seq, self
	if s := strings.Join(d.Skipped, "; "); s != a.skipped {
		a.skipped = s
		if s != "" {
			a.log.Info("Parts of the LSDB cannot be published", "count", len(d.Skipped), "skipped", s)
		}
	}
	a.metrics.Objects.WithLabelValues("OSPFRouter").Set(float64(len(d.Routers)))
	a.metrics.Objects.WithLabelValues("OSPFNetwork").Set(float64(len(d.Networks)))
	return d, seq
}
