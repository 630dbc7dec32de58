package archive

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
)

// faultFS is the real file system with switches: while full, reserving
// space fails with ENOSPC, and a write writes half of its bytes and fails
// with ENOSPC, as a filling disk does; with tornWrites the file system
// cannot reserve space, so full-disk writes tear; while denied, opening
// and creating fail with EACCES; with noTruncate, truncating fails with
// EIO.
type faultFS struct {
	OSFS
	full, denied, tornWrites, noTruncate atomic.Bool
}

func (f *faultFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if f.denied.Load() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

func (f *faultFS) MkdirAll(path string, perm fs.FileMode) error {
	if f.denied.Load() {
		return &fs.PathError{Op: "mkdir", Path: path, Err: syscall.EACCES}
	}
	return f.OSFS.MkdirAll(path, perm)
}

type faultFile struct {
	File
	fs *faultFS
}

// Reserve refuses space while the disk is full, unless tornWrites is set:
// then the file system cannot reserve, and writes tear.
func (f *faultFile) Reserve(_, _ int64) error {
	if f.fs.full.Load() && !f.fs.tornWrites.Load() {
		return &fs.PathError{Op: "fallocate", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return nil
}

func (f *faultFile) Truncate(size int64) error {
	if f.fs.noTruncate.Load() {
		return &fs.PathError{Op: "truncate", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.Truncate(size)
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.fs.full.Load() {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, &fs.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return f.File.Write(p)
}

// leftovers lists the temporary files under dir.
func leftovers(t testing.TB, dir string) []string {
	t.Helper()
	var tmp []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Base(path)[0] == '.' {
			tmp = append(tmp, path)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return tmp
}
