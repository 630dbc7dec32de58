package archive

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// files lists the files under root, relative to it, in order.
func files(t testing.TB, root string) []string { return treeEntries(t, root, false) }

// dirs lists the directories under root, relative to it, in order.
func dirs(t testing.TB, root string) []string { return treeEntries(t, root, true) }

// treeEntries lists the directories (wantDirs) or the files under root,
// relative to it, in order.
func treeEntries(t testing.TB, root string, wantDirs bool) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() == wantDirs && path != root {
			rel, _ := filepath.Rel(root, path)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameFiles fails the test unless the files under root are want.
func sameFiles(t testing.TB, root, what string, want []string) {
	t.Helper()
	if got := files(t, root); !slices.Equal(got, want) {
		t.Fatalf("%s:\n%s\nwant:\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func fakeLines(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"timestamp": %d, "line": "%s"}`+"\n", 1700000000000+i, prefix)
	}
	return b.String()
}

func newJanitor(t testing.TB, cfg JanitorConfig) *Janitor {
	t.Helper()
	cfg.Logger = streamtest.Logger(t)
	j, err := NewJanitor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// The retention removes the hours and minutes that ended before it, and
// the directories they leave empty; never the hour being written, the
// newest minute snapshot, or files it does not know.
func TestJanitorRetention(t *testing.T) {
	root := t.TempDir()
	events, snaps := filepath.Join(root, "events"), filepath.Join(root, "history", "snapshots")
	streamtest.WriteTree(t, root, map[string]string{
		"events/2024/02/28/23.jsonl":              fakeLines("a", 1),
		"events/2024/02/29/00.jsonl.gz":           "not read",
		"events/2024/02/29/09.jsonl":              fakeLines("b", 1), // ends 10:00, the cutoff: removed
		"events/2024/02/29/10.jsonl":              fakeLines("c", 1), // ends 11:00: kept
		"events/2024/03/01/10.jsonl":              fakeLines("d", 1), // the hour being written
		"events/.relay-position.json":             "{}",
		"events/2024/02/29/notes.txt":             "kept",
		"history/snapshots/2024/02/29/09/59.json": "{}",
		"history/snapshots/2024/02/29/10/00.json": "{}", // ends 10:01: kept
		"history/snapshots/2024/02/28/23/59.json": "{}",
		"mesh_ospf_data.json":                     "{}",
	})
	clock := streamtest.NewClock(time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC))
	j := newJanitor(t, JanitorConfig{EventsDir: events, SnapshotsDir: snaps, Retention: 24 * time.Hour, Now: clock.Now})
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"events/.relay-position.json",
		"events/2024/02/29/10.jsonl",
		"events/2024/02/29/notes.txt",
		"events/2024/03/01/10.jsonl",
		"history/snapshots/2024/02/29/10/00.json",
		"mesh_ospf_data.json",
	}
	sameFiles(t, root, "after the retention", want)
	for _, gone := range []string{"events/2024/02/28", "history/snapshots/2024/02/28", "history/snapshots/2024/02/29/09"} {
		if slices.Contains(dirs(t, root), gone) {
			t.Errorf("the empty directory %s was not removed", gone)
		}
	}
	if st := j.Stats(); st.Removed != 5 || st.Errors != 0 {
		t.Errorf("stats %+v, want 5 removed", st)
	}

	// Three days on, nothing was written: the newest snapshot stays, old
	// as it is, so that the last state is still known.
	clock.Set(clock.Now().Add(72 * time.Hour))
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	want = []string{"events/.relay-position.json", "events/2024/02/29/notes.txt", "history/snapshots/2024/02/29/10/00.json", "mesh_ospf_data.json"}
	sameFiles(t, root, "three days later", want)
	// The day with notes.txt stays, and so does the month being written.
	if got, want := dirs(t, events), []string{"2024", "2024/02", "2024/02/29", "2024/03"}; !slices.Equal(got, want) {
		t.Errorf("event directories %v, want %v", got, want)
	}
}

// Compression gzips the hours and minutes that are closed, and readers
// read the compressed files as they read the plain ones.
func TestJanitorCompresses(t *testing.T) {
	root := t.TempDir()
	events, snaps := filepath.Join(root, "events"), filepath.Join(root, "snapshots")
	content := map[string]string{
		"events/2024/03/01/07.jsonl":            fakeLines("closed", 500), // ended 08:00, settled at 10:00
		"events/2024/03/01/08.jsonl":            fakeLines("settling", 3), // ended 09:00: may still grow
		"events/2024/03/01/10.jsonl":            fakeLines("open", 2),
		"snapshots/2024/03/01/09/57.json":       strings.Repeat(`{"areas": {}}`, 100),
		"snapshots/2024/03/01/09/58.json":       `{"areas": {}, "updated": 1}`, // ended 09:59, not settled
		"snapshots/2024/03/01/10/00.json":       `{"areas": {}, "updated": 2}`,
		"snapshots/2024/02/29/23/59.json":       `{"areas": {}, "updated": 0}`,
		"events/2024/03/01/.07.jsonl.gz.tmp-aa": "a crash's leftover",
	}
	streamtest.WriteTree(t, root, content)
	old := time.Date(2024, 3, 1, 7, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(events, "2024/03/01/.07.jsonl.gz.tmp-aa"), old, old); err != nil {
		t.Fatal(err)
	}
	clock := streamtest.NewClock(time.Date(2024, 3, 1, 10, 0, 30, 0, time.UTC))
	j := newJanitor(t, JanitorConfig{EventsDir: events, SnapshotsDir: snaps, Compress: true, Now: clock.Now})
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"events/2024/03/01/07.jsonl.gz",
		"events/2024/03/01/08.jsonl",
		"events/2024/03/01/10.jsonl",
		"snapshots/2024/02/29/23/59.json.gz",
		"snapshots/2024/03/01/09/57.json.gz",
		"snapshots/2024/03/01/09/58.json",
		"snapshots/2024/03/01/10/00.json",
	}
	sameFiles(t, root, "after compression", want)
	for name, c := range content {
		var got []byte
		var err error
		switch {
		case strings.Contains(name, ".tmp-"):
			continue
		case strings.HasPrefix(name, "events/"):
			got, err = ReadHour(filepath.Join(root, name))
		default:
			got, err = ReadSnapshotFile(filepath.Join(root, name))
		}
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c {
			t.Errorf("%s reads back as %.80q, want %.80q", name, got, c)
		}
	}
	if st := j.Stats(); st.Compressed != 3 || st.Errors != 0 {
		t.Errorf("stats %+v, want 3 compressed", st)
	}
	if fi, err := os.Stat(filepath.Join(events, "2024/03/01/07.jsonl.gz")); err != nil || fi.Size()*5 > int64(len(content["events/2024/03/01/07.jsonl"])) {
		t.Errorf("the compressed hour is not a fifth of the plain one: %v", err)
	}

	// Two hours on, the settled ones follow, and a second pass finds
	// nothing left.
	clock.Set(clock.Now().Add(2 * time.Hour))
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"events/2024/03/01/08.jsonl.gz", "snapshots/2024/03/01/09/58.json.gz", "snapshots/2024/03/01/10/00.json"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if st := j.Stats(); st.Compressed != 5 || st.Errors != 0 {
		t.Errorf("stats %+v, want 5 compressed (the open hour of then and the newest snapshot stay)", st)
	}
}

