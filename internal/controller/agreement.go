package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1ac "k8s.io/client-go/applyconfigurations/coordination/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// The agent Leases: one per agent, named after its pod, in the agent's
// namespace, holding its LSDB digest for the leader to compare.
const (
	// LabelAgentLease marks the agent Leases (value "true").
	LabelAgentLease = "ospf.ospf-operator.io/agent"
	// AnnotationLSDBDigest holds the agent's Digest (Digest.String).
	AnnotationLSDBDigest = "ospf.ospf-operator.io/lsdb-digest"
	// AnnotationSynced is "true" while the agent's session with ospfd is
	// up and its dump applied; the digest of an agent that is not synced
	// is empty and not compared.
	AnnotationSynced = "ospf.ospf-operator.io/synced"
	// AnnotationRouterID is the agent's router ID, once known.
	AnnotationRouterID = "ospf.ospf-operator.io/router-id"
	// ReasonLSDBDisagreement: an agent's LSDB has differed from the
	// leader's for longer than the grace period (a Warning on the agent's
	// Lease).
	ReasonLSDBDisagreement = "LSDBDisagreement"
)

// Defaults of AgreementOptions.
const (
	DefaultAgreementInterval = 5 * time.Second
	DefaultAgreementGrace    = 30 * time.Second
)

// AgreementOptions configure the digest Leases and the leader's check.
type AgreementOptions struct {
	// Interval is how often, at most, an agent writes its Lease when its
	// digest changed, and how often the leader compares
	// (DefaultAgreementInterval).
	Interval time.Duration
	// GracePeriod is how long an agent may disagree with the leader
	// before it is reported (DefaultAgreementGrace).
	GracePeriod time.Duration
	// LeaseDuration is how long an agent Lease stays live unrenewed
	// (default 12 Intervals, at least 1s); agents renew theirs every
	// third of it. The leader ignores expired Leases and deletes those
	// expired for another LeaseDuration.
	LeaseDuration time.Duration
}

func (o *AgreementOptions) setDefaults() {
	defaultTo(&o.Interval, DefaultAgreementInterval)
	defaultTo(&o.GracePeriod, DefaultAgreementGrace)
	defaultTo(&o.LeaseDuration, 12*o.Interval)
	o.LeaseDuration = max(o.LeaseDuration.Round(time.Second), time.Second)
}

// selfDigest is the agent's own LSDB digest and the recent ones.
type selfDigest struct {
	db      *lsdb.DB
	synced  func() bool
	window  time.Duration
	mu      sync.Mutex
	seq     uint64
	valid   bool
	current Digest
	// recent holds, per area, the hashes the area had within the window
	// and when each was last current: a peer publishes its digest up to an
	// Interval later than the leader, so during a change its digest may be
	// one the leader has just left.
	recent map[string]map[string]time.Time
}

// refresh returns the current digest (nil when not synced), computing it
// again when the LSDB moved.
func (s *selfDigest) refresh(now time.Time) Digest {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.synced() || !s.db.Loaded() {
		s.valid = false
		return nil
	}
	if !s.valid || s.db.Feed().LastSeq() != s.seq {
		v := s.db.View()
		s.current, s.seq, s.valid = DigestOf(v), v.Seq, true
	}
	if s.recent == nil {
		s.recent = map[string]map[string]time.Time{}
	}
	for area, hash := range s.current {
		if s.recent[area] == nil {
			s.recent[area] = map[string]time.Time{}
		}
		s.recent[area][hash] = now
	}
	for area, hashes := range s.recent {
		for h, at := range hashes {
			if now.Sub(at) > s.window {
				delete(hashes, h)
			}
		}
		if len(hashes) == 0 {
			delete(s.recent, area)
		}
	}
	return s.current
}

// disagreeing returns the areas that peer and the agent both hold in which
// peer's hash is none the agent had recently.
func (s *selfDigest) disagreeing(peer Digest) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for area, hash := range peer {
		if _, common := s.current[area]; !common {
			continue
		}
		if _, seen := s.recent[area][hash]; !seen {
			out = append(out, area)
		}
	}
	slices.SortFunc(out, compareAreas)
	return out
}

