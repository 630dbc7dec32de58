package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

const nycPath = "../testdata/nycmesh-lsdb-2023-04-29.json"

// nycServer is the fake ospfd serving the NYC LSDB until the test ends.
func nycServer(t *testing.T, cfg ospfapitest.Config) *ospfapitest.Server {
	t.Helper()
	return ospfapitest.Start(t, cfg, ospfapitest.NYC(t))
}

// updatedRE matches the snapshot's time stamp, which the fixture lacks
// (the schema requires it), as the seed writes it: integer milliseconds,
// last.
var updatedRE = regexp.MustCompile(`, "updated": ([0-9]+)}$`)

// TestSnapshotNYC: the NYC LSDB served by the fake ospfd comes back from
// `snapshot` in the seed's format (one line, "updated" in milliseconds),
// with the fixture's content.
func TestSnapshotNYC(t *testing.T) {
	srv := nycServer(t, ospfapitest.Config{})
	out, stderr, err := execute(t, "snapshot", "--server", srv.Addr())
	if err != nil {
		t.Fatalf("snapshot: %v\n%s", err, stderr)
	}
	want, err := os.ReadFile(nycPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemavalidate.ValidateSnapshot([]byte(out)); err != nil {
		t.Error(err)
	}
	if !strings.HasSuffix(out, "}\n") {
		t.Error("output does not end with a newline")
	}
	if strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, `{"areas": {"0.0.0.0": {"networks": {`) {
		t.Errorf("not one line in the seed's format: %.100s", out)
	}
	m := updatedRE.FindStringSubmatch(strings.TrimSuffix(out, "\n"))
	if m == nil {
		t.Fatal("no updated stamp at the end of the snapshot")
	}
	// The stamp is now, in milliseconds.
	ms, _ := strconv.ParseInt(m[1], 10, 64)
	if d := time.Since(time.UnixMilli(ms)); d < 0 || d > time.Minute {
		t.Errorf("updated %d is not now", ms)
	}
	got, err := lsdb.ParseSnapshot([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	fixture, err := lsdb.ParseSnapshot(want)
	if err != nil {
		t.Fatal(err)
	}
	got.Updated = 0
	if g, w := got.AppendCanonicalJSON(nil), fixture.AppendCanonicalJSON(nil); !bytes.Equal(g, w) {
		t.Errorf("snapshot differs from %s (%d bytes, want %d)", nycPath, len(g), len(w))
	}
	if !strings.Contains(stderr, "LSDB loaded") || !strings.Contains(stderr, "lsas=1287") {
		t.Errorf("stderr lacks the load line: %q", stderr)
	}
}

func TestSnapshotUnreachable(t *testing.T) {
	srv, err := ospfapitest.NewServer(ospfapitest.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Close()
	out, stderr, err := execute(t, "snapshot", "--server", addr)
	if err == nil || out != "" {
		t.Fatalf("snapshot of a dead ospfd: err %v, stdout %q", err, out)
	}
	if want := "cannot reach ospfd's OSPF API at " + addr; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q, want %q", stderr, want)
	}
}

// lockedBuffer is an io.Writer safe for concurrent use.
type lockedBuffer = streamtest.LockedBuffer

// TestStreamFake runs `stream` against the fake ospfd: nothing on stdout
// for the load, then one line per change, flushed as it happens.
func TestStreamFake(t *testing.T) {
	r10 := netip.MustParseAddr("10.10.10.10")
	srv := nycServer(t, ospfapitest.Config{RouterID: r10})
	var stdout, stderr lockedBuffer
	root := newRootCommand(&stdout, &stderr)
	root.SetArgs([]string{"stream", "--server", srv.Addr(), "--holddown", "0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("stream returned %v after cancel", err)
		}
	}()
	waitUntil(t, func() bool { return strings.Contains(stderr.String(), "LSDB loaded") }, "the load", &stderr)
	if stdout.String() != "" {
		t.Fatalf("events for the first load: %q", stdout.String())
	}
	if err := srv.AddExternal(r10, netip.MustParsePrefix("198.51.100.0/24"), 5, false, netip.MustParseAddr("10.70.76.1")); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return strings.Count(stdout.String(), "\n") == 1 }, "an event", &stderr)
	line := strings.TrimSuffix(stdout.String(), "\n")
	if err := schemavalidate.ValidateEvent([]byte(line)); err != nil {
		t.Error(err)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatal(err)
	}
	ts, _ := ev["timestamp"].(float64)
	if d := time.Since(time.UnixMilli(int64(ts))); d < -time.Second || d > time.Minute {
		t.Errorf("timestamp %v is not the origination time", ts)
	}
	delete(ev, "timestamp")
	got, _ := json.Marshal(ev)
	if want := `{"added":{"link":{"external":{"id":"198.51.100.0/24","metric":5,"via":"10.70.76.1"}}},"entity":{"id":"10.10.10.10","type":"router"}}`; string(got) != want {
		t.Errorf("event %s, want %s", got, want)
	}
}

// waitUntil waits up to 10 s for cond (Gomega's Eventually), then fails
// the test with what and the command's stderr.
func waitUntil(t *testing.T, cond func() bool, what string, logs *lockedBuffer) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(10*time.Second).WithPolling(10*time.Millisecond).
		Should(gomega.BeTrue(), func() string { return "waiting for " + what + "; stderr:\n" + logs.String() })
}
