package controller

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// Reasons of the Kubernetes Events the agent emits for LSDB changes.
const (
	// ReasonLinkAdded: a router's Router-LSA gained a link (router,
	// transit network or stub network), or it originates a new summary
	// route into an area.
	ReasonLinkAdded = "LinkAdded"
	// ReasonLinkRemoved is the opposite of ReasonLinkAdded.
	ReasonLinkRemoved = "LinkRemoved"
	// ReasonExternalAdded: a router originates a new AS-external or NSSA route.
	ReasonExternalAdded = "ExternalAdded"
	// ReasonExternalRemoved: a router withdrew an AS-external or NSSA route.
	ReasonExternalRemoved = "ExternalRemoved"
	// ReasonRouterAttached: a transit network's Network-LSA lists a new router.
	ReasonRouterAttached = "RouterAttached"
	// ReasonRouterDetached: a transit network's Network-LSA no longer lists a router.
	ReasonRouterDetached = "RouterDetached"
	// ReasonSnapshotTooLarge: the LSDB snapshot does not fit in the
	// ConfigMap even compressed (a Warning on the ConfigMap).
	ReasonSnapshotTooLarge = "SnapshotTooLarge"
)

// EventOptions bound the Kubernetes Events emitted for LSDB changes.
//
// Repeats of one change (a flapping link) already collapse into one Event
// with a growing series count: the events API merges Events that share
// object, reason and action, and the action names the link. The budget
// bounds distinct changes: each object may emit Burst Events at once and
// one more per Interval; what goes beyond is counted, not emitted.
type EventOptions struct {
	// Burst is the number of Events an object may emit at once. Default 20.
	Burst int
	// Interval is how often an object regains one Event. Default 30s.
	Interval time.Duration
	// MaxPerBatch is how many changes of one reason on one object, in one
	// reconcile, become Events one by one; more become a single Event that
	// lists the first of them and counts the rest. Default 5.
	MaxPerBatch int
}

func (o *EventOptions) setDefaults() {
	defaultTo(&o.Burst, 20)
	defaultTo(&o.Interval, 30*time.Second)
	defaultTo(&o.MaxPerBatch, 5)
}

// eventTarget names the object an LSDB event is about.
type eventTarget struct {
	network bool // an OSPFNetwork, else an OSPFRouter
	name    string
}

func targetOf(e *lsdb.Event) eventTarget {
	if e.Entity == lsdb.EntityNetwork {
		return eventTarget{network: true, name: NetworkName(e.Network)}
	}
	return eventTarget{name: RouterName(e.Router)}
}

// emitter turns batches of LSDB events into Kubernetes Events.
type emitter struct {
	rec     events.EventRecorder
	opts    EventOptions
	metrics *Metrics

	mu       sync.Mutex
	limiters map[eventTarget]*rate.Limiter
}

func newEmitter(rec events.EventRecorder, opts EventOptions, m *Metrics) *emitter {
	opts.setDefaults()
	return &emitter{rec: rec, opts: opts, metrics: m, limiters: map[eventTarget]*rate.Limiter{}}
}

// emitOne is one Kubernetes Event to emit.
type emitOne struct {
	target              eventTarget
	reason, action, msg string
}

// plan turns a batch of LSDB events into the Events to emit, in order:
// changes that cancel out within the batch (a link removed and added back
// as it was) are dropped, and long runs of one reason on one object become
// one Event.
func plan(batch []lsdb.Event, maxPerBatch int) []emitOne {
	live := cancelPairs(batch)
	type group struct {
		target eventTarget
		reason string
		evs    []*lsdb.Event
	}
	type groupKey struct {
		target eventTarget
		reason string
	}
	var groups []*group
	index := map[groupKey]*group{}
	for _, e := range live {
		t := targetOf(e)
		reason := reasonOf(e)
		k := groupKey{t, reason}
		g := index[k]
		if g == nil {
			g = &group{target: t, reason: reason}
			index[k] = g
			groups = append(groups, g)
		}
		g.evs = append(g.evs, e)
	}
	var out []emitOne
	for _, g := range groups {
		if len(g.evs) <= maxPerBatch {
			for _, e := range g.evs {
				out = append(out, emitOne{target: g.target, reason: g.reason, action: actionOf(e), msg: describe(e)})
			}
			continue
		}
		parts := make([]string, 0, maxPerBatch)
		for _, e := range g.evs[:maxPerBatch] {
			parts = append(parts, what(e))
		}
		out = append(out, emitOne{
			target: g.target,
			reason: g.reason,
			action: bulkAction(g.evs[0]),
			msg: fmt.Sprintf("%d changes: %s, and %d more", len(g.evs), strings.Join(parts, "; "),
				len(g.evs)-maxPerBatch),
		})
	}
	return out
}

