package main

import (
	"context"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// startCommand runs the root command with args until the test ends.
func startCommand(t *testing.T, stdout, stderr *lockedBuffer, args ...string) {
	t.Helper()
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s returned %v after cancel", args[0], err)
		}
	})
}

// status is the HTTP status of GET url, 0 when nobody answers.
func status(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// metricValue reads one sample of a Prometheus text exposition; -1 when
// it is absent.
func metricValue(body, sample string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestRelayCommand runs `stream --ws-listen` on the fake ospfd and
// `relay` in front of it: a change reaches the relay's stdout and
// archive, and both commands' stream metrics count it.
func TestRelayCommand(t *testing.T) {
	r10 := netip.MustParseAddr("10.10.10.10")
	srv := nycServer(t, ospfapitest.Config{RouterID: r10})
	wsAddr, streamMetrics, relayAddr := streamtest.FreeAddr(t), streamtest.FreeAddr(t), streamtest.FreeAddr(t)
	events := t.TempDir()
	var streamOut, relayOut, stderr lockedBuffer
	startCommand(t, &streamOut, &stderr, "stream", "--server", srv.Addr(), "--holddown", "0", "--mute-stdout-stream",
		"--ws-listen", wsAddr, "--metrics-listen", streamMetrics)
	waitUntil(t, func() bool { return status("http://"+streamMetrics+"/readyz") == 200 }, "stream to load", &stderr)
	startCommand(t, &relayOut, &stderr, "relay", "--upstream", "ws://"+wsAddr, "--ws-listen", relayAddr, "--events-path-prefix", events,
		"--checkpoint-interval", "100ms")
	waitUntil(t, func() bool { return status("http://"+relayAddr+"/readyz") == 200 }, "the relay to follow", &stderr)
	if code, _ := get(t, "http://"+relayAddr+"/healthz"); code != 200 {
		t.Errorf("relay /healthz: %d", code)
	}
	if code, page := get(t, "http://"+relayAddr+"/"); code != 200 || !strings.Contains(page, "OSPF live map") {
		t.Errorf("relay /: %d, not the live page", code)
	}
	_, before := get(t, "http://"+relayAddr+"/metrics")
	if v := metricValue(before, "ospf_operator_relay_upstream_connected"); v != 1 {
		t.Errorf("relay_upstream_connected = %v, want 1", v)
	}
	if v := metricValue(before, "ospf_operator_relay_events_received_total"); v != 0 {
		t.Errorf("relay_events_received_total before any change = %v, want 0", v)
	}
	if v := metricValue(before, "ospf_operator_relay_checkpoints_total"); v != 0 {
		t.Errorf("relay_checkpoints_total before the archive grew = %v, want 0", v)
	}

	if err := srv.AddExternal(r10, netip.MustParsePrefix("198.51.100.0/24"), 5, false, netip.MustParseAddr("10.70.76.1")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return strings.Count(relayOut.String(), "\n") == 1 }, "the event on the relay's stdout", &stderr)
	if !strings.Contains(relayOut.String(), `"198.51.100.0/24"`) {
		t.Errorf("relay stdout: %s", relayOut.String())
	}
	waitUntil(t, func() bool {
		_, m := get(t, "http://"+relayAddr+"/metrics")
		return metricValue(m, "ospf_operator_archive_events_total") == 1 && metricValue(m, "ospf_operator_relay_events_received_total") == 1
	}, "the relay's counters to move", &stderr)
	_, sm := get(t, "http://"+streamMetrics+"/metrics")
	if v := metricValue(sm, "ospf_operator_stream_messages_total"); v < 1 {
		t.Errorf("stream's stream_messages_total = %v, want the relay's message counted", v)
	}
	if v := metricValue(sm, "ospf_operator_stream_clients"); v != 1 {
		t.Errorf("stream's stream_clients = %v, want 1 (the relay)", v)
	}
	if _, err := os.Stat(filepath.Join(events, ".relay-position.json")); err != nil {
		t.Errorf("the relay recorded no position: %v", err)
	}
	// The archive grew: a checkpoint follows within --checkpoint-interval.
	waitUntil(t, func() bool {
		_, m := get(t, "http://"+relayAddr+"/metrics")
		return metricValue(m, "ospf_operator_relay_checkpoints_total") == 1 &&
			metricValue(m, "ospf_operator_relay_last_checkpoint_timestamp_seconds") > float64(time.Now().Add(-time.Minute).Unix())
	}, "a checkpoint, counted", &stderr)
	if _, err := os.Stat(filepath.Join(events, ".relay-view.json")); err != nil {
		t.Errorf("the relay's checkpoint: %v", err)
	}
}

func TestRelayCommandBadUpstream(t *testing.T) {
	var stdout, stderr lockedBuffer
	root := newRootCommand(&stdout, &stderr)
	root.SetArgs([]string{"relay", "--upstream", "127.0.0.1:9622", "--ws-listen", "127.0.0.1:0"})
	err := root.Execute()
	if err == nil || !strings.Contains(err.Error(), "ws://HOST:PORT") {
		t.Fatalf("err = %v, want one that names ws://HOST:PORT", err)
	}
}
