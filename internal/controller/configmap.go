package controller

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
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

// The snapshot ConfigMap.
const (
	// DefaultConfigMapName is the name of the ConfigMap holding the LSDB.
	DefaultConfigMapName = "ospf-lsdb"
	// ConfigMapKey holds the snapshot in the seed's format (data).
	ConfigMapKey = "lsdb.json"
	// ConfigMapGzipKey holds it gzip-compressed (binaryData), when large.
	ConfigMapGzipKey = "lsdb.json.gz"
	// AnnotationContentHash is the SHA-256 of the snapshot with its
	// "updated" stamp set to 0: equal hashes, equal topology.
	AnnotationContentHash = "ospf.ospf-operator.io/content-sha256"
	// DefaultSnapshotInterval is how often, at most, the ConfigMap is written.
	DefaultSnapshotInterval = 10 * time.Second
	// DefaultCompressAbove is the size of JSON above which the snapshot is
	// stored compressed.
	DefaultCompressAbove = 900 << 10
	// DefaultMaxConfigMapBytes is the most snapshot bytes the ConfigMap
	// takes: the API server refuses ConfigMaps over 1 MiB.
	DefaultMaxConfigMapBytes = 1000 << 10
)

// The Role in the agent's namespace (config/default names it): the
// snapshot ConfigMap by name (list and watch restricted by a field selector
// on its name); create cannot be restricted by name.
// +kubebuilder:rbac:groups="",namespace=system,resources=configmaps,resourceNames=ospf-lsdb,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups="",namespace=system,resources=configmaps,verbs=create

// snapshotReconciler keeps the snapshot ConfigMap equal to the LSDB. Its
// one request is the ConfigMap's name; it is enqueued when the ConfigMap
// changes (deleted or edited by hand: repaired at once) and when the LSDB
// does. A change of the LSDB is written at most every SnapshotInterval.
type snapshotReconciler struct {
	a *Agent

	mu sync.Mutex
	// What the agent last wrote, to pace writes and to know the
	// ConfigMap's content without reading it back.
	lastRV    string
	lastHash  string
	lastWrite time.Time
	// verified caches the content hash of a ConfigMap version written by
	// someone else (a previous leader, a person).
	verifiedRV, verifiedHash string
	rendered                 *renderedSnapshot
	tooLarge                 string // hash of the last snapshot found too large, reported once
}

// renderedSnapshot is the ConfigMap content of one LSDB position.
type renderedSnapshot struct {
	seq      uint64
	hash     string
	js, gz   []byte // one of them
	size     int
	encoding string
}

func (w *snapshotReconciler) key() client.ObjectKey {
	return client.ObjectKey{Namespace: w.a.opts.Namespace, Name: w.a.opts.ConfigMapName}
}

func (w *snapshotReconciler) setup(mgr ctrl.Manager) error {
	req := reconcile.Request{NamespacedName: w.key()}
	lsdbChanged := source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go w.a.followFeed(ctx, w.a.opts.Debounce, func(bool) { q.Add(req) })
		return nil
	})
	isOurs := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == req.Namespace && o.GetName() == req.Name
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("ospf-snapshot").
		For(&corev1.ConfigMap{}, builder.WithPredicates(isOurs)).
		WatchesRawSource(lsdbChanged).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1}).
		Complete(w)
}

