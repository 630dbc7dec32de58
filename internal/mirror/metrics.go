package mirror

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// Metrics are the mirror's Prometheus metrics. Register them with Register.
type Metrics struct {
	SessionUp      prometheus.Gauge
	Sessions       prometheus.Counter
	SessionErrors  *prometheus.CounterVec
	Resyncs        prometheus.Counter
	LoadSeconds    prometheus.Gauge
	MissingRouters prometheus.Gauge
	db             *lsdb.DB
}

// NewMetrics returns the metrics of a mirror of db.
func NewMetrics(db *lsdb.DB) *Metrics {
	return &Metrics{
		SessionUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ospf_operator_ospfd_session_up",
			Help: "1 while the session with ospfd's OSPF API is up and the LSDB is synced, else 0.",
		}),
		Sessions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ospf_operator_ospfd_sessions_total",
			Help: "Sessions established with ospfd's OSPF API.",
		}),
		SessionErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ospf_operator_ospfd_session_errors_total",
			Help: "Sessions with ospfd that failed or ended, by phase (connect, sync, stream).",
		}, []string{"phase"}),
		Resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ospf_operator_lsdb_resyncs_total",
			Help: "Full LSDB dumps applied after a reconnect.",
		}),
		LoadSeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ospf_operator_lsdb_sync_duration_seconds",
			Help: "Time the last full LSDB dump took, from the request to its end.",
		}),
		MissingRouters: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ospf_operator_lsdb_missing_router_lsas",
			Help: "Routers referenced by others whose own Router-LSA ospfd did not deliver (FRR drops API messages over 1,500 bytes).",
		}),
		db: db,
	}
}

// Register registers the metrics and the database's collector.
func (m *Metrics) Register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.SessionUp, m.Sessions, m.SessionErrors, m.Resyncs, m.LoadSeconds, m.MissingRouters, dbCollector{m.db}} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

var (
	lsasDesc = prometheus.NewDesc("ospf_operator_lsas",
		"LSAs in the database by area and LS type (AS-scoped types under area 0.0.0.0).", []string{"area", "type"}, nil)
	eventsDesc = prometheus.NewDesc("ospf_operator_events_total",
		"Events published on the change feed.", nil, nil)
	lsaUpdatesDesc = prometheus.NewDesc("ospf_operator_lsa_notifications_total",
		"LSA notifications received from ospfd, by kind (update, delete).", []string{"kind"}, nil)
	lsaRejectedDesc = prometheus.NewDesc("ospf_operator_lsa_rejected_total",
		"LSAs not applied, by reason: malformed (bad length or checksum), stale (older than the instance held), ignored (opaque or unknown type, kept out of the graph).", []string{"reason"}, nil)
)

// dbCollector reads the database's counts at scrape time.
type dbCollector struct{ db *lsdb.DB }

func (c dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lsasDesc
	ch <- eventsDesc
	ch <- lsaUpdatesDesc
	ch <- lsaRejectedDesc
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	for _, tc := range c.db.Counts() {
		ch <- prometheus.MustNewConstMetric(lsasDesc, prometheus.GaugeValue, float64(tc.Count), tc.Area.String(), tc.Type.String())
	}
	ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(c.db.Feed().LastSeq()))
	st := c.db.Stats()
	ch <- prometheus.MustNewConstMetric(lsaUpdatesDesc, prometheus.CounterValue, float64(st.Updates), "update")
	ch <- prometheus.MustNewConstMetric(lsaUpdatesDesc, prometheus.CounterValue, float64(st.Deletes), "delete")
	ch <- prometheus.MustNewConstMetric(lsaRejectedDesc, prometheus.CounterValue, float64(st.Malformed), "malformed")
	ch <- prometheus.MustNewConstMetric(lsaRejectedDesc, prometheus.CounterValue, float64(st.Stale), "stale")
	ch <- prometheus.MustNewConstMetric(lsaRejectedDesc, prometheus.CounterValue, float64(st.Ignored), "ignored")
}
