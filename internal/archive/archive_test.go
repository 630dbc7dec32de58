package archive

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
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

func TestArchiveRollsOverHourlyInUTC(t *testing.T) {
	db := streamtest.NewDB(t, 64)
	em := &streamtest.Emitter{DB: db}
	dir := t.TempDir()
	// The host's zone must not matter: the clock says 23:59 in UTC+5.
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 23, 59, 59, 0, time.FixedZone("X", 5*3600)))
	em.Now = clock.Now
	a, err := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, Logger: streamtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	three := em.Emit(t, 3)
	if _, err := a.Write(readEvents(t, db, 0)); err != nil {
		t.Fatal(err)
	}
	five := em.Emit(t, 2)
	if _, err := a.Write(readEvents(t, db, three)); err != nil {
		t.Fatal(err)
	}
	if a.Stats().Syncs != 0 {
		t.Fatal("synced within the hour")
	}
	clock.Set(clock.Now().Add(2 * time.Second)) // 19:00:01 UTC
	nine := em.Emit(t, 4)
	if _, err := a.Write(readEvents(t, db, five)); err != nil {
		t.Fatal(err)
	}
	if a.Stats().Syncs != 1 {
		t.Fatalf("Syncs = %d after the rollover, want 1", a.Stats().Syncs)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	streamtest.SameLines(t, "18.jsonl", streamtest.StreamLines(t, filepath.Join(dir, "2024/03/10/18.jsonl")), streamtest.WantLines(t, db, 1, five))
	streamtest.SameLines(t, "19.jsonl", streamtest.StreamLines(t, filepath.Join(dir, "2024/03/10/19.jsonl")), streamtest.WantLines(t, db, five+1, nine))
	if st := a.Stats(); st.Events != 9 || st.Batches != 3 || st.Syncs != 2 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestArchiveClosesAnIdleHour(t *testing.T) {
	db := streamtest.NewDB(t, 64)
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	(&streamtest.Emitter{DB: db, Now: clock.Now}).Emit(t, 1)
	a, _ := NewArchive(ArchiveConfig{Dir: t.TempDir(), Now: clock.Now, Logger: streamtest.Logger(t)})
	if _, err := a.Write(readEvents(t, db, 0)); err != nil {
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
	db := streamtest.NewDB(t, 64)
	em := &streamtest.Emitter{DB: db}
	dir := t.TempDir()
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	em.Now = clock.Now
	path := HourPath(dir, clock.Now())
	last := em.Emit(t, 2)
	lines := streamtest.WantLines(t, db, 1, last)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// An earlier run crashed in the middle of its second line.
	if err := os.WriteFile(path, []byte(lines[0]+"\n"+lines[1][:40]), 0o644); err != nil {
		t.Fatal(err)
	}
	a, _ := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, Logger: streamtest.Logger(t)})
	if _, err := a.Write(readEvents(t, db, 0)[1:]); err != nil {
		t.Fatal(err)
	}
	a.Close()
	streamtest.SameLines(t, path, streamtest.StreamLines(t, path), lines)
}

// runArchive runs an archive on db's feed until the test ends.
func runArchive(t *testing.T, db *lsdb.DB, cfg ArchiveConfig) *Archive {
	t.Helper()
	cfg.RetryInterval = time.Millisecond
	cfg.Logger = streamtest.Logger(t)
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
	db := streamtest.NewDB(t, 1024)
	em := &streamtest.Emitter{DB: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	em.Now = clock.Now
	a := runArchive(t, db, ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys})
	path := HourPath(dir, clock.Now())

	em.Emit(t, 5)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Events == 5 }).Should(gomega.BeTrue(), "5 events archived")
	fsys.full.Store(true)
	em.Emit(t, 5)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Errors >= 3 }).Should(gomega.BeTrue(), "failed writes")
	if !a.Stats().Failing {
		t.Error("Failing is not set during the outage")
	}
	// The failed half-writes were cut back: the file holds whole lines.
	streamtest.SameLines(t, "during the outage", streamtest.StreamLines(t, path), streamtest.FirstLines(t, db, 5))
	em.Emit(t, 5)
	fsys.full.Store(false)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Events == 15 }).Should(gomega.BeTrue(), "the archive to catch up")
	if a.Stats().Failing || a.Stats().Lost != 0 {
		t.Errorf("stats after recovery %+v", a.Stats())
	}
	streamtest.SameLines(t, "after recovery", streamtest.StreamLines(t, path), streamtest.FirstLines(t, db, 15))
}

