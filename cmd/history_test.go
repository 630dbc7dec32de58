package main

import (
	"bytes"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// historyArchive writes an archive of the NYC LSDB: a snapshot at 10:00
// UTC and an hour of events after it. It returns the two directories and
// the event lines.
func historyArchive(t *testing.T) (events, snaps string, lines []string) {
	t.Helper()
	root := t.TempDir()
	events, snaps = filepath.Join(root, "events"), filepath.Join(root, "snapshots")
	data, err := os.ReadFile(nycPath)
	if err != nil {
		t.Fatal(err)
	}
	s, err := lsdb.ParseSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := lsdb.ViewFromSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	v.Updated = t0
	streamtest.WriteFile(t, filepath.Join(snaps, "2024/03/01/10/00.json"), v.Snapshot().AppendJSON(nil))
	ms := t0.UnixMilli()
	lines = []string{
		`{"timestamp": ` + strconv.FormatInt(ms+1000, 10) + `, "entity": {"type": "router", "id": "10.69.7.13"}, "removed": {"link": {"network": {"id": "10.70.89.128/27", "metric": 1}}}}`,
		`{"timestamp": ` + strconv.FormatInt(ms+2000, 10) + `, "entity": {"type": "network", "id": "10.70.89.128/27"}, "removed": {"router": "10.69.7.13"}}`,
		`{"timestamp": ` + strconv.FormatInt(ms+3000, 10) + `, "entity": {"type": "router", "id": "10.10.10.10"}, "added": {"link": {"stubnet": {"id": "192.0.2.0/24", "metric": 1}}}}`,
	}
	streamtest.WriteFile(t, filepath.Join(events, "2024/03/01/10.jsonl"), []byte(strings.Join(lines, "\n")+"\n"))
	return events, snaps, lines
}

func TestHistoryAt(t *testing.T) {
	events, snaps, _ := historyArchive(t)
	out, stderr, err := execute(t, "history", "--events-path-prefix", events, "--snapshots-path-prefix", snaps, "--at", "2024-03-01T10:00:02Z")
	if err != nil {
		t.Fatalf("history: %v\n%s", err, stderr)
	}
	if strings.Contains(stderr, "level=WARN") {
		t.Errorf("warnings: %s", stderr)
	}
	if err := schemavalidate.ValidateSnapshot([]byte(out)); err != nil {
		t.Fatal(err)
	}
	s, err := lsdb.ParseSnapshot([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.SnapshotTime(); !got.Equal(time.Date(2024, 3, 1, 10, 0, 2, 0, time.UTC)) {
		t.Errorf("updated %v, want the time asked", got)
	}
	a := s.Areas["0.0.0.0"]
	if n := a.Networks["10.70.89.128/27"]; n == nil || strings.Join(n.Routers, ",") != "10.70.89.133" {
		t.Errorf("network 10.70.89.128/27 %+v, want 10.69.7.13 gone from it", n)
	}
	for _, l := range a.Routers["10.69.7.13"].Links.Network {
		if l.ID == "10.70.89.128/27" {
			t.Error("10.69.7.13 still links to 10.70.89.128/27")
		}
	}
	if len(a.Routers["10.10.10.10"].Links.Stubnet) != 0 {
		t.Error("the event after --at was applied")
	}
	if len(a.Routers) != 592 {
		t.Errorf("%d routers, want the NYC LSDB's 592", len(a.Routers))
	}
}

func TestHistoryEventsAndDiff(t *testing.T) {
	events, snaps, lines := historyArchive(t)
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC).UnixMilli()
	out, stderr, err := execute(t, "history", "--events-path-prefix", events,
		"--from", strconv.FormatInt(t0+1000, 10), "--to", "2024-03-01T11:00:00Z")
	if err != nil {
		t.Fatalf("history: %v\n%s", err, stderr)
	}
	if want := lines[1] + "\n" + lines[2] + "\n"; out != want {
		t.Errorf("events after the first:\n%s\nwant:\n%s", out, want)
	}

	out, stderr, err = execute(t, "history", "--events-path-prefix", events, "--snapshots-path-prefix", snaps, "--diff",
		"--from", "2024-03-01T10:00:00Z", "--to", "2024-03-01T10:00:03Z")
	if err != nil {
		t.Fatalf("history --diff: %v\n%s", err, stderr)
	}
	if err := schemavalidate.ValidateEventStream([]byte(out)); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	stamp := strconv.FormatInt(t0+3000, 10)
	want := []string{strings.Replace(lines[0], strconv.FormatInt(t0+1000, 10), stamp, 1),
		strings.Replace(lines[1], strconv.FormatInt(t0+2000, 10), stamp, 1), lines[2]}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diff:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

// Malformed lines are skipped with a warning naming the first, or are an
// error with --strict; a time before the archive is an error naming where
// it begins; bad usage exits 2.
func TestHistoryErrors(t *testing.T) {
	events, snaps, lines := historyArchive(t)
	hour := filepath.Join(events, "2024/03/01/10.jsonl")
	if err := os.WriteFile(hour, []byte(lines[0]+"\n{oops\n"+lines[2]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"ospf-operator", "history", "--events-path-prefix", events, "--snapshots-path-prefix", snaps}
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
		stdout bool
	}{
		{"skipped with a warning", []string{"--from", "0", "--to", "2024-03-01T11:00:00Z"}, 0, "count=1 first=\"" + hour + ":2: ", true},
		{"strict", []string{"--strict", "--from", "0", "--to", "2024-03-01T11:00:00Z"}, 1, hour + ":2: event: ", false},
		{"before the first snapshot", []string{"--at", "2024-03-01T09:59:59.999Z"}, 1, "the earliest is of 2024-03-01T10:00:00.000Z", false},
		{"before the first event", []string{"--from", "0", "--to", "1000"}, 1, "the event archive begins at 2024-03-01T10:00:00.000Z", false},
		{"no question", nil, 2, "give --at TIME, or --from T1 --to T2", false},
		{"both questions", []string{"--at", "0", "--from", "0", "--to", "1"}, 2, "give one", false},
		{"bad time", []string{"--at", "yesterday"}, 2, "--at: time \"yesterday\": want RFC 3339", false},
		{"backwards", []string{"--from", "10", "--to", "1"}, 2, "--to 1 is before --from 10", false},
		{"diff with at", []string{"--at", "0", "--diff"}, 2, "--diff needs --from and --to", false},
		{"bad zone", []string{"--at", "0", "--archive-time-zone", "Mars/Olympus"}, 2, "--archive-time-zone", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append(args, tc.args...), &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
			if (stdout.Len() > 0) != tc.stdout {
				t.Errorf("stdout %q", stdout.String())
			}
		})
	}
	var stderr bytes.Buffer
	if code := run([]string{"ospf-operator", "history", "--at", "0", "--events-path-prefix", events}, &bytes.Buffer{}, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "--snapshots-path-prefix") {
		t.Errorf("--at without snapshots: exit %d, %q", code, stderr.String())
	}
}

// --retention and --compress-archive are checked before anything runs.
func TestArchiveMaintenanceFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"stream", "--retention", "-1h", "--events-path-prefix", "x"}, "--retention -1h0m0s: must not be negative"},
		{[]string{"stream", "--compress-archive"}, "need --events-path-prefix or --snapshots-path-prefix"},
		{[]string{"relay", "--retention", "24h"}, "need --events-path-prefix or --snapshots-path-prefix"},
	} {
		var stderr bytes.Buffer
		if code := run(append([]string{"ospf-operator"}, tc.args...), &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.says) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, stderr.String(), tc.says)
		}
	}
}