// An event that comes after its hour was compressed goes to a new plain
// file: readers read both, and the next pass merges them. A compression
// interrupted after the compressed file was in place (both hold the same
// lines) is read once and finished.
func TestJanitorMergesLateEventsAndFinishesInterruptedWork(t *testing.T) {
	root := t.TempDir()
	hour := filepath.Join(root, "2024/03/01/07.jsonl")
	early, late := fakeLines("early", 4), fakeLines("late", 2)
	streamtest.WriteTree(t, root, map[string]string{"2024/03/01/07.jsonl": early})
	clock := streamtest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	j := newJanitor(t, JanitorConfig{EventsDir: root, Compress: true, Now: clock.Now})
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	streamtest.WriteTree(t, root, map[string]string{"2024/03/01/07.jsonl": late})
	if got, err := ReadHour(hour); err != nil || string(got) != early+late {
		t.Fatalf("with a late event: %q, %v", got, err)
	}
	j = newJanitor(t, JanitorConfig{EventsDir: root, Compress: true, Now: clock.Now}) // a restart: no memory of the first pass
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	if got := files(t, root); !slices.Equal(got, []string{"2024/03/01/07.jsonl.gz"}) {
		t.Fatalf("after the merge: %v", got)
	}
	if got, err := ReadHour(hour); err != nil || string(got) != early+late {
		t.Fatalf("after the merge: %q, %v", got, err)
	}

	// Interrupted: the plain file is still there, the compressed file
	// ends with its lines.
	streamtest.WriteTree(t, root, map[string]string{"2024/03/01/07.jsonl": late})
	if got, err := ReadHour(hour); err != nil || string(got) != early+late {
		t.Fatalf("interrupted: %q, %v", got, err)
	}
	j = newJanitor(t, JanitorConfig{EventsDir: root, Compress: true, Now: clock.Now})
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadHour(hour); err != nil || string(got) != early+late {
		t.Fatalf("finished: %q, %v", got, err)
	}
	if got := files(t, root); !slices.Equal(got, []string{"2024/03/01/07.jsonl.gz"}) {
		t.Fatalf("finished: %v", got)
	}
}

