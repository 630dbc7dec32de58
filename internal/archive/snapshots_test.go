package archive

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

func TestSnapshotWriterWritesMinuteAndCurrentFiles(t *testing.T) {
	db := streamtest.LoadFixture(t)
	root := t.TempDir()
	dir := filepath.Join(root, "data", "snapshots")
	w, err := NewSnapshotWriter(SnapshotConfig{Dir: dir, Source: db, Logger: streamtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 12, 31, 23, 59, 30, 0, time.FixedZone("X", -5*3600)) // 04:59 UTC
	if err := w.WriteAt(at); err != nil {
		t.Fatal(err)
	}
	minute, err := os.ReadFile(filepath.Join(dir, "2025/01/01/04/59.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := schemavalidate.ValidateSnapshot(minute); err != nil {
		t.Fatal(err)
	}
	current, err := os.ReadFile(filepath.Join(root, "mesh_ospf_data.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(current, minute) {
		t.Fatal("the current-snapshot file differs from the minute's")
	}
	got, err := lsdb.ParseSnapshot(minute)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := db.Snapshot()
	got.Updated, want.Updated = 0, 0
	if !bytes.Equal(got.AppendJSON(nil), want.AppendJSON(nil)) {
		t.Fatal("the minute file is not the database's snapshot")
	}
	if tmp := leftovers(t, root); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	if st := w.Stats(); st.Written != 1 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

// flipSource returns its two snapshots in turn.
type flipSource struct {
	snaps [2]*lsdb.Snapshot
	n     atomic.Uint64
}

func (f *flipSource) Snapshot() (*lsdb.Snapshot, uint64) {
	return f.snaps[f.n.Add(1)%2], 0
}

func TestSnapshotReplacementIsAtomic(t *testing.T) {
	big, _ := streamtest.LoadFixture(t).Snapshot()
	small, _ := streamtest.NewDB(t, 1).Snapshot()
	src := &flipSource{snaps: [2]*lsdb.Snapshot{big, small}}
	versions := map[string]bool{string(big.AppendJSON(nil)): true, string(small.AppendJSON(nil)): true}
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b")
	w, _ := NewSnapshotWriter(SnapshotConfig{Dir: dir, Source: src, Logger: streamtest.Logger(t)})
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := w.WriteAt(at); err != nil {
		t.Fatal(err)
	}
	current := CurrentSnapshotPath(dir)

	var (
		stop  atomic.Bool
		wg    sync.WaitGroup
		reads atomic.Int64
	)
	for range 2 {
		wg.Go(func() {
			for !stop.Load() {
				data, err := os.ReadFile(current)
				if err != nil {
					t.Errorf("read while replacing: %v", err)
					return
				}
				if !versions[string(data)] {
					t.Errorf("a reader saw a partial file of %d bytes", len(data))
					return
				}
				reads.Add(1)
			}
		})
	}
	for i := 0; i < 40 || reads.Load() < 40; i++ {
		if err := w.WriteAt(at); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if tmp := leftovers(t, root); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}

func TestSnapshotWriterWaitsForTheFirstLoad(t *testing.T) {
	dir := t.TempDir()
	src := notLoaded{streamtest.NewDB(t, 1)}
	w, _ := NewSnapshotWriter(SnapshotConfig{Dir: filepath.Join(dir, "a", "b"), Source: src, Logger: streamtest.Logger(t)})
	if err := w.WriteAt(time.Now()); !errors.Is(err, errNotLoaded) {
		t.Fatalf("WriteAt before the load: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 || w.Stats().Skipped != 1 {
		t.Fatalf("wrote %v before the load (stats %+v)", entries, w.Stats())
	}
}

func TestSnapshotWriteFailureLeavesThePreviousFile(t *testing.T) {
	db := streamtest.NewDB(t, 16)
	em := &streamtest.Emitter{DB: db}
	root := t.TempDir()
	dir := filepath.Join(root, "a", "b")
	fsys := &faultFS{}
	w, _ := NewSnapshotWriter(SnapshotConfig{Dir: dir, Source: db, FS: fsys, Logger: streamtest.Logger(t)})
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := w.WriteAt(at); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(CurrentSnapshotPath(dir))
	em.Emit(t, 1)
	fsys.full.Store(true)
	if err := w.WriteAt(at.Add(time.Minute)); err == nil {
		t.Fatal("WriteAt on a full disk succeeded")
	}
	if after, _ := os.ReadFile(CurrentSnapshotPath(dir)); !bytes.Equal(before, after) {
		t.Fatal("a failed write changed the current snapshot")
	}
	if _, err := os.Stat(MinutePath(dir, at.Add(time.Minute))); !os.IsNotExist(err) {
		t.Fatalf("a failed write left the minute's file: %v", err)
	}
	if tmp := leftovers(t, root); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	fsys.full.Store(false)
	if err := w.WriteAt(at.Add(2 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Written != 2 || st.Errors != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestSnapshotWriterRunWritesAtTheMinute(t *testing.T) {
	db := streamtest.NewDB(t, 16)
	dir := filepath.Join(t.TempDir(), "a", "b")
	// The clock stands just before 12:01, so the first tick is near.
	clock := streamtest.NewClock(time.Date(2024, 1, 1, 12, 0, 59, 995e6, time.UTC))
	w, _ := NewSnapshotWriter(SnapshotConfig{Dir: dir, Source: db, Now: clock.Now, Logger: streamtest.Logger(t)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	streamtest.NewWithT(t).Eventually(func() bool { return w.Stats().Written == 1 }).Should(gomega.BeTrue(), "the first snapshot")
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "2024/01/01/12/01.json")); err != nil {
		t.Fatal(err)
	}
}

// notLoaded is a source that has not loaded yet.
type notLoaded struct{ SnapshotSource }

func (notLoaded) Loaded() bool { return false }

// The seed opens DIR/../../mesh_ospf_data.json and lets the kernel resolve
// "..": where DIR is a symbolic link, that is two levels above the
// directory it points to, not above the link. The temporary file of the
// atomic replace is made there too (a rename does not cross file systems).
func TestCurrentSnapshotResolvesDotDotThroughSymlinks(t *testing.T) {
	db := streamtest.LoadFixture(t)
	root := t.TempDir()
	real := filepath.Join(root, "disk", "history", "snapshots")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	// /ROOT/etc/ospf/snapshots -> /ROOT/disk/history/snapshots
	links := filepath.Join(root, "etc", "ospf")
	if err := os.MkdirAll(links, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(links, "snapshots")
	if err := os.Symlink(real, dir); err != nil {
		t.Fatal(err)
	}
	if got, want := CurrentSnapshotPath(dir), dir+"/../../mesh_ospf_data.json"; got != want {
		t.Fatalf("CurrentSnapshotPath = %q, want %q", got, want)
	}
	if got := CurrentSnapshotPath("snaps/"); got != "snaps/../../mesh_ospf_data.json" {
		t.Fatalf("CurrentSnapshotPath of a path ending in / = %q", got)
	}
	w, err := NewSnapshotWriter(SnapshotConfig{Dir: dir, Source: db, Logger: streamtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 12, 31, 23, 59, 30, 0, time.UTC)
	if err := w.WriteAt(at); err != nil {
		t.Fatal(err)
	}
	minute, err := os.ReadFile(filepath.Join(real, "2024/12/31/23/59.json"))
	if err != nil {
		t.Fatal(err)
	}
	current, err := os.ReadFile(filepath.Join(root, "disk", "mesh_ospf_data.json"))
	if err != nil {
		t.Fatalf("the current snapshot is not two levels above the link's target: %v", err)
	}
	if !bytes.Equal(current, minute) {
		t.Fatal("the current-snapshot file differs from the minute's")
	}
	// Not where textual resolution (filepath.Join) puts it: /ROOT/etc/mesh_ospf_data.json.
	if _, err := os.Stat(filepath.Join(links, "..", "mesh_ospf_data.json")); !os.IsNotExist(err) {
		t.Fatalf("a current snapshot two levels above the link: %v", err)
	}
	if tmp := leftovers(t, root); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	// Written again, it is replaced in place.
	if err := w.WriteAt(at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "disk")); len(entries) != 2 {
		t.Fatalf("%s holds %v, want history and mesh_ospf_data.json", filepath.Join(root, "disk"), entries)
	}
}