// agentLease keeps the agent's own Lease saying what its digest is. Its one
// request is the Lease's name; it is enqueued when the Lease changes (one
// deleted by hand is written again at once), when the LSDB or the session
// with ospfd changes, and when the renewal is due. It runs on every agent.
type agentLease struct {
	c         client.Client
	reader    client.Reader // the manager's cache
	namespace string
	name      string // the pod's
	synced    func() bool
	db        *lsdb.DB
	routerID  func() (string, bool)
	self      *selfDigest
	opts      AgreementOptions
	log       logr.Logger

	mu        sync.Mutex
	writtenAt time.Time // of the last write, to pace changes to one per Interval
	closing   bool      // the agent is stopping: its Lease is being deleted
}

func (l *agentLease) key() client.ObjectKey {
	return client.ObjectKey{Namespace: l.namespace, Name: l.name}
}

func (l *agentLease) setup(mgr ctrl.Manager) error {
	req := reconcile.Request{NamespacedName: l.key()}
	// What the Lease says comes from memory (the LSDB, the session with
	// ospfd, the router ID): a look at it every quarter second enqueues
	// the Lease when that changed.
	changed := source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() { // it only enqueues
			t := time.NewTicker(250 * time.Millisecond)
			defer t.Stop()
			last := ""
			for {
				id, _ := l.routerID()
				now := fmt.Sprint(l.synced(), l.db.Loaded(), l.db.Feed().LastSeq(), id)
				if now != last {
					last = now
					q.Add(req)
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
		return nil
	})
	isOurs := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == l.namespace && o.GetName() == l.name
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("ospf-agent-lease").
		For(&coordinationv1.Lease{}, builder.WithPredicates(isOurs)).
		WatchesRawSource(changed).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, NeedLeaderElection: ptrTo(false)}).
		Complete(l)
}

// Reconcile writes the Lease when what it says differs from the agent's
// state, or its renewal is due.
func (l *agentLease) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return reconcile.Result{}, nil
	}
	now := time.Now()
	lease := &coordinationv1.Lease{}
	err := l.reader.Get(ctx, l.key(), lease)
	switch {
	case apierrors.IsNotFound(err):
		lease = nil
	case err != nil:
		return reconcile.Result{}, err
	}
	ann := l.annotations(now)
	renew := l.opts.LeaseDuration / 3
	if lease != nil && maps.Equal(ann, pick(lease.Annotations, AnnotationLSDBDigest, AnnotationSynced, AnnotationRouterID)) &&
		lease.Spec.HolderIdentity != nil && *lease.Spec.HolderIdentity == l.name && lease.Spec.RenewTime != nil {
		if due := lease.Spec.RenewTime.Add(renew); now.Before(due) {
			return reconcile.Result{RequeueAfter: due.Sub(now)}, nil
		}
	} else if lease != nil {
		// A change of digest is published at most every Interval.
		if wait := l.opts.Interval - now.Sub(l.writtenAt); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
	}
	if err := l.publish(ctx, ann, now); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: renew}, nil
}

// annotations are what the Lease says now.
func (l *agentLease) annotations(now time.Time) map[string]string {
	d := l.self.refresh(now)
	ann := map[string]string{
		AnnotationLSDBDigest: d.String(),
		AnnotationSynced:     strconv.FormatBool(d != nil),
	}
	if id, ok := l.routerID(); ok {
		ann[AnnotationRouterID] = id
	}
	return ann
}

