package archive

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// FS is the file system the archive and the snapshot writer write to:
// OSFS, or in tests one that fails on demand (disk full, permission
// denied) and recovers.
type FS interface {
	MkdirAll(path string, perm fs.FileMode) error
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
}

// File is an open file of an FS; *os.File is one.
type File interface {
	io.Writer
	io.ReaderAt
	Name() string
	Stat() (fs.FileInfo, error)
	Truncate(size int64) error
	Sync() error
	Close() error
}

// OSFS is the operating system's file system.
type OSFS struct{}

// MkdirAll is os.MkdirAll.
func (OSFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// OpenFile is os.OpenFile.
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a typed nil File
	}
	return f, nil
}

// Rename is os.Rename.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove is os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// WriteFileAtomic replaces name with data so that a reader sees either
// the old file or the new one, never a part, and so that after a crash
// the new file is there whole: it writes a temporary file in the same
// directory (a rename does not cross file systems), syncs it, renames it
// over name and syncs the directory, which makes the rename itself
// durable. name is used as given, never cleaned: ".." in it is resolved
// by the kernel, through symbolic links, and the temporary file is made in
// the directory that name's ".." leads to.
func WriteFileAtomic(fsys FS, name string, data []byte) error {
	return replaceFile(fsys, name, data, true)
}

// splitPath splits a path at its last slash without cleaning it, so that
// the directory keeps its ".." for the kernel to resolve (filepath.Dir
// would resolve them textually).
func splitPath(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	switch {
	case i < 0:
		return ".", name
	case i == 0:
		return "/", name[1:]
	}
	return name[:i], name[i+1:]
}

// replaceFile is WriteFileAtomic, without the syncs when durable is not
// set: readers still never see a part, but a crash of the machine may
// leave the old file or an empty one.
func replaceFile(fsys FS, name string, data []byte, durable bool) error {
	dir, base := splitPath(name)
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var (
		f   File
		tmp string
		err error
	)
	for range 10 {
		var r [6]byte
		_, _ = rand.Read(r[:])
		tmp = dir + "/." + base + ".tmp-" + hex.EncodeToString(r[:])
		f, err = fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsys.Rename(tmp, name)
	}
	if err != nil {
		_ = fsys.Remove(tmp)
		return err
	}
	if durable {
		return syncDir(fsys, dir)
	}
	return nil
}

// syncDir syncs a directory, so that the names it holds survive a crash.
// File systems that cannot sync a directory (EINVAL) are not an error.
func syncDir(fsys FS, dir string) error {
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
