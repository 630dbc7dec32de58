package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
)

// Kinds, as metrics and logs name them.
const (
	kindRouter  = "OSPFRouter"
	kindNetwork = "OSPFNetwork"
)

// The ClusterRole: the agent's kinds (server-side apply is a patch, and a
// create for a new object) and Events, which the events API puts in the
// "default" namespace for cluster-scoped objects such as these.
// +kubebuilder:rbac:groups=ospf.ospf-operator.io,resources=ospfrouters;ospfnetworks,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// objectReconciler reconciles the OSPFRouter objects, or the OSPFNetwork
// objects, one name per request: a failed write retries only its object,
// and Options.Concurrency objects are written in parallel.
type objectReconciler struct {
	a    *Agent
	kind string

	// written holds, by name, the resource version of the agent's last
	// write until the cache shows it: a reconcile in between waits rather
	// than compare with an older copy and write the same again.
	written sync.Map // name -> expectation

	prevDesired *Desired // what the source last enqueued for; its own
}

type expectation struct {
	rv       string
	deadline time.Time
}

func (r *objectReconciler) newObject() client.Object {
	if r.kind == kindNetwork {
		return &ospfv1alpha1.OSPFNetwork{}
	}
	return &ospfv1alpha1.OSPFRouter{}
}

func (r *objectReconciler) setup(mgr ctrl.Manager) error {
	src := source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go r.a.followFeed(ctx, r.a.opts.Debounce, func(all bool) { r.enqueueChanged(ctx, q, all) })
		return nil
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("ospf-" + strings.ToLower(r.kind)).
		For(r.newObject()).
		WatchesRawSource(src).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.a.opts.Concurrency}).
		Complete(r)
}

// enqueueChanged enqueues the names whose desired object changed since the
// last call, or, with all, every name the LSDB or the cache has.
func (r *objectReconciler) enqueueChanged(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], all bool) {
	d, _ := r.a.desiredState()
	add := func(name string) { q.Add(reconcile.Request{NamespacedName: client.ObjectKey{Name: name}}) }
	prev := r.prevDesired
	r.prevDesired = d
	if all || prev == nil {
		var names []string
		if r.kind == kindRouter {
			var l ospfv1alpha1.OSPFRouterList
			if err := r.a.reader.List(ctx, &l); err == nil {
				for i := range l.Items {
					names = append(names, l.Items[i].Name)
				}
			}
			for name := range d.Routers {
				names = append(names, name)
			}
		} else {
			var l ospfv1alpha1.OSPFNetworkList
			if err := r.a.reader.List(ctx, &l); err == nil {
				for i := range l.Items {
					names = append(names, l.Items[i].Name)
				}
			}
			for name := range d.Networks {
				names = append(names, name)
			}
		}
		for _, n := range names {
			add(n)
		}
		return
	}
	if prev == d {
		return
	}
	if r.kind == kindRouter {
		diffNames(prev.Routers, d.Routers, func(x, y *ospfv1alpha1.OSPFRouter) bool {
			return equality.Semantic.DeepEqual(x.Status, y.Status) && maps.Equal(x.Labels, y.Labels)
		}, add)
		return
	}
	diffNames(prev.Networks, d.Networks, func(x, y *ospfv1alpha1.OSPFNetwork) bool {
		return equality.Semantic.DeepEqual(x.Status, y.Status) && maps.Equal(x.Labels, y.Labels)
	}, add)
}