func pick(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// publish writes the Lease.
func (l *agentLease) publish(ctx context.Context, ann map[string]string, now time.Time) error {
	ac := coordinationv1ac.Lease(l.name, l.namespace).
		WithLabels(map[string]string{ospfv1alpha1.LabelManagedBy: ospfv1alpha1.ManagedBy, LabelAgentLease: "true"}).
		WithAnnotations(ann).
		WithSpec(coordinationv1ac.LeaseSpec().
			WithHolderIdentity(l.name).
			WithLeaseDurationSeconds(int32(l.opts.LeaseDuration / time.Second)).
			WithRenewTime(metav1.NewMicroTime(now)))
	if err := l.c.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("apply Lease %s/%s: %w", l.namespace, l.name, err)
	}
	l.writtenAt = now
	l.log.V(1).Info("Published the LSDB digest", "digest", ann[AnnotationLSDBDigest], "synced", ann[AnnotationSynced])
	return nil
}

// publishNow writes the Lease once, outside the controller: the Runner's
// first write, whose error it explains.
func (l *agentLease) publishNow(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.publish(ctx, l.annotations(time.Now()), time.Now())
}

// remove deletes the Lease, so that the leader stops counting this agent,
// and keeps the reconciler from writing it again.
func (l *agentLease) remove() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: l.namespace, Name: l.name}}
	if err := l.c.Delete(ctx, lease); err != nil && !apierrors.IsNotFound(err) {
		l.log.Error(err, "Deleting the agent Lease failed; it expires", "lease", l.namespace+"/"+l.name)
	}
}

// agreementReconciler compares, on the leader, the digest of each other
// agent with its own, one agent Lease per request, and reports those that
// disagree for longer than the grace period; it deletes the Leases of
// agents long gone.
type agreementReconciler struct {
	c         client.Client // writes (deletes of stale Leases)
	reader    client.Reader // the manager's cache
	rec       events.EventRecorder
	db        *lsdb.DB
	namespace string
	self      string // the leader's Lease name
	routerID  func() (string, bool)
	digest    *selfDigest
	opts      AgreementOptions
	metrics   *Metrics
	log       logr.Logger

	mu    sync.Mutex
	peers map[string]*peerState // agents that disagree, by Lease name
}

type peerState struct {
	since    time.Time // first disagreement of this term
	reported bool
}

func (c *agreementReconciler) setup(mgr ctrl.Manager) error {
	c.peers = map[string]*peerState{}
	// The leader's own digest is in memory: when it changes, every agent
	// is compared again (at most every Interval).
	all := source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go func() { // it only enqueues
			t := time.NewTicker(c.opts.Interval)
			defer t.Stop()
			var last uint64
			first := true
			for {
				if seq := c.db.Feed().LastSeq(); first || seq != last {
					var leases coordinationv1.LeaseList
					if err := c.reader.List(ctx, &leases, client.InNamespace(c.namespace), client.MatchingLabels{LabelAgentLease: "true"}); err == nil {
						first, last = false, seq
						for i := range leases.Items {
							q.Add(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&leases.Items[i])})
						}
					}
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
		return nil
	})
	inNamespace := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == c.namespace })
	return ctrl.NewControllerManagedBy(mgr).
		Named("ospf-agreement").
		For(&coordinationv1.Lease{}, builder.WithPredicates(inNamespace)).
		WatchesRawSource(all).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		Complete(c)
}