// Reconcile writes the ConfigMap when what it holds differs from the
// LSDB's content: at once when it is missing or was changed by someone
// else, at most every SnapshotInterval when the LSDB changed.
func (w *snapshotReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	a := w.a
	if !a.ready() {
		return reconcile.Result{RequeueAfter: 500 * time.Millisecond}, nil
	}
	log := ctrl.LoggerFrom(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()

	cm := &corev1.ConfigMap{}
	err := a.reader.Get(ctx, w.key(), cm)
	switch {
	case apierrors.IsNotFound(err):
		cm = nil
	case err != nil:
		return reconcile.Result{}, err
	}
	if cm != nil && w.lastRV != "" && cm.ResourceVersion != w.lastRV && versionAtLeast(w.lastRV, cm.ResourceVersion) &&
		time.Since(w.lastWrite) < a.opts.CacheWait {
		// The cache has not caught up with the last write yet.
		return reconcile.Result{RequeueAfter: 20 * time.Millisecond}, nil
	}
	want, err := w.render()
	if err != nil {
		return reconcile.Result{}, err
	}
	have, untouched := w.held(cm)
	if cm != nil && have == want.hash && cm.Annotations[AnnotationContentHash] == want.hash &&
		cm.Labels[ospfv1alpha1.LabelManagedBy] == ospfv1alpha1.ManagedBy {
		return reconcile.Result{}, nil
	}
	if want.size > a.opts.MaxConfigMapBytes {
		a.metrics.SnapshotTooLarge.Inc()
		if w.tooLarge != want.hash {
			w.tooLarge = want.hash
			msg := fmt.Sprintf("The LSDB snapshot takes %d bytes as %s, over the limit of %d: the ConfigMap keeps the last snapshot that fitted",
				want.size, want.encoding, a.opts.MaxConfigMapBytes)
			log.Error(nil, "LSDB snapshot too large for the ConfigMap; keeping the last one that fitted",
				"bytes", want.size, "encoding", want.encoding, "limit", a.opts.MaxConfigMapBytes)
			ref := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: a.opts.Namespace, Name: a.opts.ConfigMapName}}
			if cm != nil {
				ref.UID = cm.UID
			}
			a.emitter.warn(ref, ReasonSnapshotTooLarge, "WriteSnapshot", msg)
		}
		return reconcile.Result{}, nil
	}
	// A ConfigMap as the agent left it follows the LSDB at its pace; one
	// missing or changed by someone else is repaired at once.
	if cm != nil && untouched {
		if wait := a.opts.SnapshotInterval - time.Since(w.lastWrite); wait > 0 {
			return reconcile.Result{RequeueAfter: wait}, nil
		}
	}
	ac := corev1ac.ConfigMap(a.opts.ConfigMapName, a.opts.Namespace).
		WithLabels(map[string]string{ospfv1alpha1.LabelManagedBy: ospfv1alpha1.ManagedBy}).
		WithAnnotations(map[string]string{AnnotationContentHash: want.hash})
	if want.gz != nil {
		ac.WithBinaryData(map[string][]byte{ConfigMapGzipKey: want.gz})
	} else {
		ac.WithData(map[string]string{ConfigMapKey: string(want.js)})
	}
	err = a.client.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership)
	a.countWrite("ConfigMap", "apply", err)
	if err != nil {
		return reconcile.Result{}, err
	}
	a.metrics.SnapshotBytes.Set(float64(want.size))
	w.lastHash, w.lastWrite, w.tooLarge = want.hash, time.Now(), ""
	w.lastRV = ""
	if ac.ResourceVersion != nil {
		w.lastRV = *ac.ResourceVersion
	}
	log.V(1).Info("Wrote the LSDB snapshot", "bytes", want.size, "encoding", want.encoding, "repair", cm == nil || !untouched)
	return reconcile.Result{}, nil
}

// render returns the ConfigMap content of the LSDB as it is now.
func (w *snapshotReconciler) render() (*renderedSnapshot, error) {
	a := w.a
	if r := w.rendered; r != nil && r.seq == a.db.Feed().LastSeq() {
		return r, nil
	}
	snap, seq := a.db.Snapshot()
	r := &renderedSnapshot{seq: seq, hash: contentHash(snap)}
	if old := w.rendered; old != nil && old.hash == r.hash {
		old.seq = seq
		return old, nil
	}
	js := snap.AppendJSON(make([]byte, 0, 1<<20))
	r.js, r.size, r.encoding = js, len(js), "json"
	if len(js) > a.opts.CompressAbove {
		gz, err := gzipBytes(js)
		if err != nil {
			return nil, err
		}
		r.js, r.gz, r.size, r.encoding = nil, gz, len(gz), "gzip"
	}
	w.rendered = r
	return r, nil
}

// held returns the content hash of the snapshot a ConfigMap holds ("" when
// none can be read from it) and whether it is as the agent last wrote it.
// A version someone else wrote is read and hashed, once.
func (w *snapshotReconciler) held(cm *corev1.ConfigMap) (hash string, untouched bool) {
	if cm == nil {
		return "", false
	}
	if cm.ResourceVersion == w.lastRV {
		return w.lastHash, true
	}
	if cm.ResourceVersion != w.verifiedRV {
		w.verifiedRV, w.verifiedHash = cm.ResourceVersion, storedHash(cm)
	}
	return w.verifiedHash, false
}

// storedHash is the content hash of the snapshot a ConfigMap holds, "" when
// it holds none that parses.
func storedHash(cm *corev1.ConfigMap) string {
	js := []byte(cm.Data[ConfigMapKey])
	if gz := cm.BinaryData[ConfigMapGzipKey]; len(gz) > 0 {
		if len(js) > 0 {
			return "" // both: not what the agent writes
		}
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		if err != nil {
			return ""
		}
		if js, err = io.ReadAll(zr); err != nil {
			return ""
		}
	}
	snap, err := lsdb.ParseSnapshot(js)
	if err != nil {
		return ""
	}
	return contentHash(snap)
}

func gzipBytes(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
