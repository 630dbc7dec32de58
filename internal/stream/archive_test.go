package stream

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
)

// readEvents reads a batch of the feed's events from after..
func readEvents(t testing.TB, db *lsdb.DB, after uint64) []lsdb.Event {
	t.Helper()
	sub, err := db.Feed().Subscribe(after)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := sub.Read(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// archiveLines reads an archive file and checks that it is a valid stream.
func archiveLines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := schemavalidate.ValidateEventStream(data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end with a newline", path)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func wantLines(t testing.TB, db *lsdb.DB, from, to uint64) []string {
	t.Helper()
	m := feedLines(t, db, from, to)
	out := make([]string, 0, len(m))
	for s := from; s <= to; s++ {
		if l, ok := m[s]; ok { // not a state record
			out = append(out, l)
		}
	}
	return out
}

// firstLines returns the seed encoding of the feed's first n events.
func firstLines(t testing.TB, db *lsdb.DB, n int) []string {
	t.Helper()
	lines := wantLines(t, db, 1, db.Feed().LastSeq())
	if len(lines) < n {
		t.Fatalf("the feed holds %d events, want at least %d", len(lines), n)
	}
	return lines[:n]
}

func sameLines(t testing.TB, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d:\n%s", what, len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s line %d:\n got %s\nwant %s", what, i, got[i], want[i])
		}
	}
}

func TestArchiveRollsOverHourlyInUTC(t *testing.T) {
	db := newDB(t, 64)
	em := &emitter{db: db}
	dir := t.TempDir()
	// The host's zone must not matter: the clock says 23:59 in UTC+5.
	clock := &fakeClock{t: time.Date(2024, 3, 10, 23, 59, 59, 0, time.FixedZone("X", 5*3600))}
	a, err := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	three := em.emit(t, 3)
	if err := a.Write(readEvents(t, db, 0)); err != nil {
		t.Fatal(err)
	}
	five := em.emit(t, 2)
	if err := a.Write(readEvents(t, db, three)); err != nil {
		t.Fatal(err)
	}
	if a.Stats().Syncs != 0 {
		t.Fatal("synced within the hour")
	}
	clock.Set(clock.Now().Add(2 * time.Second)) // 19:00:01 UTC
	nine := em.emit(t, 4)
	if err := a.Write(readEvents(t, db, five)); err != nil {
		t.Fatal(err)
	}
	if a.Stats().Syncs != 1 {
		t.Fatalf("Syncs = %d after the rollover, want 1", a.Stats().Syncs)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	sameLines(t, "18.jsonl", archiveLines(t, filepath.Join(dir, "2024/03/10/18.jsonl")), wantLines(t, db, 1, five))
	sameLines(t, "19.jsonl", archiveLines(t, filepath.Join(dir, "2024/03/10/19.jsonl")), wantLines(t, db, five+1, nine))
	if st := a.Stats(); st.Events != 9 || st.Batches != 3 || st.Syncs != 2 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestArchiveClosesAnIdleHour(t *testing.T) {
	db := newDB(t, 64)
	(&emitter{db: db}).emit(t, 1)
	clock := &fakeClock{t: time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC)}
	a, _ := NewArchive(ArchiveConfig{Dir: t.TempDir(), Now: clock.Now, Logger: testLogger(t)})
	if err := a.Write(readEvents(t, db, 0)); err != nil {
		t.Fatal(err)
	}
	if d, ok := a.untilHourEnds(); !ok || d != 30*time.Minute {
		t.Fatalf("untilHourEnds = %v %v, want 30m", d, ok)
	}
	a.rollIdle()
	if a.Stats().Syncs != 0 {
		t.Fatal("closed the file of the current hour")
	}
	clock.Set(clock.Now().Add(31 * time.Minute))
	a.rollIdle()
	if _, ok := a.untilHourEnds(); ok || a.Stats().Syncs != 1 {
		t.Fatalf("the ended hour's file is still open (syncs %d)", a.Stats().Syncs)
	}
}

func TestArchiveRepairsATornLineOfAnEarlierRun(t *testing.T) {
	db := newDB(t, 64)
	em := &emitter{db: db}
	dir := t.TempDir()
	clock := &fakeClock{t: time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC)}
	path := HourPath(dir, clock.Now())
	last := em.emit(t, 2)
	lines := wantLines(t, db, 1, last)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// An earlier run crashed in the middle of its second line.
	if err := os.WriteFile(path, []byte(lines[0]+"\n"+lines[1][:40]), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _ := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, Logger: testLogger(t)})
	if err := a.Write(readEvents(t, db, 0)[1:]); err != nil {
		t.Fatal(err)
	}
	a.Close()
	sameLines(t, path, archiveLines(t, path), lines)
}

