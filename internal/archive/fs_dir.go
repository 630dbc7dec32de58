package archive

import (
	"io/fs"
	"os"
)

// DirFS is an FS that can also list a directory, as the Janitor must.
// OSFS is one.
type DirFS interface {
	FS
	ReadDir(name string) ([]fs.DirEntry, error)
}

// ReadDir is os.ReadDir.
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
