package history

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// The seed's own archive, byte for byte as it writes one: a snapshot on
// one line with Python's separators, networks first and "updated" in
// integer milliseconds, hour and minute files named in the host's local
// time (here New York's), events by their own timestamps.
func TestReadsTheSeedsArchive(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	root := t.TempDir()
	events, snaps := filepath.Join(root, "events"), filepath.Join(root, "snapshots")
	files := map[string]string{
		// 2024-03-01T15:00:00.250Z is 10:00 in New York.
		"snapshots/2024/03/01/10/00.json": `{"areas": {"0.0.0.0": {"networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1", "10.0.0.2"]}}, ` +
			`"routers": {"10.0.0.1": {"links": {"router": [{"id": "10.0.0.2", "metric": 10}], "network": [{"id": "10.1.0.0/24", "metric": 10}]}}, ` +
			`"10.0.0.2": {"links": {"router": [{"id": "10.0.0.1", "metric": 10}], "network": [{"id": "10.1.0.0/24", "metric": 10}]}}}}}, "updated": 1709305200250}`,
		"events/2024/03/01/10.jsonl": `{"timestamp": 1709305260000, "entity": {"type": "router", "id": "10.0.0.2"}, "removed": {"link": {"router": {"id": "10.0.0.1", "metric": 10}}}}` + "\n" +
			`{"timestamp": 1709305259000, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"router": {"id": "10.0.0.2", "metric": 10}}}}` + "\n",
	}
	streamtest.WriteTree(t, root, files)
	h, err := New(Config{EventsDir: events, SnapshotsDir: snaps, Location: ny, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := h.At(ctx, time.UnixMilli(1709305200249)); err == nil || !strings.Contains(err.Error(), "the earliest is of 2024-03-01T15:00:00.250Z") {
		t.Fatalf("a millisecond before the snapshot: %v", err)
	}
	v, rep, err := h.At(ctx, time.UnixMilli(1709305259000))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.BaseTime.Equal(time.UnixMilli(1709305200250)) || rep.Events != 1 {
		t.Fatalf("report %+v", rep)
	}
	if r := v.Areas[0].Router(ip("10.0.0.1")); len(r.Links) != 1 {
		t.Errorf("10.0.0.1's links %v, want its router link gone", r.Links)
	}
	var got []string
	if _, err := h.Events(ctx, time.UnixMilli(0), time.UnixMilli(1709305260000), func(l []byte) error {
		got = append(got, string(l))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(files["events/2024/03/01/10.jsonl"], "\n"), "\n")
	if want := []string{lines[1], lines[0]}; !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant, in timestamp order:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