// runArchive runs an archive on db's feed until the test ends.
func runArchive(t *testing.T, db *lsdb.DB, cfg ArchiveConfig) *Archive {
	t.Helper()
	cfg.RetryInterval = time.Millisecond
	cfg.Logger = testLogger(t)
	a, err := NewArchive(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	after := db.Feed().LastSeq()
	go func() { done <- a.Run(ctx, db.Feed(), after) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return a
}

func TestArchiveSurvivesAFullDiskAndResumes(t *testing.T) {
	db := newDB(t, 1024)
	em := &emitter{db: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	clock := &fakeClock{t: time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC)}
	a := runArchive(t, db, ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys})
	path := HourPath(dir, clock.Now())

	em.emit(t, 5)
	waitFor(t, "5 events archived", func() bool { return a.Stats().Events == 5 })
	fsys.full.Store(true)
	em.emit(t, 5)
	waitFor(t, "failed writes", func() bool { return a.Stats().Errors >= 3 })
	if !a.Stats().Failing {
		t.Error("Failing is not set during the outage")
	}
	// The failed half-writes were cut back: the file holds whole lines.
	sameLines(t, "during the outage", archiveLines(t, path), firstLines(t, db, 5))
	em.emit(t, 5)
	fsys.full.Store(false)
	waitFor(t, "the archive to catch up", func() bool { return a.Stats().Events == 15 })
	if a.Stats().Failing || a.Stats().Lost != 0 {
		t.Errorf("stats after recovery %+v", a.Stats())
	}
	sameLines(t, "after recovery", archiveLines(t, path), firstLines(t, db, 15))
}

func TestArchiveSurvivesDeniedPermissionAndResumes(t *testing.T) {
	db := newDB(t, 1024)
	em := &emitter{db: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	fsys.denied.Store(true)
	clock := &fakeClock{t: time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC)}
	a := runArchive(t, db, ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys})
	em.emit(t, 3)
	waitFor(t, "failed opens", func() bool { return a.Stats().Errors >= 2 })
	fsys.denied.Store(false)
	waitFor(t, "the archive to catch up", func() bool { return a.Stats().Events == 3 })
	sameLines(t, "after recovery", archiveLines(t, HourPath(dir, clock.Now())), firstLines(t, db, 3))
}

func TestArchiveCountsWhatLeftTheWindowDuringAnOutage(t *testing.T) {
	db := newDB(t, 8)
	em := &emitter{db: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	clock := &fakeClock{t: time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC)}
	a := runArchive(t, db, ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys})
	em.emit(t, 2)
	waitFor(t, "2 events archived", func() bool { return a.Stats().Events == 2 })
	fsys.full.Store(true)
	em.emit(t, 1) // held and retried
	waitFor(t, "a failed write", func() bool { return a.Stats().Errors >= 1 })
	kept := firstLines(t, db, 3)
	em.emit(t, 20) // more than the window while the archive waits
	fsys.full.Store(false)
	waitFor(t, "the archive to give up on the lost events", func() bool { return a.Stats().Lost == 40 }) // 20 events and their records
	if ev := a.Stats().Events; ev != 3 {
		t.Fatalf("Events = %d, want 3", ev)
	}
	last := em.emit(t, 2)
	waitFor(t, "the archive to continue", func() bool { return a.Stats().Events == 5 })
	got := archiveLines(t, HourPath(dir, clock.Now()))
	want := append(kept, wantLines(t, db, last-3, last)...)
	sameLines(t, "after the loss", got, want)
}

func TestArchiveCutsBackATornWrite(t *testing.T) {
	db := newDB(t, 64)
	em := &emitter{db: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	fsys.tornWrites.Store(true) // no fallocate: a full disk tears writes
	clock := &fakeClock{t: time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC)}
	a, _ := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys, Logger: testLogger(t)})
	path := HourPath(dir, clock.Now())
	em.emit(t, 3)
	if err := a.Write(readEvents(t, db, 0)); err != nil {
		t.Fatal(err)
	}
	three := db.Feed().LastSeq()
	em.emit(t, 3) // an odd count of equal lines: half of them ends mid-line
	batch := readEvents(t, db, three)

	fsys.full.Store(true)
	if err := a.Write(batch); err == nil {
		t.Fatal("Write on a full disk succeeded")
	}
	sameLines(t, "after a torn write", archiveLines(t, path), firstLines(t, db, 3))

	// A torn write that cannot be cut back at once is cut back before
	// the next attempt.
	fsys.noTruncate.Store(true)
	if err := a.Write(batch); err == nil {
		t.Fatal("Write on a full disk succeeded")
	}
	if data, _ := os.ReadFile(path); data[len(data)-1] == '\n' {
		t.Fatal("the torn write left whole lines: the test tests nothing")
	}
	fsys.full.Store(false)
	if err := a.Write(batch); err == nil {
		t.Fatal("Write succeeded without cutting back the torn write")
	}
	fsys.noTruncate.Store(false)
	if err := a.Write(batch); err != nil {
		t.Fatal(err)
	}
	a.Close()
	sameLines(t, "after recovery", archiveLines(t, path), firstLines(t, db, 6))
	if st := a.Stats(); st.Events != 6 || st.Errors < 3 {
		t.Errorf("stats %+v", st)
	}
}
