package relay

import (
	"bytes"
	"compress/gzip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// TestArchivedAfter: the events archived after a checkpoint are the lines
// past the lengths it measured, in plain and compressed hours alike (a
// compressed hour with a late plain file beside it included), and every
// line of the hours after it; a torn last line is not one.
func TestArchivedAfter(t *testing.T) {
	dir := t.TempDir()
	r := &Relay{cfg: Config{EventsDir: dir}, log: streamtest.Logger(t)}
	now := time.Now().UTC()
	hour := func(d time.Duration) time.Time { return now.Add(d).Truncate(time.Hour) }
	line := func(h time.Time, n int) string {
		ms := h.Add(time.Duration(n) * time.Second).UnixMilli()
		return `{"timestamp": ` + strconv.FormatInt(ms, 10) + `, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"stubnet": {"id": "192.0.2.` + strconv.Itoa(n) + `/32", "metric": 1}}}}` + "\n"
	}
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.Bytes()
	}
	prev, cur := hour(-time.Hour), hour(0)
	// Before the checkpoint: a compressed previous hour, a plain current one.
	streamtest.WriteFile(t, archive.HourPath(dir, prev)+archive.GzipSuffix, gz(line(prev, 1)+line(prev, 2)))
	streamtest.WriteFile(t, archive.HourPath(dir, cur), []byte(line(cur, 3)))
	hours, err := r.measureHours(now)
	if err != nil {
		t.Fatal(err)
	}
	if len(hours) != 2 || hours[archive.HourPath(dir, prev)] != int64(len(line(prev, 1)+line(prev, 2))) {
		t.Fatalf("measured %v: want both hours, the compressed one by its lines' length", hours)
	}
	sv := savedView{At: now.UnixMilli(), Hours: hours}

	// After it: a late event beside the compressed hour, two in the
	// current hour, one in the next, and a torn line.
	next := hour(time.Hour)
	streamtest.WriteFile(t, archive.HourPath(dir, prev), []byte(line(prev, 4)))
	streamtest.WriteFile(t, archive.HourPath(dir, cur), []byte(line(cur, 3)+line(cur, 5)+line(cur, 6)))
	streamtest.WriteFile(t, archive.HourPath(dir, next), []byte(line(next, 7)+`{"timestamp": 1, "ent`))
	evs, err := r.archivedAfter(sv)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Link.ID().String())
	}
	want := []string{"192.0.2.4/32", "192.0.2.5/32", "192.0.2.6/32", "192.0.2.7/32"}
	if !slices.Equal(got, want) {
		t.Errorf("archived after the checkpoint: %q, want %q", got, want)
	}

	// An hour shorter than measured is not the archive the view was saved
	// in: the view is not used.
	streamtest.WriteFile(t, archive.HourPath(dir, cur), nil)
	if _, err := r.archivedAfter(sv); err == nil {
		t.Error("an hour shorter than at the checkpoint: no error")
	}
}