func TestReadHourOverlap(t *testing.T) {
	a, b, c := "{\"a\": 1}\n", "{\"b\": 2}\n", "{\"c\": 3}\n"
	for _, tc := range []struct {
		name, packed, plain, want string
	}{
		{"disjoint", a + b, c, a + b + c},
		{"same", a + b, a + b, a + b},
		{"plain grew after it was compressed", a + b, a + b + c, a + b + c},
		{"plain is the compressed file's tail", a + b + c, b + c, a + b + c},
		{"a line that repeats is not an overlap elsewhere", a + b + a, a + c, a + b + a + c},
		{"overlap at line boundaries only", "x" + a, a, "x" + a + a},
		{"empty plain", a, "", a},
		{"torn plain line", a, "{\"b\"", a + "{\"b\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "07.jsonl")
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			_, _ = zw.Write([]byte(tc.packed))
			_ = zw.Close()
			streamtest.WriteTree(t, dir, map[string]string{"07.jsonl.gz": zb.String(), "07.jsonl": tc.plain})
			got, err := ReadHour(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := ReadHour(filepath.Join(t.TempDir(), "07.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing hour: %v, want ErrNotExist", err)
	}
	dir := t.TempDir()
	streamtest.WriteTree(t, dir, map[string]string{"07.jsonl.gz": "not gzip"})
	if _, err := ReadHour(filepath.Join(dir, "07.jsonl")); err == nil || !strings.Contains(err.Error(), "07.jsonl.gz") {
		t.Errorf("a corrupt compressed hour: %v, want an error naming it", err)
	}
}

// renameFS fails renames while failRename is set, and syncs while
// failSync is: the steps after the compressed file is written.
type renameFS struct {
	faultFS
	failRename, failSync atomic.Bool
}

func (f *renameFS) Rename(oldpath, newpath string) error {
	if f.failRename.Load() {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: syscall.EIO}
	}
	return f.faultFS.Rename(oldpath, newpath)
}

func (f *renameFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	file, err := f.faultFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &syncFailFile{File: file, fs: f}, nil
}

type syncFailFile struct {
	File
	fs *renameFS
}

func (f *syncFailFile) Sync() error {
	if f.fs.failSync.Load() {
		return &fs.PathError{Op: "fsync", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.Sync()
}

// A failure at any step of a compression leaves the plain file as it was
// and no temporary file; the next pass after the failure ends compresses.
func TestJanitorCompressionFailuresLoseNothing(t *testing.T) {
	content := map[string]string{
		"events/2024/03/01/07.jsonl":      fakeLines("hour", 50),
		"snapshots/2024/03/01/07/00.json": `{"areas": {}, "updated": 1}`,
		"snapshots/2024/03/01/07/01.json": `{"areas": {}, "updated": 2}`,
	}
	for _, tc := range []struct {
		name string
		set  func(*renameFS, bool)
	}{
		{"disk full", func(f *renameFS, on bool) { f.full.Store(on); f.tornWrites.Store(on) }},
		{"permission denied", func(f *renameFS, on bool) { f.denied.Store(on) }},
		{"rename fails", func(f *renameFS, on bool) { f.failRename.Store(on) }},
		{"fsync fails", func(f *renameFS, on bool) { f.failSync.Store(on) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			streamtest.WriteTree(t, root, content)
			fsys := &renameFS{}
			clock := streamtest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
			j := newJanitor(t, JanitorConfig{EventsDir: filepath.Join(root, "events"), SnapshotsDir: filepath.Join(root, "snapshots"),
				Compress: true, Now: clock.Now, FS: fsys})
			tc.set(fsys, true)
			if err := j.Pass(); err == nil {
				t.Fatal("the pass reported no error")
			}
			if got, want := files(t, root), slices.Sorted(func(yield func(string) bool) {
				for k := range content {
					if !yield(k) {
						return
					}
				}
			}); !slices.Equal(got, want) {
				t.Fatalf("after the failure:\n%s\nwant the plain files only", strings.Join(got, "\n"))
			}
			for name, c := range content {
				if got, err := os.ReadFile(filepath.Join(root, name)); err != nil || string(got) != c {
					t.Fatalf("%s changed: %v", name, err)
				}
			}
			if st := j.Stats(); st.Errors == 0 || st.Compressed != 0 {
				t.Errorf("stats %+v", st)
			}
			tc.set(fsys, false)
			if err := j.Pass(); err != nil {
				t.Fatal(err)
			}
			if got := files(t, root); !slices.Equal(got, []string{"events/2024/03/01/07.jsonl.gz", "snapshots/2024/03/01/07/00.json.gz", "snapshots/2024/03/01/07/01.json"}) {
				t.Fatalf("after recovery: %v", got)
			}
			if got, err := ReadHour(filepath.Join(root, "events/2024/03/01/07.jsonl")); err != nil || string(got) != content["events/2024/03/01/07.jsonl"] {
				t.Fatalf("after recovery the hour reads %q, %v", got, err)
			}
		})
	}
}

// countFS counts the directories listed.
type countFS struct {
	OSFS
	lists atomic.Int64
}

func (f *countFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f.lists.Add(1)
	return f.OSFS.ReadDir(name)
}

// A pass lists only the days that may hold something to do: a month of
// compressed days is not listed again every minute.
func TestJanitorSkipsDaysDone(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{}
	for d := 1; d <= 30; d++ {
		for h := 0; h < 24; h += 6 {
			files[fmt.Sprintf("2024/04/%02d/%02d.jsonl", d, h)] = fakeLines("x", 1)
		}
	}
	streamtest.WriteTree(t, root, files)
	fsys := &countFS{}
	clock := streamtest.NewClock(time.Date(2024, 4, 30, 23, 0, 0, 0, time.UTC))
	j := newJanitor(t, JanitorConfig{EventsDir: root, Compress: true, Now: clock.Now, FS: fsys})
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	first := fsys.lists.Swap(0)
	clock.Set(clock.Now().Add(time.Minute))
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	if second := fsys.lists.Load(); second > 5 || first < 32 {
		t.Errorf("the first pass listed %d directories and the second %d; want every day, then the last one and its parents", first, second)
	}
}

// hookFS runs before the nth open of a file named like the hour file.
type hookFS struct {
	OSFS
	name   string
	n      int
	opened int
	before func()
}

func (f *hookFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if strings.HasPrefix(filepath.Base(name), f.name) {
		if f.opened++; f.opened == f.n {
			f.before()
		}
	}
	return f.OSFS.OpenFile(name, flag, perm)
}

// A compression between a reader's reads of the two forms of an hour
// neither loses nor repeats its lines.
func TestReadHourDuringACompression(t *testing.T) {
	for _, late := range []bool{false, true} {
		root := t.TempDir()
		content := fakeLines("early", 5)
		if late {
			// A compressed hour and a late event: the compression merges them.
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			_, _ = zw.Write([]byte(content))
			_ = zw.Close()
			streamtest.WriteTree(t, root, map[string]string{"2024/03/01/07.jsonl.gz": zb.String(), "2024/03/01/07.jsonl": fakeLines("late", 1)})
			content += fakeLines("late", 1)
		} else {
			streamtest.WriteTree(t, root, map[string]string{"2024/03/01/07.jsonl": content})
		}
		clock := streamtest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
		j := newJanitor(t, JanitorConfig{EventsDir: root, Compress: true, Now: clock.Now})
		fsys := &hookFS{name: "07.jsonl", n: 2, before: func() {
			if err := j.Pass(); err != nil {
				t.Error(err)
			}
		}}
		got, err := readHour(fsys, filepath.Join(root, "2024/03/01/07.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != content {
			t.Errorf("late=%v: read %q during a compression, want %q", late, got, content)
		}
		if j.Stats().Compressed != 1 {
			t.Errorf("late=%v: the compression did not happen between the reads", late)
		}
	}
}