// diffNames calls add for every name in a or b whose object differs.
func diffNames[T any](a, b map[string]T, equal func(x, y T) bool, add func(string)) {
	for name, x := range a {
		if y, ok := b[name]; !ok || !equal(x, y) {
			add(name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			add(name)
		}
	}
}

// Reconcile compares one OSPFRouter or OSPFNetwork in the cluster with
// the LSDB and writes the difference: server-side applies of the labels or
// the status that differ, a delete of an object the agent made that the
// LSDB no longer has. Objects without the agent's managed-by label that
// the LSDB does not have are left alone.
func (r *objectReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	a := r.a
	if !a.ready() {
		a.metrics.Reconciles.WithLabelValues("not-ready").Inc()
		return reconcile.Result{RequeueAfter: 500 * time.Millisecond}, nil
	}
	start := time.Now()
	defer func() { a.metrics.ReconcileSeconds.Observe(time.Since(start).Seconds()) }()
	name := req.Name

	have := r.newObject()
	err := a.reader.Get(ctx, req.NamespacedName, have)
	switch {
	case apierrors.IsNotFound(err):
		have = nil
	case err != nil:
		a.metrics.Reconciles.WithLabelValues("error").Inc()
		return reconcile.Result{}, err
	}
	if e, ok := r.written.Load(name); ok {
		exp := e.(expectation)
		switch {
		case have != nil && versionAtLeast(have.GetResourceVersion(), exp.rv), time.Now().After(exp.deadline):
			r.written.CompareAndDelete(name, e)
		default:
			return reconcile.Result{RequeueAfter: 20 * time.Millisecond}, nil
		}
	}

	d, _ := a.desiredState()
	now := a.opts.Now()
	var w write
	switch r.kind {
	case kindRouter:
		h, _ := have.(*ospfv1alpha1.OSPFRouter)
		if want, ok := d.Routers[name]; ok {
			x := want.DeepCopy()
			finishRouter(x, h, now, now)
			w = r.apply(x, have, h != nil && equality.Semantic.DeepEqual(x.Status, h.Status))
		} else {
			w = r.remove(have)
		}
	default:
		h, _ := have.(*ospfv1alpha1.OSPFNetwork)
		if want, ok := d.Networks[name]; ok {
			x := want.DeepCopy()
			finishNetwork(x, h, now)
			w = r.apply(x, have, h != nil && equality.Semantic.DeepEqual(x.Status, h.Status))
		} else {
			w = r.remove(have)
		}
	}
	if w.obj == nil {
		a.metrics.Reconciles.WithLabelValues("ok").Inc()
		return reconcile.Result{}, nil
	}
	res := a.do(ctx, &w)
	if res.err != nil {
		a.metrics.Reconciles.WithLabelValues("error").Inc()
		return reconcile.Result{}, res.err
	}
	if res.rv != "" || res.del {
		r.written.Store(name, expectation{rv: res.rv, deadline: time.Now().Add(a.opts.CacheWait)})
	}
	ctrl.LoggerFrom(ctx).V(1).Info("Wrote the object", "delete", w.del,
		"took", time.Since(start).Round(time.Millisecond))
	a.metrics.Reconciles.WithLabelValues("ok").Inc()
	return reconcile.Result{}, nil
}

// apply returns the apply that brings have (nil: none) to want: one
// write of labels and status together, when either differs.
func (r *objectReconciler) apply(want, have client.Object, statusEqual bool) write {
	if have != nil && statusEqual && labelsEqual(want.GetLabels(), have.GetLabels()) {
		return write{}
	}
	return write{kind: r.kind, obj: want}
}

// remove returns the delete of an object the LSDB does not have, if the
// agent made it.
func (r *objectReconciler) remove(have client.Object) write {
	if have == nil || have.GetLabels()[ospfv1alpha1.LabelManagedBy] != ospfv1alpha1.ManagedBy {
		return write{}
	}
	return write{kind: r.kind, obj: have, del: true}
}

// write is one change the cluster needs.
type write struct {
	kind string
	// obj is the desired object (apply) or the one in the cluster (delete).
	obj client.Object
	del bool
}

// written is what a write left behind.
type written struct {
	kind, name string
	uid        types.UID
	rv         string // resource version the write returned
	del        bool
	err        error
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
	// One apply carries the labels and the status: the CRDs have no status
	// subresource, so that a new object costs one write, not two, and an
	// apply that left either out would remove the fields it omits.
	u := applyObject(w.kind, res.name)
	u.SetLabels(w.obj.GetLabels())
	st, err := statusOf(w.obj)
	if err == nil {
		u.Object["status"] = st
		err = a.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership)
		a.countWrite(w.kind, "apply", err)
	}
	if err != nil {
		res.err = fmt.Errorf("apply %s %s: %w", w.kind, res.name, err)
		return res
	}
	res.uid, res.rv = u.GetUID(), u.GetResourceVersion()
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
