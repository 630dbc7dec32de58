package controller

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// Defaults of LeaderElection.
const (
	DefaultLeaseName     = "ospf-operator-leader"
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
	// DefaultStepDownAfter is how long a leader whose FRR session is down
	// keeps leading: with DefaultRetryPeriod, a synced agent takes over
	// within about 7 seconds of the session's end.
	DefaultStepDownAfter = 5 * time.Second
)

// LeaderElection configures the election of the one agent that writes.
type LeaderElection struct {
	// LeaseName and LeaseNamespace name the leader Lease
	// (DefaultLeaseName, in the Agent's namespace).
	LeaseName, LeaseNamespace string
	// Identity is this agent's name in the Lease (the pod name and a
	// random suffix, so that a restarted container does not inherit the
	// term of the process it replaces).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod are client-go's
	// leader-election timings (DefaultLeaseDuration, DefaultRenewDeadline,
	// DefaultRetryPeriod).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// StepDownAfter is how long the agent keeps leading, or campaigning,
	// while its FRR session is down (DefaultStepDownAfter).
	StepDownAfter time.Duration
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Config is the API server's. Required.
	Config *rest.Config
	// Scheme knows the core kinds and the ospf ones. Required.
	Scheme *runtime.Scheme
	// DB is the database published. Required.
	DB *lsdb.DB
	// Agent configures the Agent of each term; its Namespace holds the
	// Leases too.
	Agent Options
	// Synced reports whether the session with ospfd is up and its dump
	// applied (mirror.Mirror.Synced). Required.
	Synced func() bool
	// PodName names the agent's Lease. Required.
	PodName string
	// LeaderElection, when set, elects the one agent that writes; without
	// it this agent always does.
	LeaderElection *LeaderElection
	// Agreement configures the digest Leases and the leader's comparison.
	Agreement AgreementOptions
	// Logger receives the log lines (logr.Discard() when zero).
	Logger logr.Logger
}

// The leader Lease and the agent Leases, in the agent's namespace.
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=system,resources=leases,verbs=get;list;create;update;patch;delete

// Runner runs one agent of the DaemonSet. It always publishes the agent's
// LSDB digest on the agent's Lease. While it leads (always, without
// leader election), it runs an Agent and the agreement check in a manager
// of their own, started at the beginning of each term and stopped, writes
// finished, before the term ends: controller-runtime's own leader election
// cannot give leadership up and take it again, and an agent must give it up
// when its FRR session is down. It campaigns only while synced with ospfd.
type Runner struct {
	cfg     RunnerConfig
	le      *LeaderElection
	metrics *Metrics
	log     logr.Logger
	client  client.Client
	self    *selfDigest
	lease   *agentLease

	mu    sync.Mutex
	agent *Agent // the current term's
}

// NewRunner checks cfg and returns a Runner; Start runs it.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	switch {
	case cfg.Config == nil:
		return nil, errors.New("runner: no API server configuration")
	case cfg.Scheme == nil:
		return nil, errors.New("runner: no scheme")
	case cfg.Synced == nil:
		return nil, errors.New("runner: no Synced function")
	case cfg.PodName == "":
		return nil, errors.New("runner: no pod name for the agent Lease")
	}
	if cfg.Agent.Metrics == nil {
		cfg.Agent.Metrics = NewMetrics()
	}
	if _, err := NewAgent(cfg.DB, cfg.Agent); err != nil { // check the options once
		return nil, err
	}
	if cfg.Logger.GetSink() == nil {
		cfg.Logger = logr.Discard()
	}
	cfg.Agreement.setDefaults()
	r := &Runner{cfg: cfg, metrics: cfg.Agent.Metrics, log: cfg.Logger}
	if le := cfg.LeaderElection; le != nil {
		c := *le
		if c.LeaseName == "" {
			c.LeaseName = DefaultLeaseName
		}
		if c.LeaseNamespace == "" {
			c.LeaseNamespace = cfg.Agent.Namespace
		}
		if c.Identity == "" {
			var b [4]byte
			_, _ = rand.Read(b[:])
			c.Identity = cfg.PodName + "_" + hex.EncodeToString(b[:])
		}
		defaultTo(&c.LeaseDuration, DefaultLeaseDuration)
		defaultTo(&c.RenewDeadline, DefaultRenewDeadline)
		defaultTo(&c.RetryPeriod, DefaultRetryPeriod)
		defaultTo(&c.StepDownAfter, DefaultStepDownAfter)
		if c.LeaseDuration <= c.RenewDeadline || float64(c.RenewDeadline) <= leaderelection.JitterFactor*float64(c.RetryPeriod) {
			return nil, fmt.Errorf("leader election: want lease duration (%v) > renew deadline (%v) > %v × retry period (%v)",
				c.LeaseDuration, c.RenewDeadline, leaderelection.JitterFactor, c.RetryPeriod)
		}
		r.le = &c
	}
	c, err := client.New(cfg.Config, client.Options{Scheme: cfg.Scheme})
	if err != nil {
		return nil, fmt.Errorf("runner: API client: %w", err)
	}
	r.client = c
	r.self = &selfDigest{db: cfg.DB, synced: cfg.Synced, window: 3*cfg.Agreement.Interval + time.Second}
	r.lease = &agentLease{
		c: c, namespace: cfg.Agent.Namespace, name: cfg.PodName, routerID: r.routerID,
		self: r.self, opts: cfg.Agreement, log: r.log.WithName("lease"),
	}
	return r, nil
}

