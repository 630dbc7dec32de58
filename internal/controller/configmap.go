package controller

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
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
// snapshot ConfigMap by name; create cannot be restricted by name.
// +kubebuilder:rbac:groups="",namespace=system,resources=configmaps,resourceNames=ospf-lsdb,verbs=get;patch
// +kubebuilder:rbac:groups="",namespace=system,resources=configmaps,verbs=create

// snapshotWriter keeps the snapshot ConfigMap up to date. It runs only on
// the leader.
type snapshotWriter struct {
	a *Agent

	lastHash string // content hash of what the ConfigMap holds
	lastSeq  uint64 // feed position of the last check
	checked  bool
	tooLarge string // hash of the last snapshot found too large, reported once
}

// NeedLeaderElection implements manager.LeaderElectionRunnable.
func (w *snapshotWriter) NeedLeaderElection() bool { return true }

// Start writes the ConfigMap at once if needed, then checks every interval.
func (w *snapshotWriter) Start(ctx context.Context) error {
	log := w.a.log.WithName("snapshot").WithValues("configmap", w.a.opts.Namespace+"/"+w.a.opts.ConfigMapName)
	if err := w.loadHash(ctx); err != nil {
		log.Error(err, "Reading the snapshot ConfigMap failed; it will be written")
	}
	t := time.NewTicker(w.a.opts.SnapshotInterval)
	defer t.Stop()
	for {
		if err := w.check(ctx, log); err != nil && ctx.Err() == nil {
			log.Error(err, "Writing the snapshot ConfigMap failed")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// loadHash reads the content hash of the ConfigMap a previous leader wrote,
// so that an unchanged LSDB is not written again.
func (w *snapshotWriter) loadHash(ctx context.Context) error {
	cm := &corev1.ConfigMap{}
	err := w.a.apiReader.Get(ctx, client.ObjectKey{Namespace: w.a.opts.Namespace, Name: w.a.opts.ConfigMapName}, cm)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	w.lastHash = cm.Annotations[AnnotationContentHash]
	return nil
}

// check writes the ConfigMap when the LSDB's content differs from what it
// holds.
func (w *snapshotWriter) check(ctx context.Context, log logr.Logger) error {
	a := w.a
	if !a.ready() {
		return nil
	}
	if w.checked && a.db.Feed().LastSeq() == w.lastSeq {
		return nil
	}
	snap, seq := a.db.Snapshot()
	hash := contentHash(snap)
	if hash == w.lastHash {
		w.lastSeq, w.checked = seq, true
		return nil
	}
	js := snap.AppendJSON(make([]byte, 0, 1<<20))
	ac := corev1ac.ConfigMap(a.opts.ConfigMapName, a.opts.Namespace).
		WithLabels(map[string]string{ospfv1alpha1.LabelManagedBy: ospfv1alpha1.ManagedBy}).
		WithAnnotations(map[string]string{AnnotationContentHash: hash})
	size, encoding := len(js), "json"
	if len(js) <= a.opts.CompressAbove {
		ac.WithData(map[string]string{ConfigMapKey: string(js)})
	} else {
		gz, err := gzipBytes(js)
		if err != nil {
			return err
		}
		size, encoding = len(gz), "gzip"
		ac.WithBinaryData(map[string][]byte{ConfigMapGzipKey: gz})
	}
	if size > a.opts.MaxConfigMapBytes {
		a.metrics.SnapshotTooLarge.Inc()
		w.lastSeq, w.checked = seq, true
		if w.tooLarge != hash {
			w.tooLarge = hash
			msg := fmt.Sprintf("The LSDB snapshot takes %d bytes as %s, over the limit of %d: the ConfigMap keeps the last snapshot that fitted",
				size, encoding, a.opts.MaxConfigMapBytes)
			log.Error(nil, "LSDB snapshot too large for the ConfigMap; keeping the last one that fitted", "bytes", size, "encoding", encoding, "limit", a.opts.MaxConfigMapBytes)
			ref := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: a.opts.Namespace, Name: a.opts.ConfigMapName}}
			_ = a.apiReader.Get(ctx, client.ObjectKeyFromObject(ref), ref) // for the UID; the Event goes out without
			a.emitter.warn(ref, ReasonSnapshotTooLarge, "WriteSnapshot", msg)
		}
		return nil
	}
	err := a.client.Apply(ctx, ac, client.FieldOwner(FieldManager), client.ForceOwnership)
	a.countWrite("ConfigMap", "apply", err)
	if err != nil {
		return err
	}
	a.metrics.SnapshotBytes.Set(float64(size))
	log.V(1).Info("Wrote the LSDB snapshot", "bytes", size, "encoding", encoding)
	w.lastHash, w.lastSeq, w.checked, w.tooLarge = hash, seq, true, ""
	return nil
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
