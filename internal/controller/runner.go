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
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=system,resources=leases,verbs=get;list;watch;create;update;patch;delete

// Runner runs one agent of the DaemonSet. It always publishes the agent's
// LSDB digest on the agent's Lease (a reconciler in the process's manager,
// SetupWithManager). While it leads (always, without leader election), it
// runs an Agent and the agreement check in a manager of their own, one per
// term: controller-runtime's manager, with its leader election and
// LeaderElectionReleaseOnCancel, so that a term the agent ends itself stops
// the writers first and releases the Lease after. It campaigns only while
// synced with ospfd, and ends the term (or the campaign) when its FRR
// session has been down for StepDownAfter.
type Runner struct {
	cfg     RunnerConfig
	le      *LeaderElection
	metrics *Metrics
	log     logr.Logger
	self    *selfDigest
	lease   *agentLease

	mu    sync.Mutex
	agent *Agent // the current term's, once elected
}

// NewRunner checks cfg and returns a Runner; SetupWithManager adds it to
// the process's manager.
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
	r.self = &selfDigest{db: cfg.DB, synced: cfg.Synced, window: 3*cfg.Agreement.Interval + time.Second}
	return r, nil
}

// SetupWithManager adds the Runner to mgr, the process's manager, whose
// configuration the terms' managers share: the agent Lease's reconciler,
// and the Runner itself, which runs the terms. mgr's cache must hold the
// agent Leases (CacheOptions).
func (r *Runner) SetupWithManager(mgr ctrl.Manager) error {
	r.lease = &agentLease{
		c: mgr.GetClient(), reader: mgr.GetCache(), namespace: r.cfg.Agent.Namespace, name: r.cfg.PodName,
		synced: r.cfg.Synced, db: r.cfg.DB, routerID: r.routerID, self: r.self, opts: r.cfg.Agreement,
		log: r.log.WithName("lease"),
	}
	if err := r.lease.setup(mgr); err != nil {
		return err
	}
	return mgr.Add(r)
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

// Trigger asks the current term's Agent to compare the cluster with the
// LSDB (see Agent.Trigger); without a term it does nothing.
func (r *Runner) Trigger() {
	r.mu.Lock()
	a := r.agent
	r.mu.Unlock()
	if a != nil {
		a.Trigger()
	}
}

// Leading reports whether this agent leads: a term is running and elected.
func (r *Runner) Leading() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.agent != nil
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: the
// Runner elects its leader itself.
func (r *Runner) NeedLeaderElection() bool { return false }

// Start runs terms until ctx is done, then deletes the agent's Lease. It
// first writes the agent's Lease, so that a missing namespace or a missing
// permission is an error at once; later failures are logged and retried.
func (r *Runner) Start(ctx context.Context) error {
	if r.lease == nil {
		return errors.New("runner: not set up with a manager")
	}
	if err := r.lease.publishNow(ctx); err != nil {
		return r.explain(err)
	}
	defer r.lease.remove()
	backoff := time.Second
	if r.le != nil {
		backoff = r.le.RetryPeriod
	}
	waiting := false
	for ctx.Err() == nil {
		if r.le != nil && !r.cfg.Synced() {
			if !waiting {
				r.log.Info("Not campaigning for leadership until synced with ospfd")
				waiting = true
			}
			sleep(ctx, 250*time.Millisecond)
			continue
		}
		waiting = false
		start := time.Now()
		err := r.term(ctx)
		if err == nil || ctx.Err() != nil {
			continue
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		r.log.Error(err, "The term ended in an error; starting again", "in", backoff)
		sleep(ctx, backoff)
		backoff = min(2*backoff, 30*time.Second)
	}
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

// errLeaseLost is what controller-runtime's manager returns when its term
// ends without being asked to.
const errLeaseLost = "leader election lost"

// term campaigns and, once elected, leads, in a manager of its own, until
// the Lease is lost, the FRR session has been down for StepDownAfter, the
// manager fails or ctx is done. A nil error is an orderly end.
func (r *Runner) term(ctx context.Context) error {
	mgr, agent, err := r.newTermManager()
	if err != nil {
		return err
	}
	termCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- mgr.Start(termCtx) }() // the manager runs the writers
	log := r.log
	if r.le != nil {
		log = log.WithValues("lease", r.le.LeaseNamespace+"/"+r.le.LeaseName, "identity", r.le.Identity)
	}
	elected := mgr.Elected()
	leading := false
	defer func() {
		r.metrics.Leader.Set(0)
		r.metrics.AgreementAgents.Set(0)
		r.metrics.AgreementMismatched.Set(0)
		r.mu.Lock()
		r.agent = nil
		r.mu.Unlock()
	}()
	// stepDown ends the term: the manager stops the writers, then
	// releases the Lease.
	stepDown := func(reason string) error {
		cancel()
		err := <-done
		if leading {
			r.metrics.StepDowns.WithLabelValues(reason).Inc()
		}
		if err != nil && err.Error() != errLeaseLost {
			return err
		}
		return nil
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var downSince time.Time
	for {
		select {
		case <-elected:
			elected = nil
			leading = true
			if r.le != nil {
				log.Info("Elected leader; publishing the LSDB")
			}
			r.mu.Lock()
			r.agent = agent
			r.mu.Unlock()
			r.metrics.Leader.Set(1)
			r.metrics.LeaderTerms.Inc()
		case err := <-done:
			if err != nil && err.Error() == errLeaseLost {
				log.Info("Lost the leader Lease; stopped publishing")
				return nil
			}
			if err == nil {
				err = errors.New("the term's manager stopped")
			}
			return err
		case <-ctx.Done():
			err := stepDown("shutdown")
			if leading && r.le != nil {
				log.Info("Released the leader Lease on shutdown")
			}
			return err
		case now := <-tick.C:
			if r.le == nil || r.cfg.Synced() {
				downSince = time.Time{}
				continue
			}
			if downSince.IsZero() {
				downSince = now
			}
			if now.Sub(downSince) < r.le.StepDownAfter {
				continue
			}
			wasLeading := leading
			err := stepDown("ospfd")
			if wasLeading {
				log.Info("Gave up leadership: the session with ospfd is down", "for", now.Sub(downSince).Round(time.Millisecond))
			}
			return err
		}
	}
}

// newTermManager returns the manager of one term, with the term's Agent
// and agreement check in it.
func (r *Runner) newTermManager() (ctrl.Manager, *Agent, error) {
	opts := ctrl.Options{
		Scheme:                  r.cfg.Scheme,
		Logger:                  r.log,
		Cache:                   CacheOptions(r.cfg.Agent.Namespace, r.cfg.Agent.ConfigMapName),
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		GracefulShutdownTimeout: ptrTo(5 * time.Second),
		// Every term adds controllers of the same names.
		Controller: config.Controller{SkipNameValidation: ptrTo(true)},
	}
	if le := r.le; le != nil {
		coord, err := coordinationv1client.NewForConfig(r.cfg.Config)
		if err != nil {
			return nil, nil, fmt.Errorf("leader election: %w", err)
		}
		opts.LeaderElection = true
		opts.LeaderElectionID = le.LeaseName
		opts.LeaderElectionNamespace = le.LeaseNamespace
		// The lock of our own, for the identity.
		opts.LeaderElectionResourceLockInterface = &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: le.LeaseNamespace, Name: le.LeaseName},
			Client:     coord,
			LockConfig: resourcelock.ResourceLockConfig{Identity: le.Identity},
		}
		opts.LeaderElectionReleaseOnCancel = true
		opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = &le.LeaseDuration, &le.RenewDeadline, &le.RetryPeriod
	}
	mgr, err := ctrl.NewManager(r.cfg.Config, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("term manager: %w", err)
	}
	agent, err := NewAgent(r.cfg.DB, r.cfg.Agent)
	if err != nil {
		return nil, nil, err
	}
	if err := agent.SetupWithManager(mgr); err != nil {
		return nil, nil, err
	}
	agr := &agreementReconciler{
		c: mgr.GetClient(), reader: mgr.GetCache(), rec: mgr.GetEventRecorder(FieldManager), db: r.cfg.DB,
		namespace: r.cfg.Agent.Namespace, self: r.cfg.PodName, routerID: r.routerID,
		digest: r.self, opts: r.cfg.Agreement, metrics: r.metrics, log: r.log.WithName("agreement"),
	}
	if err := agr.setup(mgr); err != nil {
		return nil, nil, err
	}
	return mgr, agent, nil
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