// emit emits a batch's Events on the objects regarding returns, within
// each object's budget.
func (em *emitter) emit(batch []lsdb.Event, regarding func(eventTarget) runtime.Object) {
	if em == nil || em.rec == nil || len(batch) == 0 {
		return
	}
	for _, ev := range plan(batch, em.opts.MaxPerBatch) {
		if !em.allow(ev.target) {
			em.metrics.KubeEventsSuppressed.WithLabelValues("rate-limited").Inc()
			continue
		}
		em.rec.Eventf(regarding(ev.target), nil, corev1.EventTypeNormal, ev.reason, ev.action, "%s", ev.msg)
		em.metrics.KubeEvents.WithLabelValues(ev.reason).Inc()
	}
}

// warn emits a Warning Event outside the LSDB changes' budget.
func (em *emitter) warn(regarding runtime.Object, reason, action, msg string) {
	if em == nil || em.rec == nil {
		return
	}
	em.rec.Eventf(regarding, nil, corev1.EventTypeWarning, reason, action, "%s", msg)
	em.metrics.KubeEvents.WithLabelValues(reason).Inc()
}

func (em *emitter) allow(t eventTarget) bool {
	em.mu.Lock()
	defer em.mu.Unlock()
	l := em.limiters[t]
	if l == nil {
		if len(em.limiters) >= 4096 {
			// Forget objects whose budget is whole again.
			for k, v := range em.limiters {
				if v.Tokens() >= float64(em.opts.Burst) {
					delete(em.limiters, k)
				}
			}
		}
		l = rate.NewLimiter(rate.Every(em.opts.Interval), em.opts.Burst)
		em.limiters[t] = l
	}
	return l.Allow()
}

// cancelPairs drops the events of a batch that cancel out: a removal and
// an addition of the same link (metric included) or the same member.
func cancelPairs(batch []lsdb.Event) []*lsdb.Event {
	type key struct {
		area    netip.Addr
		entity  lsdb.EntityType
		router  netip.Addr
		network netip.Prefix
		link    lsdb.Link
		member  netip.Addr
	}
	keyOf := func(e *lsdb.Event) key {
		return key{e.Area, e.Entity, e.Router, e.Network, e.Link, e.Member}
	}
	dead := make([]bool, len(batch))
	open := map[key][]int{} // unmatched events by key; all of one direction
	for i := range batch {
		k := keyOf(&batch[i])
		if idx := open[k]; len(idx) > 0 && batch[idx[0]].Added != batch[i].Added {
			dead[idx[len(idx)-1]], dead[i] = true, true
			open[k] = idx[:len(idx)-1]
			continue
		}
		open[k] = append(open[k], i)
	}
	out := make([]*lsdb.Event, 0, len(batch))
	for i := range batch {
		if !dead[i] {
			out = append(out, &batch[i])
		}
	}
	return out
}

func reasonOf(e *lsdb.Event) string {
	switch {
	case e.Entity == lsdb.EntityNetwork && e.Added:
		return ReasonRouterAttached
	case e.Entity == lsdb.EntityNetwork:
		return ReasonRouterDetached
	case isExternal(e.Link.Kind) && e.Added:
		return ReasonExternalAdded
	case isExternal(e.Link.Kind):
		return ReasonExternalRemoved
	case e.Added:
		return ReasonLinkAdded
	}
	return ReasonLinkRemoved
}

func isExternal(k lsdb.LinkKind) bool { return k == lsdb.KindExternal || k == lsdb.KindNSSAExt }

// actionOf names what changed, so that the events API merges only repeats
// of the same change into one Event (it merges by object, reason and
// action, not by message).
func actionOf(e *lsdb.Event) string {
	if e.Entity == lsdb.EntityNetwork {
		return "router " + e.Member.String()
	}
	return e.Link.Kind.String() + " " + e.Link.IDString()
}

func bulkAction(e *lsdb.Event) string {
	if e.Entity == lsdb.EntityNetwork {
		return "routers"
	}
	return e.Link.Kind.String() + " links"
}