// Reconcile compares one agent's digest with the leader's. It comes back
// when the agent's grace period ends and when its Lease expires.
func (c *agreementReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.count(ctx)
	now := time.Now()
	own := c.digest.refresh(now)
	l := &coordinationv1.Lease{}
	if err := c.reader.Get(ctx, req.NamespacedName, l); err != nil {
		delete(c.peers, req.Name)
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if l.Name == c.self || l.Labels[LabelAgentLease] != "true" {
		return reconcile.Result{}, nil
	}
	expiry, ok := leaseExpiry(l)
	if !ok || now.After(expiry) {
		delete(c.peers, l.Name)
		gone := expiry.Add(c.opts.LeaseDuration)
		if !ok || now.After(gone) {
			return reconcile.Result{}, c.deleteStale(ctx, l)
		}
		return reconcile.Result{RequeueAfter: gone.Sub(now) + 100*time.Millisecond}, nil
	}
	next := expiry.Sub(now) + 100*time.Millisecond
	if own == nil || l.Annotations[AnnotationSynced] != "true" {
		delete(c.peers, l.Name)
		return reconcile.Result{RequeueAfter: next}, nil
	}
	peer, err := ParseDigest(l.Annotations[AnnotationLSDBDigest])
	if err != nil {
		c.log.V(1).Info("Ignoring an agent Lease with a bad digest", "lease", l.Name, "err", err.Error())
		delete(c.peers, l.Name)
		return reconcile.Result{RequeueAfter: next}, nil
	}
	areas := c.digest.disagreeing(peer)
	st := c.peers[l.Name]
	if len(areas) == 0 {
		if st != nil && st.reported {
			c.log.Info("Agent agrees with the leader's LSDB again", "agent", l.Name, "router", l.Annotations[AnnotationRouterID])
		}
		delete(c.peers, l.Name)
		return reconcile.Result{RequeueAfter: next}, nil
	}
	if st == nil {
		st = &peerState{since: now}
		c.peers[l.Name] = st
	}
	if lasted := now.Sub(st.since); !st.reported && lasted >= c.opts.GracePeriod {
		st.reported = true
		c.report(l, areas, own, peer, lasted)
	} else if !st.reported {
		next = min(next, c.opts.GracePeriod-lasted)
	}
	return reconcile.Result{RequeueAfter: next}, nil
}

// count sets the agreement metrics: the live agents (the leader included)
// and those reported.
func (c *agreementReconciler) count(ctx context.Context) {
	var leases coordinationv1.LeaseList
	if err := c.reader.List(ctx, &leases, client.InNamespace(c.namespace), client.MatchingLabels{LabelAgentLease: "true"}); err != nil {
		return
	}
	now := time.Now()
	live := 1
	for i := range leases.Items {
		l := &leases.Items[i]
		if expiry, ok := leaseExpiry(l); l.Name != c.self && ok && !now.After(expiry) {
			live++
		}
	}
	mismatched := 0
	for _, st := range c.peers {
		if st.reported {
			mismatched++
		}
	}
	c.metrics.AgreementAgents.Set(float64(live))
	c.metrics.AgreementMismatched.Set(float64(mismatched))
}

// report logs a disagreement and emits its Event on the agent's Lease.
func (c *agreementReconciler) report(l *coordinationv1.Lease, areas []string, own, peer Digest, lasted time.Duration) {
	selfID, _ := c.routerID()
	peerID := l.Annotations[AnnotationRouterID]
	parts := make([]string, len(areas))
	for i, a := range areas {
		parts[i] = fmt.Sprintf("%s (%s, leader %s)", a, peer[a], own[a])
	}
	c.log.Info("Agent disagrees with the leader's LSDB: a partition, or ospfd left LSAs out of a dump",
		"agent", l.Name, "router", peerID, "leader_router", selfID, "areas", strings.Join(areas, ","),
		"for", lasted.Round(time.Second))
	ref := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: l.Namespace, Name: l.Name, UID: l.UID}}
	c.rec.Eventf(ref, nil, corev1.EventTypeWarning, ReasonLSDBDisagreement, "CompareLSDB",
		"Agent %s (router %s) has disagreed with the leader %s (router %s) for %s in area %s: a partition, or ospfd left LSAs out of a dump",
		l.Name, orUnknown(peerID), c.self, orUnknown(selfID), lasted.Round(time.Second), strings.Join(parts, ", "))
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// deleteStale deletes the Lease of an agent that is gone.
func (c *agreementReconciler) deleteStale(ctx context.Context, l *coordinationv1.Lease) error {
	uid := l.UID
	err := c.c.Delete(ctx, l, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete the stale agent Lease %s: %w", l.Name, err)
	}
	c.log.Info("Deleted the Lease of an agent gone", "lease", l.Name, "router", l.Annotations[AnnotationRouterID])
	return nil
}

// leaseExpiry is when a Lease expires unless renewed; false when it says
// nothing of that.
func leaseExpiry(l *coordinationv1.Lease) (time.Time, bool) {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return time.Time{}, false
	}
	return l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second), true
}
