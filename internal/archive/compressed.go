package archive

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// GzipSuffix is the suffix of a compressed archive file: an hour's events
// HH.jsonl.gz, a minute's snapshot MM.json.gz (see Janitor).
const GzipSuffix = ".gz"

// ReadHour returns the events of the hour file path (DIR/YYYY/MM/DD/HH.jsonl)
// whether it is plain, compressed (path + GzipSuffix) or both, as one run
// of lines: the compressed file's, then the plain file's that the
// compressed one does not already end with. Both forms exist for a while
// when an event of a compressed hour came late (the writer appends to a
// new plain file), or when a compression was interrupted after the
// compressed file was in place and before the plain one was removed; the
// overlap rule reads the second case once. It returns an error satisfying
// errors.Is(err, fs.ErrNotExist) when neither exists.
func ReadHour(path string) ([]byte, error) { return readHour(OSFS{}, path) }

func readHour(fsys FS, path string) ([]byte, error) {
	// The plain file first: the Janitor writes the compressed file before
	// it removes the plain one, so whatever a compression does between
	// the two reads, the lines of the plain file read are in the
	// compressed file read after it, or in neither.
	plain, plainErr := readAll(fsys, path)
	packed, gzErr := readGzip(fsys, path+GzipSuffix)
	switch {
	case gzErr != nil && !errors.Is(gzErr, fs.ErrNotExist):
		return nil, gzErr
	case plainErr != nil && !errors.Is(plainErr, fs.ErrNotExist):
		return nil, plainErr
	case gzErr != nil && plainErr != nil:
		return nil, plainErr
	case gzErr != nil:
		return plain, nil
	}
	return appendNew(packed, plain), nil
}

// appendNew appends to packed the part of plain that packed does not end
// with: plain's lines after the longest run of its first lines that
// packed's last lines already hold.
func appendNew(packed, plain []byte) []byte {
	return append(packed, plain[overlap(packed, plain):]...)
}

// overlap is the length of the longest prefix of plain, made of whole
// lines, that is a suffix of packed.
func overlap(packed, plain []byte) int {
	nl := bytes.IndexByte(plain, '\n')
	if nl < 0 || len(packed) == 0 {
		return 0
	}
	first := plain[:nl+1]
	// The earliest place in packed, at a line's start, from which packed's
	// rest is a prefix of plain: the longest overlap.
	for off := 0; off < len(packed); {
		i := bytes.Index(packed[off:], first)
		if i < 0 {
			return 0
		}
		s := off + i
		if (s == 0 || packed[s-1] == '\n') && bytes.HasPrefix(plain, packed[s:]) {
			return len(packed) - s
		}
		off = s + 1
	}
	return 0
}

// ReadSnapshotFile returns the snapshot of the minute file path
// (DIR/YYYY/MM/DD/HH/MM.json), plain or compressed (path + GzipSuffix).
// The plain file wins when both exist: they hold the same snapshot, the
// compressed one being a copy whose plain original was not removed yet.
func ReadSnapshotFile(path string) ([]byte, error) { return readSnapshotFile(OSFS{}, path) }

func readSnapshotFile(fsys FS, path string) ([]byte, error) {
	data, err := readAll(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return readGzip(fsys, path+GzipSuffix)
	}
	return data, err
}

// readAll reads a whole file of fsys.
func readAll(fsys FS, path string) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	buf := make([]byte, st.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// readGzip reads and decompresses a whole gzip file of fsys.
func readGzip(fsys FS, path string) ([]byte, error) {
	packed, err := readAll(fsys, path)
	if err != nil {
		return nil, err
	}
	data, err := gunzip(packed)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

func gunzip(packed []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(packed))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	return data, zr.Close()
}

func gzipBytes(data []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(data)/8 + 64)
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