// what describes the thing an event adds or removes.
func what(e *lsdb.Event) string {
	if e.Entity == lsdb.EntityNetwork {
		return "router " + e.Member.String()
	}
	l := &e.Link
	id := l.IDString()
	switch l.Kind {
	case lsdb.KindRouter:
		return fmt.Sprintf("router link to %s (metric %d)", id, l.Metric)
	case lsdb.KindNetwork:
		return fmt.Sprintf("link to transit network %s (metric %d)", id, l.Metric)
	case lsdb.KindStubnet:
		return fmt.Sprintf("stub network %s (metric %d)", id, l.Metric)
	case lsdb.KindXNetwork:
		return fmt.Sprintf("summary route %s (metric %d)", id, l.Metric)
	case lsdb.KindXRouter:
		return fmt.Sprintf("ASBR-summary route to %s (metric %d)", id, l.Metric)
	case lsdb.KindExternal, lsdb.KindNSSAExt:
		kind := "external route"
		if l.Kind == lsdb.KindNSSAExt {
			kind = "NSSA route"
		}
		typ := 1
		if l.Type2 {
			typ = 2
		}
		s := fmt.Sprintf("%s %s (type %d metric %d", kind, id, typ, l.Metric)
		if via := l.Via(); via.IsValid() {
			s += ", via " + via.String()
		}
		return s + ")"
	}
	return fmt.Sprintf("%s %s (metric %d)", l.Kind, id, l.Metric)
}

// describe is the message of an event's Kubernetes Event.
func describe(e *lsdb.Event) string {
	if e.Entity == lsdb.EntityNetwork {
		if e.Added {
			return fmt.Sprintf("Router %s attached to transit network %s in area %s", e.Member, e.Network, e.Area)
		}
		return fmt.Sprintf("Router %s detached from transit network %s in area %s", e.Member, e.Network, e.Area)
	}
	verb := "Removed"
	if e.Added {
		verb = "Added"
	}
	if e.Link.Kind == lsdb.KindExternal {
		return fmt.Sprintf("%s %s", verb, what(e))
	}
	return fmt.Sprintf("%s %s in area %s", verb, what(e), e.Area)
}

// eventRunnable emits the Kubernetes Events of the LSDB changes: it
// follows the change feed from the position it finds once the database is
// ready, so that a new leader announces nothing that happened before its
// term, and turns each batch (gathered for the debounce interval) into
// Events on the objects concerned. It writes nothing but Events.
type eventRunnable struct{ a *Agent }

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (e *eventRunnable) NeedLeaderElection() bool { return true }

// Start follows the feed until ctx is done.
func (e *eventRunnable) Start(ctx context.Context) error {
	a := e.a
	for !a.ready() {
		if !sleep(ctx, 50*time.Millisecond) {
			return nil
		}
	}
	feed := a.db.Feed()
	sub, err := feed.Subscribe(feed.LastSeq())
	if err != nil {
		return err
	}
	var batch []lsdb.Event
	for {
		batch, err = sub.Read(ctx, batch[:0])
		if err == nil && sleep(ctx, a.opts.Debounce) {
			// Whatever came meanwhile joins the batch, so that a change
			// and its undoing cancel out.
			done, cancel := context.WithCancel(ctx)
			cancel()
			batch, err = sub.Read(done, batch)
			if errors.Is(err, context.Canceled) {
				err = nil
			}
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, lsdb.ErrLagged):
			lost := feed.LastSeq() - sub.Next() + 1
			a.metrics.KubeEventsSuppressed.WithLabelValues("lagged").Add(float64(lost))
			a.log.Info("Fell behind the LSDB change feed; its changes are published without Events", "lost", lost)
			if sub, err = feed.Subscribe(feed.LastSeq()); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		a.emitter.emit(batch, func(t eventTarget) runtime.Object { return e.regarding(ctx, t) })
	}
}

// regarding is the object an Event goes on, by name and UID only (the
// events API merges repeats of an Event by the object reference, so it must
// not carry a resource version); without a UID when the cache does not
// hold it (a router that left the LSDB).
func (e *eventRunnable) regarding(ctx context.Context, t eventTarget) runtime.Object {
	kind := kindRouter
	if t.network {
		kind = kindNetwork
	}
	obj := refObject(kind, t.name, "")
	if err := e.a.reader.Get(ctx, client.ObjectKey{Name: t.name}, obj); err != nil {
		return refObject(kind, t.name, "")
	}
	return refObject(kind, t.name, obj.GetUID())
}
