package archive

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
)

// compressHour compresses the plain hour file path into path.gz, merging
// it with a compressed file already there (an event that came late), and
// removes the plain file once the compressed one is safely in place.
func (p *pass) compressHour(path string) bool {
	fsys := p.j.cfg.FS
	plain, size, err := readStat(fsys, path)
	if err != nil {
		p.fail(fmt.Errorf("compress: %w", err))
		return false
	}
	packed, err := readGzip(fsys, path+GzipSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		packed = nil
	case err != nil:
		p.fail(fmt.Errorf("compress %s: %w", path, err))
		return false
	}
	content := appendNew(slices.Clip(packed), plain)
	if len(content) > len(packed) || packed == nil {
		if !p.writeGzip(path+GzipSuffix, content) {
			return false
		}
	}
	return p.removePlain(path, size)
}

// compressSnapshot compresses the minute snapshot path into path.gz and
// removes path once the compressed file is safely in place.
func (p *pass) compressSnapshot(path string) bool {
	data, size, err := readStat(p.j.cfg.FS, path)
	if err != nil {
		p.fail(fmt.Errorf("compress: %w", err))
		return false
	}
	if !p.writeGzip(path+GzipSuffix, data) {
		return false
	}
	return p.removePlain(path, size)
}

// writeGzip replaces name with content compressed, atomically and
// durably, and checks what is on disk by reading it back.
func (p *pass) writeGzip(name string, content []byte) bool {
	packed, err := gzipBytes(content)
	if err == nil {
		err = WriteFileAtomic(p.j.cfg.FS, name, packed)
	}
	if err == nil {
		var back []byte
		if back, err = readGzip(p.j.cfg.FS, name); err == nil && !bytes.Equal(back, content) {
			err = errors.New("the compressed file does not read back as written")
		}
	}
	if err != nil {
		p.fail(fmt.Errorf("compress %s: %w", name, err))
		return false
	}
	return true
}

// removePlain removes the plain file that was compressed, unless it grew
// since it was read (a late event: the next pass merges it).
func (p *pass) removePlain(path string, size int64) bool {
	if now, err := fileSize(p.j.cfg.FS, path); err != nil || now != size {
		return false
	}
	if err := p.j.cfg.FS.Remove(path); err != nil {
		p.fail(fmt.Errorf("compress: remove the plain file: %w", err))
		return false
	}
	p.j.compressed.Add(1)
	return true
}

// readStat reads a whole file and returns its size.
func readStat(fsys FS, path string) ([]byte, int64, error) {
	data, err := readAll(fsys, path)
	return data, int64(len(data)), err
}

// fileSize is the size of a file.
func fileSize(fsys FS, path string) (int64, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
