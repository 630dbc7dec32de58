package controller

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the agent's Prometheus metrics. Register them with Register;
// an Agent without Metrics keeps unregistered ones.
type Metrics struct {
	// Writes counts API requests that change objects, by kind (OSPFRouter,
	// OSPFNetwork, ConfigMap), operation (apply, delete) and
	// result (ok, error).
	Writes *prometheus.CounterVec
	// Objects is the number of objects the LSDB asks for, by kind.
	Objects *prometheus.GaugeVec
	// Reconciles counts reconcile runs by result (ok, error, not-ready).
	Reconciles *prometheus.CounterVec
	// ReconcileSeconds is how long reconcile runs take.
	ReconcileSeconds prometheus.Histogram
	// KubeEvents counts the Kubernetes Events emitted, by reason.
	KubeEvents *prometheus.CounterVec
	// KubeEventsSuppressed counts LSDB events that became no Kubernetes
	// Event, by cause: rate-limited (the object's budget was spent),
	// overflow (the buffer of pending events was full), lagged (the agent
	// fell behind the change feed).
	KubeEventsSuppressed *prometheus.CounterVec
	// SnapshotBytes is the size of the snapshot last written to the
	// ConfigMap, as stored (compressed or not).
	SnapshotBytes prometheus.Gauge
	// SnapshotTooLarge counts snapshots that did not fit in the ConfigMap
	// even compressed; the ConfigMap keeps the last one that did.
	SnapshotTooLarge prometheus.Counter
	// Leader is 1 while this agent leads (writes), else 0.
	Leader prometheus.Gauge
	// LeaderTerms counts the terms this agent has led.
	LeaderTerms prometheus.Counter
	// StepDowns counts the terms this agent ended itself, by reason
	// (ospfd: its FRR session was down too long; error; shutdown).
	StepDowns *prometheus.CounterVec
	// AgreementAgents is the number of live agents the leader compares,
	// itself included; 0 on the other agents.
	AgreementAgents prometheus.Gauge
	// AgreementMismatched is the number of agents whose LSDB has differed
	// from the leader's for longer than the grace period.
	AgreementMismatched prometheus.Gauge
}

// NewMetrics returns the agent's metrics, unregistered.
func NewMetrics() *Metrics {
	return &Metrics{
		Writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ospf_operator_api_writes_total",
			Help: "Kubernetes API requests that write objects, by kind, operation (apply, delete) and result (ok, error).",
		}, []string{"kind", "op", "result"}),
		Objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ospf_operator_desired_objects",
			Help: "OSPFRouter and OSPFNetwork objects the LSDB asks for, by kind.",
		}, []string{"kind"}),
		Reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ospf_operator_reconciles_total",
			Help: "Reconcile runs of the cluster against the LSDB, by result (ok, error, not-ready).",
		}, []string{"result"}),
		ReconcileSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "ospf_operator_reconcile_duration_seconds",
			Help:    "Time a reconcile run of the cluster against the LSDB takes.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9),
		}),
		KubeEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ospf_operator_kube_events_total",
			Help: "Kubernetes Events emitted for LSDB changes, by reason.",
		}, []string{"reason"}),
		KubeEventsSuppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ospf_operator_kube_events_suppressed_total",
			Help: "LSDB changes that became no Kubernetes Event, by cause (rate-limited, overflow, lagged).",
		}, []string{"cause"}),
		SnapshotBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ospf_operator_snapshot_configmap_bytes",
			Help: "Size of the LSDB snapshot last written to the ConfigMap, as stored (gzip when compressed).",
		}),
		SnapshotTooLarge: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ospf_operator_snapshot_configmap_too_large_total",
			Help: "LSDB snapshots that did not fit in the ConfigMap even compressed; it keeps the last one that did.",
		}),
		Leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ospf_operator_leader",
			Help: "1 while this agent holds the leader Lease and writes the resources, else 0.",
		}),
		LeaderTerms: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ospf_operator_leader_terms_total",
			Help: "Terms this agent has led.",
		}),
		StepDowns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ospf_operator_leader_stepdowns_total",
			Help: "Terms this agent ended itself, by reason (ospfd: its FRR session was down too long, error, shutdown).",
		}, []string{"reason"}),
		AgreementAgents: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ospf_operator_lsdb_agreement_agents",
			Help: "Live agents whose LSDB digest the leader compares with its own, itself included (0 when not leading).",
		}),
		AgreementMismatched: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ospf_operator_lsdb_agreement_mismatched_agents",
			Help: "Agents whose LSDB has differed from the leader's, in an area both hold, for longer than the grace period.",
		}),
	}
}

// Register registers the metrics.
func (m *Metrics) Register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.Writes, m.Objects, m.Reconciles, m.ReconcileSeconds,
		m.KubeEvents, m.KubeEventsSuppressed, m.SnapshotBytes, m.SnapshotTooLarge,
		m.Leader, m.LeaderTerms, m.StepDowns, m.AgreementAgents, m.AgreementMismatched} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}