func (r *Runner) routerID() (string, bool) {
	if r.cfg.Agent.RouterID == nil {
		return "", false
	}
	id, ok := r.cfg.Agent.RouterID()
	if !ok {
		return "", false
	}
	return id.String(), true
}

// Identity is this agent's name in the leader Lease ("" without leader
// election).
func (r *Runner) Identity() string {
	if r.le == nil {
		return ""
	}
	return r.le.Identity
}

// Trigger asks the current term's Agent for a reconcile (see
// Agent.Trigger); without a term it does nothing.
func (r *Runner) Trigger() {
	r.mu.Lock()
	a := r.agent
	r.mu.Unlock()
	if a != nil {
		a.Trigger()
	}
}

// Leading reports whether a term is running.
func (r *Runner) Leading() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.agent != nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: the
// Runner elects its leader itself.
func (r *Runner) NeedLeaderElection() bool { return false }

// Start runs the agent until ctx is done. It first writes the agent's
// Lease, so that a missing namespace or a missing permission is an error
// at once; later failures are logged and retried.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.lease.publish(ctx, time.Now()); err != nil {
		return r.explain(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.lease.run(ctx) })
	if r.le == nil {
		r.leadUntilDone(ctx)
		return nil
	}
	r.campaign(ctx)
	return nil
}

// explain turns the first write's error into advice.
func (r *Runner) explain(err error) error {
	ns := r.cfg.Agent.Namespace
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		if d := status.Status().Details; apierrors.IsNotFound(err) && d != nil && d.Kind == "namespaces" {
			return fmt.Errorf("namespace %q does not exist (--namespace or POD_NAMESPACE): %w", ns, err)
		}
	}
	if apierrors.IsForbidden(err) {
		return fmt.Errorf("the agent may not write Leases in namespace %q (see config/rbac): %w", ns, err)
	}
	return err
}

