package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/relay"
	"github.com/ospf-operator/ospf-operator/internal/stream"
)

// streamCollector exports the counters of the stream's outputs (the
// WebSocket server, the archive, the snapshot writer) and, for the relay,
// of its upstream, read from their Stats at each scrape.
type streamCollector struct {
	outputs func() stream.OutputsStats
	relay   func() relay.Stats // nil outside the relay
	janitor *archive.Janitor   // nil without --retention or --compress-archive
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("ospf_operator_"+name, help, labels, nil)
}

var (
	descClients     = desc("stream_clients", "WebSocket clients connected.")
	descLastSeq     = desc("stream_last_seq", "Sequence number of the newest event fanned out.")
	descAccepted    = desc("stream_connections_accepted_total", "WebSocket connections accepted.")
	descRejected    = desc("stream_connections_rejected_total", "WebSocket connections refused by the cap or during shutdown.")
	descClosed      = desc("stream_clients_closed_total", "WebSocket clients closed by the server, by reason.", "reason")
	descMessages    = desc("stream_messages_total", "Messages written to WebSocket clients.")
	descHubResets   = desc("stream_fanout_resets_total", "Times the fan-out fell out of the change feed's window.")
	descArchEvents  = desc("archive_events_total", "Events written to the hourly archive.")
	descArchWrites  = desc("archive_writes_total", "Successful writes to the hourly archive.")
	descArchErrors  = desc("archive_errors_total", "Failed opens, writes, syncs and repairs of the archive.")
	descArchLost    = desc("archive_lost_events_total", "Events, and the state records among them, that left the feed's window before the archive could write them.")
	descArchFailing = desc("archive_failing", "1 while the archive's last write failed.")
	descSnapWritten = desc("snapshot_files_written_total", "Minute snapshots written.")
	descSnapErrors  = desc("snapshot_file_errors_total", "Minute snapshots whose writing failed.")
	descSnapSkipped = desc("snapshot_files_skipped_total", "Minute snapshots skipped because the LSDB was not loaded.")
	descJanRemoved  = desc("archive_files_removed_total", "Hour files and minute snapshots removed by --retention.")
	descJanCompress = desc("archive_files_compressed_total", "Hour files and minute snapshots gzip-compressed by --compress-archive.")
	descJanErrors   = desc("archive_maintenance_errors_total", "Files that could not be removed or compressed (tried again at the next pass; nothing is lost).")
	descUpConnected = desc("relay_upstream_connected", "1 while the relay follows its upstream.")
	descUpConnects  = desc("relay_upstream_connects_total", "Stream connections the relay made to its upstream.")
	descUpLosses    = desc("relay_upstream_losses_total", "Times the relay lost its upstream.")
	descUpResnaps   = desc("relay_resnapshots_total", "Snapshots the relay took after its first.")
	descUpReceived  = desc("relay_events_received_total", "Events the relay received from its upstream.")
	descUpFixes     = desc("relay_snapshot_corrections_total", "Times the relay's view differed from its upstream's and was replaced by it: a check of the state records, which should stay at 0.")
	descCheckpoints = desc("relay_checkpoints_total", "Views saved where the archive ends (every --checkpoint-interval while it grows, and at a clean stop).")
	descCheckErrors = desc("relay_checkpoint_errors_total", "Checkpoints whose writing failed (a relay killed then may miss changes made while it was down).")
	descCheckLast   = desc("relay_last_checkpoint_timestamp_seconds", "When the last checkpoint was saved (Unix time; 0 before the first).")
)

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descClients, descLastSeq, descAccepted, descRejected, descClosed, descMessages,
		descHubResets, descArchEvents, descArchWrites, descArchErrors, descArchLost, descArchFailing,
		descSnapWritten, descSnapErrors, descSnapSkipped} {
		ch <- d
	}
	if c.janitor != nil {
		for _, d := range []*prometheus.Desc{descJanRemoved, descJanCompress, descJanErrors} {
			ch <- d
		}
	}
	if c.relay != nil {
		for _, d := range []*prometheus.Desc{descUpConnected, descUpConnects, descUpLosses, descUpResnaps, descUpReceived, descUpFixes,
			descCheckpoints, descCheckErrors, descCheckLast} {
			ch <- d
		}
	}
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	st := c.outputs()
	if s := st.Server; s != nil {
		gauge(descClients, float64(s.Clients))
		gauge(descLastSeq, float64(s.LastSeq))
		counter(descAccepted, s.Accepted)
		counter(descRejected, s.Rejected)
		counter(descClosed, s.TooSlow, "too_slow")
		counter(descClosed, s.Resnapshots, "resnapshot")
		counter(descClosed, s.Policy, "policy")
		counter(descClosed, s.PingTimeout, "ping_timeout")
		counter(descMessages, s.Messages)
		counter(descHubResets, s.HubResets)
	}
	if a := st.Archive; a != nil {
		counter(descArchEvents, a.Events)
		counter(descArchWrites, a.Batches)
		counter(descArchErrors, a.Errors)
		counter(descArchLost, a.Lost)
		gauge(descArchFailing, b2f(a.Failing))
	}
	if s := st.Snapshots; s != nil {
		counter(descSnapWritten, s.Written)
		counter(descSnapErrors, s.Errors)
		counter(descSnapSkipped, s.Skipped)
	}
	if c.janitor != nil {
		j := c.janitor.Stats()
		counter(descJanRemoved, j.Removed)
		counter(descJanCompress, j.Compressed)
		counter(descJanErrors, j.Errors)
	}
	if c.relay != nil {
		r := c.relay()
		gauge(descUpConnected, b2f(r.Connected))
		counter(descUpConnects, r.Connects)
		counter(descUpLosses, r.Losses)
		counter(descUpResnaps, r.Resnapshots)
		counter(descUpReceived, r.Received)
		counter(descUpFixes, r.Corrections)
		counter(descCheckpoints, r.Checkpoints)
		counter(descCheckErrors, r.CheckpointErrors)
		last := 0.0
		if !r.LastCheckpoint.IsZero() {
			last = float64(r.LastCheckpoint.UnixMilli()) / 1000
		}
		gauge(descCheckLast, last)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
