package archive

import (
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// event is a seed event stamped at, numbered n (by its link's metric).
func event(seq uint64, at time.Time) lsdb.Event {
	return lsdb.Event{Seq: seq, Time: at.UnixMilli(), Area: netip.IPv4Unspecified(), Entity: lsdb.EntityRouter,
		Router: netip.MustParseAddr("10.0.0.1"), Added: true,
		Link: lsdb.NewLink(lsdb.KindRouter, netip.MustParsePrefix("10.0.0.2/32"), uint32(seq), false, netip.Addr{})}
}

func lines(evs ...lsdb.Event) []string {
	var out []string
	for i := range evs {
		out = append(out, string(evs[i].AppendJSON(nil)))
	}
	return out
}

// Events go to the file of the hour of their own timestamp, in UTC, as
// the seed files them: one from an earlier hour is appended to that
// hour's file, after what it held, and each file keeps the stream's order.
func TestArchiveFilesEventsByTheirOwnHour(t *testing.T) {
	dir := t.TempDir()
	// 00:20 on the 1st of March in UTC (the host's zone does not matter):
	// the hour before is the 29th of February's last.
	clock := streamtest.NewClock(time.Date(2024, 3, 1, 5, 20, 0, 0, time.FixedZone("X", 5*3600)))
	a, err := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, Logger: streamtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	earlier := now.Add(-50 * time.Minute) // 23:30 UTC the day before
	prev := filepath.Join(dir, "2024/02/29/23.jsonl")
	cur := filepath.Join(dir, "2024/03/01/00.jsonl")
	// The earlier hour's file exists already, written before the hour ended.
	if err := os.MkdirAll(filepath.Dir(prev), 0o755); err != nil {
		t.Fatal(err)
	}
	before := lines(event(1, earlier.Add(-time.Minute)))
	if err := os.WriteFile(prev, []byte(before[0]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A resync mixes both hours.
	batch := []lsdb.Event{event(2, now), event(3, earlier), event(4, now), event(5, earlier), event(6, earlier.Add(time.Second))}
	if n, err := a.Write(batch); err != nil || n != len(batch) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	streamtest.SameLines(t, "the earlier hour", streamtest.StreamLines(t, prev), append(before, lines(batch[1], batch[3], batch[4])...))
	streamtest.SameLines(t, "the current hour", streamtest.StreamLines(t, cur), lines(batch[0], batch[2]))
	// The earlier hour has ended: its file is synced and closed at once;
	// the current hour's stays open.
	if st := a.Stats(); st.Syncs != 1 || st.Events != 5 || st.Batches != 1 {
		t.Errorf("stats %+v, want 1 sync, 5 events, 1 batch", st)
	}
	if d, ok := a.untilHourEnds(); !ok || d != 40*time.Minute {
		t.Errorf("untilHourEnds = %v %v, want 40m", d, ok)
	}
	// The current hour's events keep coming to its file.
	if _, err := a.Write([]lsdb.Event{event(7, now.Add(time.Minute))}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	streamtest.SameLines(t, "the current hour", streamtest.StreamLines(t, cur), lines(event(2, now), event(4, now), event(7, now.Add(time.Minute))))
	if st := a.Stats(); st.Syncs != 2 {
		t.Errorf("Syncs = %d after Close, want 2", st.Syncs)
	}
}

// A write that fails in the middle of a batch reports the events it
// wrote, and Run retries only the rest.
func TestArchiveWriteReportsWhatItWrote(t *testing.T) {
	dir := t.TempDir()
	fsys := &faultFS{}
	clock := streamtest.NewClock(time.Date(2024, 3, 1, 0, 20, 0, 0, time.UTC))
	a, _ := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys, Logger: streamtest.Logger(t)})
	now := clock.Now()
	earlier := now.Add(-time.Hour)
	if _, err := a.Write([]lsdb.Event{event(1, earlier), event(2, now)}); err != nil {
		t.Fatal(err)
	}
	// The earlier hour's file is closed, the current one's open; opening
	// a file is now denied.
	fsys.denied.Store(true)
	batch := []lsdb.Event{event(3, now), event(4, earlier), event(5, now)}
	n, err := a.Write(batch)
	if err == nil || n != 1 {
		t.Fatalf("Write = %d, %v; want 1 and an error", n, err)
	}
	fsys.denied.Store(false)
	if n, err := a.Write(batch[n:]); err != nil || n != 2 {
		t.Fatalf("Write of the rest = %d, %v", n, err)
	}
	a.Close()
	streamtest.SameLines(t, "earlier", streamtest.StreamLines(t, HourPath(dir, earlier)), lines(event(1, earlier), event(4, earlier)))
	streamtest.SameLines(t, "now", streamtest.StreamLines(t, HourPath(dir, now)), lines(event(2, now), event(3, now), event(5, now)))
}

// The position a relay records names every file the archive may have
// appended to since, an earlier hour's included: whichever record a crash
// leaves last, ReadPosition counts exactly the lines written after it.
func TestPositionCountsLinesInEveryHour(t *testing.T) {
	dir := t.TempDir()
	clock := streamtest.NewClock(time.Date(2024, 3, 1, 0, 20, 0, 0, time.UTC))
	now := clock.Now()
	type record struct {
		seq   uint64
		files map[string]int64
	}
	var records []record
	var seq uint64 // the last event archived
	// check is a crash just before the record the archive asks for now:
	// the one before is the last on disk.
	check := func(written uint64) {
		if len(records) == 0 {
			return
		}
		rec := records[len(records)-1]
		if err := WritePosition(OSFS{}, dir, Position{Epoch: "e", Seq: rec.seq}, rec.files); err != nil {
			t.Fatal(err)
		}
		got, err := ReadPosition(OSFS{}, dir)
		if err != nil {
			t.Fatal(err)
		}
		if got.Seq != written {
			t.Errorf("record %d (seq %d, files %v): ReadPosition says %d, want %d", len(records)-1, rec.seq, rec.files, got.Seq, written)
		}
	}
	a, _ := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, Logger: streamtest.Logger(t),
		Written: func(last *lsdb.Event, files map[string]int64) {
			if last != nil {
				seq = last.Seq
			}
			check(seq)
			records = append(records, record{seq, files})
		}})
	batches := [][]lsdb.Event{
		{event(1, now), event(2, now)},
		{event(3, now.Add(-time.Hour)), event(4, now)}, // an earlier hour, then this one
		{event(5, now.Add(-2*time.Hour))},              // an hour never written before
		{event(6, now), event(7, now.Add(-time.Hour))},
	}
	for _, b := range batches {
		if _, err := a.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	a.Close()
	// A record before each new file (last nil: the position stays),
	// then one after each write.
	if len(records) != 3+4 {
		t.Errorf("%d records, want 7: %v", len(records), records)
	}
	check(7)
	// The last one names the three hours.
	if got := slices.Sorted(maps.Keys(records[len(records)-1].files)); len(got) != 3 {
		t.Errorf("files %v", got)
	}
}

// A record of the earlier version (one file and its size; later hours
// counted whole) still reads.
func TestPositionReadsTheEarlierRecord(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2024, 3, 1, 0, 20, 0, 0, time.UTC)
	a, _ := NewArchive(ArchiveConfig{Dir: dir, Now: func() time.Time { return t0.Add(time.Hour) }, Logger: streamtest.Logger(t)})
	if _, err := a.Write([]lsdb.Event{event(1, t0), event(2, t0), event(3, t0.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	first := HourPath(dir, t0)
	size := int64(len(lines(event(1, t0))[0]) + 1)
	rec := `{"epoch":"e","seq":1,"file":"` + first + `","size":` + strconv.FormatInt(size, 10) + "}\n"
	if err := os.WriteFile(filepath.Join(dir, PositionFile), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPosition(OSFS{}, dir)
	if err != nil || got != (Position{Epoch: "e", Seq: 3}) {
		t.Fatalf("ReadPosition = %+v, %v; want e/3", got, err)
	}
}