// TestStreamServesAndKeepsItsArchive runs `stream` with an archive, a
// retention and compression: an old hour goes, a closed hour is
// compressed, and /v1/events answers from both forms with the change the
// stream just archived.
func TestStreamServesAndKeepsItsArchive(t *testing.T) {
	r10 := netip.MustParseAddr("10.10.10.10")
	srv := nycServer(t, ospfapitest.Config{RouterID: r10})
	root := t.TempDir()
	events, snaps := filepath.Join(root, "events"), filepath.Join(root, "history", "snapshots")
	closed := time.Now().UTC().Add(-5 * time.Hour)
	closedLine := `{"timestamp": ` + strconv.FormatInt(closed.UnixMilli(), 10) +
		`, "entity": {"type": "router", "id": "10.10.10.10"}, "added": {"link": {"stubnet": {"id": "192.0.2.0/24", "metric": 1}}}}`
	old := filepath.Join(events, "2020/01/01/00.jsonl")
	closedHour := filepath.Join(events, closed.Format("2006/01/02/15")+".jsonl")
	streamtest.WriteFile(t, old, []byte(closedLine+"\n"))
	streamtest.WriteFile(t, closedHour, []byte(closedLine+"\n"))
	wsAddr, metricsAddr := streamtest.FreeAddr(t), streamtest.FreeAddr(t)
	var stdout, stderr lockedBuffer
	startCommand(t, &stdout, &stderr, "stream", "--server", srv.Addr(), "--holddown", "0", "--mute-stdout-stream", "--ws-listen", wsAddr,
		"--metrics-listen", metricsAddr,
		"--events-path-prefix", events, "--snapshots-path-prefix", snaps, "--retention", "720h", "--compress-archive")
	exists := func(p string) bool { _, err := os.Stat(p); return err == nil }
	waitUntil(t, func() bool { return !exists(old) && !exists(closedHour) && exists(closedHour+".gz") }, "the old hour removed and the closed one compressed", &stderr)
	if exists(filepath.Join(events, "2020")) {
		t.Error("the old hour's directories are still there")
	}
	waitUntil(t, func() bool { return status("http://"+metricsAddr+"/metrics") == 200 }, "the metrics", &stderr)
	_, m := get(t, "http://"+metricsAddr+"/metrics")
	for sample, want := range map[string]float64{
		"ospf_operator_archive_files_removed_total":      1,
		"ospf_operator_archive_files_compressed_total":   1,
		"ospf_operator_archive_maintenance_errors_total": 0,
	} {
		if v := metricValue(m, sample); v != want {
			t.Errorf("%s = %v, want %v", sample, v, want)
		}
	}
	waitUntil(t, func() bool { return strings.Contains(stderr.String(), "LSDB loaded") }, "the load", &stderr)
	if err := srv.AddExternal(r10, netip.MustParsePrefix("198.51.100.0/24"), 5, false, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	to := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	var body string
	waitUntil(t, func() bool {
		var code int
		code, body = get(t, "http://"+wsAddr+"/v1/events?from=0&to="+to)
		return code == 200 && strings.Count(body, "\n") == 2
	}, "/v1/events to hold the compressed hour's event and the new one", &stderr)
	if lines := strings.Split(body, "\n"); lines[0] != closedLine || !strings.Contains(lines[1], `"198.51.100.0/24"`) {
		t.Errorf("/v1/events:\n%s", body)
	}
	if code, body := get(t, "http://"+wsAddr+"/v1/snapshot?at=0"); code != http.StatusNotFound || !strings.Contains(body, "no snapshot at or before") {
		t.Errorf("/v1/snapshot?at=0: %d %q", code, body)
	}
}