func TestArchiveSurvivesDeniedPermissionAndResumes(t *testing.T) {
	db := streamtest.NewDB(t, 1024)
	em := &streamtest.Emitter{DB: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	fsys.denied.Store(true)
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	em.Now = clock.Now
	a := runArchive(t, db, ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys})
	em.Emit(t, 3)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Errors >= 2 }).Should(gomega.BeTrue(), "failed opens")
	fsys.denied.Store(false)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Events == 3 }).Should(gomega.BeTrue(), "the archive to catch up")
	streamtest.SameLines(t, "after recovery", streamtest.StreamLines(t, HourPath(dir, clock.Now())), streamtest.FirstLines(t, db, 3))
}

func TestArchiveCountsWhatLeftTheWindowDuringAnOutage(t *testing.T) {
	db := streamtest.NewDB(t, 8)
	em := &streamtest.Emitter{DB: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	em.Now = clock.Now
	a := runArchive(t, db, ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys})
	em.Emit(t, 2)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Events == 2 }).Should(gomega.BeTrue(), "2 events archived")
	fsys.full.Store(true)
	em.Emit(t, 1) // held and retried
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Errors >= 1 }).Should(gomega.BeTrue(), "a failed write")
	kept := streamtest.FirstLines(t, db, 3)
	em.Emit(t, 20) // more than the window while the archive waits
	fsys.full.Store(false)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Lost == 40 }).Should(gomega.BeTrue(), "the archive to give up on the lost events") // 20 events and their records
	if ev := a.Stats().Events; ev != 3 {
		t.Fatalf("Events = %d, want 3", ev)
	}
	last := em.Emit(t, 2)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Events == 5 }).Should(gomega.BeTrue(), "the archive to continue")
	got := streamtest.StreamLines(t, HourPath(dir, clock.Now()))
	want := append(kept, streamtest.WantLines(t, db, last-3, last)...)
	streamtest.SameLines(t, "after the loss", got, want)
}

func TestArchiveCutsBackATornWrite(t *testing.T) {
	db := streamtest.NewDB(t, 64)
	em := &streamtest.Emitter{DB: db}
	dir := t.TempDir()
	fsys := &faultFS{}
	fsys.tornWrites.Store(true) // no fallocate: a full disk tears writes
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	em.Now = clock.Now
	a, _ := NewArchive(ArchiveConfig{Dir: dir, Now: clock.Now, FS: fsys, Logger: streamtest.Logger(t)})
	path := HourPath(dir, clock.Now())
	em.Emit(t, 3)
	if _, err := a.Write(readEvents(t, db, 0)); err != nil {
		t.Fatal(err)
	}
	three := db.Feed().LastSeq()
	em.Emit(t, 3) // an odd count of equal lines: half of them ends mid-line
	batch := readEvents(t, db, three)

	fsys.full.Store(true)
	if _, err := a.Write(batch); err == nil {
		t.Fatal("Write on a full disk succeeded")
	}
	streamtest.SameLines(t, "after a torn write", streamtest.StreamLines(t, path), streamtest.FirstLines(t, db, 3))

	// A torn write that cannot be cut back at once is cut back before
	// the next attempt.
	fsys.noTruncate.Store(true)
	if _, err := a.Write(batch); err == nil {
		t.Fatal("Write on a full disk succeeded")
	}
	if data, _ := os.ReadFile(path); data[len(data)-1] == '\n' {
		t.Fatal("the torn write left whole lines: the test tests nothing")
	}
	fsys.full.Store(false)
	if _, err := a.Write(batch); err == nil {
		t.Fatal("Write succeeded without cutting back the torn write")
	}
	fsys.noTruncate.Store(false)
	if _, err := a.Write(batch); err != nil {
		t.Fatal(err)
	}
	a.Close()
	streamtest.SameLines(t, "after recovery", streamtest.StreamLines(t, path), streamtest.FirstLines(t, db, 6))
	if st := a.Stats(); st.Events != 6 || st.Errors < 3 {
		t.Errorf("stats %+v", st)
	}
}
