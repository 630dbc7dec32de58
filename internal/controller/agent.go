package controller

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// FieldManager is the server-side apply field manager of every write.
const FieldManager = "ospf-operator"

// Defaults of Options.
const (
	// DefaultDebounce is how long changes from the LSDB gather before the
	// objects they touch are reconciled.
	DefaultDebounce = 150 * time.Millisecond
	// DefaultResyncPeriod is how often every object is compared with the
	// LSDB when nothing happens.
	DefaultResyncPeriod = 10 * time.Minute
	// DefaultConcurrency is how many objects are reconciled, and written,
	// in parallel, per kind.
	DefaultConcurrency = 64
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
	// Concurrency is how many objects of a kind are reconciled in
	// parallel (DefaultConcurrency): each OSPFRouter and OSPFNetwork is a
	// request of its own in its controller's workqueue. The API client's
	// rate is the manager's (rest.Config QPS and Burst).
	Concurrency int
	// CacheWait bounds how long an object's reconcile is put off, after a
	// write, until the manager's cache shows it (default 5s), so that a
	// reconcile in between does not write the same again.
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
// term a manager of its own).
//
// Every object it writes has a controller-runtime reconciler: one request
// per OSPFRouter and per OSPFNetwork name, one for the ConfigMap. The LSDB
// enters them as sources that follow its change feed; the objects enter
// them as watches, so that an object deleted or edited by hand is repaired
// at once. The Events come from a runnable that follows the change feed.
type Agent struct {
	db      *lsdb.DB
	opts    Options
	metrics *Metrics
	log     logr.Logger

	client  client.Client // the manager's: writes to the API server, reads from the cache
	reader  client.Reader // the manager's cache
	emitter *emitter

	routers, networks *objectReconciler
	snapshot          *snapshotReconciler

	// trigger wakes the sources when something the feed does not announce
	// changed (the router ID); each source has its own.
	mu       sync.Mutex
	triggers []chan struct{}

	desiredMu   sync.Mutex
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
	}, nil
}

// CacheOptions restrict a manager's cache to what the agent and the Runner
// read: the snapshot ConfigMap by name and the agent Leases by label, in
// namespace, so that the agent needs no permission beyond them.
func CacheOptions(namespace, configMapName string) cache.Options {
	if configMapName == "" {
		configMapName = DefaultConfigMapName
	}
	return cache.Options{ByObject: map[client.Object]cache.ByObject{
		&corev1.ConfigMap{}: {
			Namespaces: map[string]cache.Config{namespace: {}},
			Field:      fields.OneTermEqualSelector("metadata.name", configMapName),
		},
		&coordinationv1.Lease{}: {
			Namespaces: map[string]cache.Config{namespace: {}},
			Label:      labels.SelectorFromSet(labels.Set{LabelAgentLease: "true"}),
		},
	}}
}

// SetupWithManager adds the agent to mgr: a controller per kind (OSPFRouter,
// OSPFNetwork) and one for the snapshot ConfigMap, and the Events runnable.
// mgr's cache must hold the snapshot ConfigMap (CacheOptions).
func (a *Agent) SetupWithManager(mgr ctrl.Manager) error {
	a.client = mgr.GetClient()
	a.reader = mgr.GetCache()
	a.log = mgr.GetLogger().WithName("agent")
	a.emitter = newEmitter(mgr.GetEventRecorder(FieldManager), a.opts.Events, a.metrics)
	a.routers = &objectReconciler{a: a, kind: kindRouter}
	a.networks = &objectReconciler{a: a, kind: kindNetwork}
	for _, r := range []*objectReconciler{a.routers, a.networks} {
		if err := r.setup(mgr); err != nil {
			return err
		}
	}
	a.snapshot = &snapshotReconciler{a: a}
	if err := a.snapshot.setup(mgr); err != nil {
		return err
	}
	return mgr.Add(&eventRunnable{a: a})
}

// Trigger asks for the objects to be compared with the LSDB soon: call it
// when something the LSDB's feed does not announce changed, such as the
// agent's router ID after a dump.
func (a *Agent) Trigger() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, t := range a.triggers {
		select {
		case t <- struct{}{}:
		default: // one pending trigger is enough
		}
	}
}

func (a *Agent) newTrigger() <-chan struct{} {
	t := make(chan struct{}, 1)
	a.mu.Lock()
	a.triggers = append(a.triggers, t)
	a.mu.Unlock()
	return t
}

func (a *Agent) ready() bool { return a.opts.Ready() }

func (a *Agent) countWrite(kind, op string, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	a.metrics.Writes.WithLabelValues(kind, op, result).Inc()
}

// followFeed calls changed once when the database is ready, then after
// every batch of LSDB changes (gathered for debounce), every trigger and
// every resync period, until ctx is done. It is the body of the agent's
// sources: it only enqueues, it never writes.
func (a *Agent) followFeed(ctx context.Context, debounce time.Duration, changed func(first bool)) {
	trigger := a.newTrigger()
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	for !a.ready() {
		if !wait(50 * time.Millisecond) {
			return
		}
	}
	feed := a.db.Feed()
	changes := make(chan struct{}, 1)
	go func() { // wakes the loop below; it writes nothing
		sub, err := feed.Subscribe(feed.LastSeq())
		buf := make([]lsdb.Event, 0, 256)
		for ctx.Err() == nil {
			if err != nil {
				a.log.Error(err, "Following the LSDB change feed failed")
				return
			}
			buf, err = sub.Read(ctx, buf[:0])
			if errors.Is(err, lsdb.ErrLagged) {
				sub, err = feed.Subscribe(feed.LastSeq())
			}
			select {
			case changes <- struct{}{}:
			default:
			}
		}
	}()
	changed(true)
	resync := time.NewTicker(a.opts.ResyncPeriod)
	defer resync.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-changes:
			if !wait(debounce) {
				return
			}
		case <-trigger:
		case <-resync.C:
			changed(true)
			continue
		}
		changed(false)
	}
}

// desiredState returns the objects the LSDB asks for and the feed position
// they reflect, computed again only when the LSDB or the router ID moved.
func (a *Agent) desiredState() (*Desired, uint64) {
	a.desiredMu.Lock()
	defer a.desiredMu.Unlock()
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
