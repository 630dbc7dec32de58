package archive

import (
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
)

// syncLog is the real file system, recording renames and syncs in order.
type syncLog struct {
	OSFS
	mu  sync.Mutex
	ops []string
}

func (s *syncLog) record(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops = append(s.ops, op)
}

func (s *syncLog) Rename(oldpath, newpath string) error {
	s.record("rename " + filepath.Base(newpath))
	return s.OSFS.Rename(oldpath, newpath)
}

func (s *syncLog) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := s.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &syncLogFile{File: f, log: s}, nil
}

type syncLogFile struct {
	File
	log *syncLog
}

func (f *syncLogFile) Sync() error {
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		f.log.record("sync dir " + filepath.Base(f.Name()))
	} else {
		f.log.record("sync file")
	}
	return f.File.Sync()
}

func TestWriteFileAtomicSyncsTheDirectoryAfterTheRename(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	fsys := &syncLog{}
	if err := WriteFileAtomic(fsys, filepath.Join(dir, "x.json"), []byte("{}\n")); err != nil {
		t.Fatal(err)
	}
	want := []string{"sync file", "rename x.json", "sync dir d"}
	if len(fsys.ops) != len(want) {
		t.Fatalf("operations %q, want %q", fsys.ops, want)
	}
	for i := range want {
		if fsys.ops[i] != want[i] {
			t.Fatalf("operations %q, want %q", fsys.ops, want)
		}
	}
	// The relay's position file needs no sync (see position.go).
	fsys.ops = nil
	if err := replaceFile(fsys, filepath.Join(dir, "p.json"), []byte("{}\n"), false); err != nil {
		t.Fatal(err)
	}
	if len(fsys.ops) != 1 || fsys.ops[0] != "rename p.json" {
		t.Fatalf("operations %q, want only the rename", fsys.ops)
	}
}
