package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// Kinds, as metrics and logs name them.
const (
	kindRouter  = "OSPFRouter"
	kindNetwork = "OSPFNetwork"
)

// write is one change the cluster needs.
type write struct {
	kind string
	// obj is the desired object (apply) or the one in the cluster (delete).
	obj            client.Object
	labels, status bool // apply metadata.labels, apply status
	del            bool
}

// written is what a write left behind.
type written struct {
	kind, name string
	uid        types.UID
	rv         string // resource version the write returned
	del        bool
	err        error
}

// The ClusterRole: the agent's kinds (server-side apply is a patch, and a
// create for a new object) and Events, which the events API puts in the
// "default" namespace for cluster-scoped objects such as these.
// +kubebuilder:rbac:groups=ospf.ospf-operator.io,resources=ospfrouters;ospfnetworks,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=ospf.ospf-operator.io,resources=ospfrouters/status;ospfnetworks/status,verbs=get;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile compares every OSPFRouter and OSPFNetwork in the cluster with
// the LSDB and writes the differences: server-side applies of the labels or
// the status that differ, deletes of the objects the agent made that the
// LSDB no longer has. Then it emits the Events of the LSDB changes it
// published. The request is ignored: there is one key, the whole LSDB.
func (a *Agent) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	log := ctrl.LoggerFrom(ctx)
	if !a.ready() {
		a.metrics.Reconciles.WithLabelValues("not-ready").Inc()
		return reconcile.Result{RequeueAfter: 500 * time.Millisecond}, nil
	}
	start := time.Now()
	defer func() { a.metrics.ReconcileSeconds.Observe(time.Since(start).Seconds()) }()

	d, seq := a.desiredState()
	batch := a.takeEvents(seq)
	now := a.opts.Now()
	changed := changeTimes(batch, now)

	var routers ospfv1alpha1.OSPFRouterList
	var networks ospfv1alpha1.OSPFNetworkList
	managed := client.MatchingLabels{ospfv1alpha1.LabelManagedBy: ospfv1alpha1.ManagedBy}
	if err := a.reader.List(ctx, &routers, managed); err != nil {
		a.metrics.Reconciles.WithLabelValues("error").Inc()
		return reconcile.Result{}, err
	}
	if err := a.reader.List(ctx, &networks, managed); err != nil {
		a.metrics.Reconciles.WithLabelValues("error").Inc()
		return reconcile.Result{}, err
	}

	// regarding holds the objects Events go on, by name and UID only: the
	// events API merges repeats of an Event by the object reference, so it
	// must not carry a resource version.
	regarding := map[eventTarget]client.Object{}
	var writes []write
	haveRouters := make(map[string]*ospfv1alpha1.OSPFRouter, len(routers.Items))
	for i := range routers.Items {
		r := &routers.Items[i]
		haveRouters[r.Name] = r
		regarding[eventTarget{name: r.Name}] = refObject(kindRouter, r.Name, r.UID)
		if _, ok := d.Routers[r.Name]; !ok {
			writes = append(writes, write{kind: kindRouter, obj: r, del: true})
		}
	}
	for name, want := range d.Routers {
		w := want.DeepCopy()
		have := haveRouters[name]
		finishRouter(w, have, changedAt(changed, eventTarget{name: name}, now), now)
		op := write{kind: kindRouter, obj: w}
		op.labels = have == nil || !labelsEqual(w.Labels, have.Labels)
		op.status = have == nil || !equality.Semantic.DeepEqual(w.Status, have.Status)
		if op.labels || op.status {
			writes = append(writes, op)
		}
	}
	haveNetworks := make(map[string]*ospfv1alpha1.OSPFNetwork, len(networks.Items))
	for i := range networks.Items {
		n := &networks.Items[i]
		haveNetworks[n.Name] = n
		regarding[eventTarget{network: true, name: n.Name}] = refObject(kindNetwork, n.Name, n.UID)
		if _, ok := d.Networks[n.Name]; !ok {
			writes = append(writes, write{kind: kindNetwork, obj: n, del: true})
		}
	}
	for name, want := range d.Networks {
		w := want.DeepCopy()
		have := haveNetworks[name]
		t := eventTarget{network: true, name: name}
		finishNetwork(w, have, changedAt(changed, t, now))
		op := write{kind: kindNetwork, obj: w}
		op.labels = have == nil || !labelsEqual(w.Labels, have.Labels)
		op.status = have == nil || !equality.Semantic.DeepEqual(w.Status, have.Status)
		if op.labels || op.status {
			writes = append(writes, op)
		}
	}

	results := a.runWrites(ctx, writes)
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		if !r.del {
			t := eventTarget{network: r.kind == kindNetwork, name: r.name}
			regarding[t] = refObject(r.kind, r.name, r.uid)
		}
	}
	a.awaitCache(ctx, results)
	a.emitter.emit(batch, func(t eventTarget) runtime.Object {
		if o, ok := regarding[t]; ok {
			return o
		}
		kind := kindRouter
		if t.network {
			kind = kindNetwork
		}
		return refObject(kind, t.name, "")
	})
	if len(writes) > 0 || len(batch) > 0 {
		log.V(1).Info("Reconciled the cluster with the LSDB", "seq", seq, "writes", len(writes), "errors", len(errs),
			"events", len(batch), "took", time.Since(start).Round(time.Millisecond))
	}
	if len(errs) > 0 {
		a.metrics.Reconciles.WithLabelValues("error").Inc()
		return reconcile.Result{}, fmt.Errorf("%d of %d writes failed: %w", len(errs), len(writes), errors.Join(errs...))
	}
	a.metrics.Reconciles.WithLabelValues("ok").Inc()
	return reconcile.Result{RequeueAfter: a.opts.ResyncPeriod}, nil
}

