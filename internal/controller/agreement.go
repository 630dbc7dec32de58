package controller

import (
	"context"
	"fmt"
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
	"sigs.k8s.io/controller-runtime/pkg/client"

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
		snap, seq := s.db.Snapshot()
		s.current, s.seq, s.valid = DigestOf(snap), seq, true
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

// agentLease publishes the agent's digest on its Lease.
type agentLease struct {
	c         client.Client
	namespace string
	name      string // the pod's
	routerID  func() (string, bool)
	self      *selfDigest
	opts      AgreementOptions
	log       logr.Logger

	written   string // annotations last written, as one string
	writtenAt time.Time
}

// run keeps the Lease current until ctx is done, then deletes it.
func (l *agentLease) run(ctx context.Context) {
	t := time.NewTicker(l.opts.Interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			l.remove()
			return
		case <-t.C:
		}
		if err := l.publish(ctx, time.Now()); err != nil && ctx.Err() == nil {
			if !failing {
				l.log.Error(err, "Writing the agent Lease failed; retrying")
			}
			failing = true
		} else {
			failing = false
		}
	}
}

// publish writes the Lease when what it says changed or its renewal is due.
func (l *agentLease) publish(ctx context.Context, now time.Time) error {
	d := l.self.refresh(now)
	ann := map[string]string{
		AnnotationLSDBDigest: d.String(),
		AnnotationSynced:     strconv.FormatBool(d != nil),
	}
	if id, ok := l.routerID(); ok {
		ann[AnnotationRouterID] = id
	}
	key := ann[AnnotationLSDBDigest] + "|" + ann[AnnotationSynced] + "|" + ann[AnnotationRouterID]
	if key == l.written && now.Sub(l.writtenAt) < l.opts.LeaseDuration/3 {
		return nil
	}
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
	if key != l.written {
		l.log.V(1).Info("Published the LSDB digest", "digest", ann[AnnotationLSDBDigest], "synced", ann[AnnotationSynced])
	}
	l.written, l.writtenAt = key, now
	return nil
}

// remove deletes the Lease, so that the leader stops counting this agent.
func (l *agentLease) remove() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: l.namespace, Name: l.name}}
	if err := l.c.Delete(ctx, lease); err != nil && !apierrors.IsNotFound(err) {
		l.log.Error(err, "Deleting the agent Lease failed; it expires", "lease", l.namespace+"/"+l.name)
	}
}

// agreementChecker compares, on the leader, the digests of the other
// agents with its own and reports those that disagree for longer than the
// grace period.
type agreementChecker struct {
	c         client.Client // writes (deletes of stale Leases)
	reader    client.Reader // uncached
	rec       events.EventRecorder
	namespace string
	self      string // the leader's Lease name
	routerID  func() (string, bool)
	digest    *selfDigest
	opts      AgreementOptions
	metrics   *Metrics
	log       logr.Logger

	peers map[string]*peerState
}

type peerState struct {
	since    time.Time // first disagreement of this run
	reported bool
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (c *agreementChecker) NeedLeaderElection() bool { return true }

// Start compares every Interval until ctx is done.
func (c *agreementChecker) Start(ctx context.Context) error {
	c.peers = map[string]*peerState{}
	defer func() {
		c.metrics.AgreementAgents.Set(0)
		c.metrics.AgreementMismatched.Set(0)
	}()
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		if err := c.check(ctx, time.Now()); err != nil && ctx.Err() == nil {
			c.log.Error(err, "Comparing the agents' LSDB digests failed")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (c *agreementChecker) check(ctx context.Context, now time.Time) error {
	own := c.digest.refresh(now)
	var leases coordinationv1.LeaseList
	if err := c.reader.List(ctx, &leases, client.InNamespace(c.namespace), client.MatchingLabels{LabelAgentLease: "true"}); err != nil {
		return err
	}
	live, mismatched := 1, 0
	seen := map[string]bool{}
	for i := range leases.Items {
		l := &leases.Items[i]
		if l.Name == c.self {
			continue
		}
		if expiry, ok := leaseExpiry(l); !ok || now.After(expiry) {
			if !ok || now.Sub(expiry) > c.opts.LeaseDuration {
				c.deleteStale(ctx, l)
			}
			continue
		}
		live++
		if own == nil || l.Annotations[AnnotationSynced] != "true" {
			continue
		}
		peer, err := ParseDigest(l.Annotations[AnnotationLSDBDigest])
		if err != nil {
			c.log.V(1).Info("Ignoring an agent Lease with a bad digest", "lease", l.Name, "err", err.Error())
			continue
		}
		seen[l.Name] = true
		areas := c.digest.disagreeing(peer)
		st := c.peers[l.Name]
		if len(areas) == 0 {
			if st != nil && st.reported {
				c.log.Info("Agent agrees with the leader's LSDB again", "agent", l.Name, "router", l.Annotations[AnnotationRouterID])
			}
			delete(c.peers, l.Name)
			continue
		}
		if st == nil {
			st = &peerState{since: now}
			c.peers[l.Name] = st
		}
		if !st.reported && now.Sub(st.since) >= c.opts.GracePeriod {
			st.reported = true
			c.report(l, areas, own, peer, now.Sub(st.since))
		}
		if st.reported {
			mismatched++
		}
	}
	for name := range c.peers {
		if !seen[name] {
			delete(c.peers, name)
		}
	}
	c.metrics.AgreementAgents.Set(float64(live))
	c.metrics.AgreementMismatched.Set(float64(mismatched))
	return nil
}

// report logs a disagreement and emits its Event on the agent's Lease.
func (c *agreementChecker) report(l *coordinationv1.Lease, areas []string, own, peer Digest, lasted time.Duration) {
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
func (c *agreementChecker) deleteStale(ctx context.Context, l *coordinationv1.Lease) {
	uid := l.UID
	err := c.c.Delete(ctx, l, client.Preconditions{UID: &uid})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		c.log.Error(err, "Deleting a stale agent Lease failed", "lease", l.Name)
		return
	}
	c.log.Info("Deleted the Lease of an agent gone", "lease", l.Name, "router", l.Annotations[AnnotationRouterID])
}

// leaseExpiry is when a Lease expires unless renewed; false when it says
// nothing of that.
func leaseExpiry(l *coordinationv1.Lease) (time.Time, bool) {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return time.Time{}, false
	}
	return l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second), true
}