// leadUntilDone runs terms one after the other until ctx is done: without
// leader election a failed term is retried after a pause.
func (r *Runner) leadUntilDone(ctx context.Context) {
	backoff := time.Second
	for {
		start := time.Now()
		err := r.lead(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		r.log.Error(err, "The agent's writers stopped; starting them again", "in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// lead runs one term: an Agent and the agreement check in a manager of
// their own, until ctx is done or the manager fails.
func (r *Runner) lead(ctx context.Context) error {
	mgr, err := ctrl.NewManager(r.cfg.Config, ctrl.Options{
		Scheme:                  r.cfg.Scheme,
		Logger:                  r.log,
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		GracefulShutdownTimeout: ptrTo(5 * time.Second),
		// Every term adds a controller of the same name.
		Controller: config.Controller{SkipNameValidation: ptrTo(true)},
	})
	if err != nil {
		return fmt.Errorf("term manager: %w", err)
	}
	agent, err := NewAgent(r.cfg.DB, r.cfg.Agent)
	if err != nil {
		return err
	}
	if err := agent.SetupWithManager(mgr); err != nil {
		return err
	}
	err = mgr.Add(&agreementChecker{
		c: r.client, reader: mgr.GetAPIReader(), rec: mgr.GetEventRecorder(FieldManager),
		namespace: r.cfg.Agent.Namespace, self: r.cfg.PodName, routerID: r.routerID,
		digest: r.self, opts: r.cfg.Agreement, metrics: r.metrics, log: r.log.WithName("agreement"),
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.agent = agent
	r.mu.Unlock()
	r.metrics.Leader.Set(1)
	r.metrics.LeaderTerms.Inc()
	defer func() {
		r.metrics.Leader.Set(0)
		r.mu.Lock()
		r.agent = nil
		r.mu.Unlock()
	}()
	return mgr.Start(ctx)
}

// campaign takes part in the election while synced with ospfd, until ctx
// is done.
func (r *Runner) campaign(ctx context.Context) {
	log := r.log.WithValues("lease", r.le.LeaseNamespace+"/"+r.le.LeaseName, "identity", r.le.Identity)
	coord, err := coordinationv1client.NewForConfig(r.cfg.Config)
	if err != nil { // only a malformed configuration, which NewRunner's client refused already
		log.Error(err, "Leader election impossible")
		<-ctx.Done()
		return
	}
	backoff := r.le.RetryPeriod
	waiting := false
	for ctx.Err() == nil {
		if !r.cfg.Synced() {
			if !waiting {
				log.Info("Not campaigning for leadership until synced with ospfd")
				waiting = true
			}
			if !sleep(ctx, 250*time.Millisecond) {
				return
			}
			continue
		}
		waiting = false
		err := r.term(ctx, coord, log)
		if err == nil {
			backoff = r.le.RetryPeriod
			continue
		}
		log.Error(err, "The term ended in an error; campaigning again", "in", backoff)
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// term campaigns and, once elected, leads, until the lease is lost, the
// FRR session has been down for StepDownAfter, the writers fail, or ctx
// is done. A term it ends itself ends in order: the writers stop, then
// the lease is released so that another agent takes over at once.
func (r *Runner) term(ctx context.Context, coord coordinationv1client.LeasesGetter, log logr.Logger) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: r.le.LeaseNamespace, Name: r.le.LeaseName},
		Client:     coord,
		LockConfig: resourcelock.ResourceLockConfig{Identity: r.le.Identity},
	}
	electCtx, stopElecting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElecting()
	started := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   r.le.LeaseDuration,
		RenewDeadline:   r.le.RenewDeadline,
		RetryPeriod:     r.le.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            r.le.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(c context.Context) { started <- c },
			OnStoppedLeading: func() {},
			OnNewLeader: func(id string) {
				if id != r.le.Identity {
					log.Info("Following the leader", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	electing := make(chan struct{})
	go func() {
		defer close(electing)
		le.Run(electCtx)
	}()

	var stopLeading context.CancelFunc
	var leading chan struct{} // closed when the writers have stopped
	leadErr := make(chan error, 1)
	// stepDown stops the writers, then releases the lease.
	stepDown := func(reason string) {
		if stopLeading != nil {
			stopLeading()
			<-leading
			r.metrics.StepDowns.WithLabelValues(reason).Inc()
		}
		stopElecting()
		<-electing
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var downSince time.Time
	for {
		select {
		case lctx := <-started:
			log.Info("Elected leader; publishing the LSDB")
			lctx, cancel := context.WithCancel(lctx)
			stopLeading, leading = cancel, make(chan struct{})
			go func() {
				defer close(leading)
				if err := r.lead(lctx); err != nil && lctx.Err() == nil {
					leadErr <- err
				}
			}()
		case <-electing:
			// The lease was lost: client-go has cancelled the term.
			if stopLeading != nil {
				stopLeading()
				<-leading
				log.Info("Lost the leader Lease; stopped publishing")
			}
			return nil
		case err := <-leadErr:
			stepDown("error")
			return err
		case <-ctx.Done():
			stepDown("shutdown")
			if stopLeading != nil {
				log.Info("Released the leader Lease on shutdown")
			}
			return nil
		case now := <-tick.C:
			if r.cfg.Synced() {
				downSince = time.Time{}
				continue
			}
			if downSince.IsZero() {
				downSince = now
			}
			if now.Sub(downSince) < r.le.StepDownAfter {
				continue
			}
			wasLeading := stopLeading != nil
			stepDown("ospfd")
			if wasLeading {
				log.Info("Gave up leadership: the session with ospfd is down", "for", now.Sub(downSince).Round(time.Millisecond))
			}
			return nil
		}
	}
}

// sleep waits d or until ctx is done, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