// changeTimes returns, per object, the time of the latest LSDB change of
// the batch (the origination time of the LSA), never later than now.
func changeTimes(batch []lsdb.Event, now time.Time) map[eventTarget]time.Time {
	out := map[eventTarget]time.Time{}
	for i := range batch {
		e := &batch[i]
		t := time.UnixMilli(e.Time)
		if t.After(now) {
			t = now
		}
		k := targetOf(e)
		if t.After(out[k]) {
			out[k] = t
		}
	}
	return out
}

func changedAt(m map[eventTarget]time.Time, t eventTarget, now time.Time) time.Time {
	if at, ok := m[t]; ok {
		return at
	}
	return now
}

// runWrites carries out the writes, Concurrency at a time.
func (a *Agent) runWrites(ctx context.Context, ws []write) []written {
	out := make([]written, len(ws))
	sem := make(chan struct{}, a.opts.Concurrency)
	var wg sync.WaitGroup
	for i := range ws {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = a.do(ctx, &ws[i])
		})
	}
	wg.Wait()
	return out
}

func (a *Agent) do(ctx context.Context, w *write) written {
	res := written{kind: w.kind, name: w.obj.GetName(), uid: w.obj.GetUID(), del: w.del}
	if w.del {
		uid := w.obj.GetUID()
		err := a.client.Delete(ctx, w.obj, client.Preconditions{UID: &uid})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			err = nil // gone already, or a new object of that name
		}
		a.countWrite(w.kind, "delete", err)
		res.rv = w.obj.GetResourceVersion()
		if err != nil {
			res.err = fmt.Errorf("delete %s %s: %w", w.kind, res.name, err)
		}
		return res
	}
	if w.labels {
		u := applyObject(w.kind, res.name)
		u.SetLabels(w.obj.GetLabels())
		err := a.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
		a.countWrite(w.kind, "apply", err)
		if err != nil {
			res.err = fmt.Errorf("apply %s %s: %w", w.kind, res.name, err)
			return res
		}
		res.uid, res.rv = u.GetUID(), u.GetResourceVersion()
	}
	if w.status {
		u := applyObject(w.kind, res.name)
		st, err := statusOf(w.obj)
		if err == nil {
			u.Object["status"] = st
			err = a.client.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
			a.countWrite(w.kind, "apply-status", err)
		}
		if err != nil {
			res.err = fmt.Errorf("apply the status of %s %s: %w", w.kind, res.name, err)
			return res
		}
		res.uid, res.rv = u.GetUID(), u.GetResourceVersion()
	}
	return res
}

// applyObject is the skeleton of an apply request: what the agent sends
// is what it owns, nothing else.
func applyObject(kind, name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetAPIVersion(ospfv1alpha1.GroupVersion.String())
	u.SetKind(kind)
	u.SetName(name)
	return u
}

// statusOf returns an object's status as JSON values.
func statusOf(obj client.Object) (map[string]any, error) {
	var st any
	switch o := obj.(type) {
	case *ospfv1alpha1.OSPFRouter:
		st = &o.Status
	case *ospfv1alpha1.OSPFNetwork:
		st = &o.Status
	default:
		return nil, fmt.Errorf("no status in %T", obj)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// refObject is an object for an Event to regard.
func refObject(kind, name string, uid types.UID) client.Object {
	meta := metav1.ObjectMeta{Name: name, UID: uid}
	if kind == kindNetwork {
		return &ospfv1alpha1.OSPFNetwork{ObjectMeta: meta}
	}
	return &ospfv1alpha1.OSPFRouter{ObjectMeta: meta}
}

// awaitCache waits, at most CacheWait, until the manager's cache shows the
// writes that succeeded, so that the next reconcile compares with them
// and does not write the same again.
func (a *Agent) awaitCache(ctx context.Context, results []written) {
	var wait []written
	for _, r := range results {
		if r.err == nil && (r.del || r.rv != "") {
			wait = append(wait, r)
		}
	}
	deadline := time.Now().Add(a.opts.CacheWait)
	for len(wait) > 0 {
		rest := wait[:0]
		for _, r := range wait {
			if !a.cacheShows(ctx, r) {
				rest = append(rest, r)
			}
		}
		wait = rest
		if len(wait) == 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	if len(wait) > 0 {
		a.log.V(1).Info("The cache did not show every write in time", "pending", len(wait))
	}
}

func (a *Agent) cacheShows(ctx context.Context, r written) bool {
	obj := refObject(r.kind, r.name, "")
	err := a.reader.Get(ctx, client.ObjectKey{Name: r.name}, obj)
	if r.del {
		return apierrors.IsNotFound(err) || (err == nil && obj.GetUID() != r.uid)
	}
	return err == nil && versionAtLeast(obj.GetResourceVersion(), r.rv)
}

// versionAtLeast compares resource versions as the numbers etcd makes
// them; versions that are not numbers are only equal or not.
func versionAtLeast(have, want string) bool {
	h, err1 := strconv.ParseUint(have, 10, 64)
	w, err2 := strconv.ParseUint(want, 10, 64)
	if err1 != nil || err2 != nil {
		return have == want
	}
	return h >= w
}
