package stream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The relay's position file says how far its archive got: the upstream
// epoch and sequence number of the last event archived, and the archive
// file and its size right after it. It is written after every archive
// write, without fsync: a crash may leave an older record behind, so the
// relay counts the lines the archive holds past the recorded size (in the
// recorded file and in the hours after it) and adds them. Archive lines
// are whole (the archive cuts a torn one), and between two records the
// archive holds only the upstream's consecutive events.

// writePosition records rec in dir's position file.
func writePosition(fsys FS, dir string, rec positionRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return replaceFile(fsys, filepath.Join(dir, PositionFile), append(b, '\n'), false)
}

// readPosition returns the position after the last event in dir's
// archive, as an earlier relay recorded it; the zero position when there
// is no record.
func readPosition(fsys FS, dir string) (position, error) {
	name := filepath.Join(dir, PositionFile)
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return position{}, nil
	}
	if err != nil {
		return position{}, fmt.Errorf("relay position: %w", err)
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	_ = f.Close()
	if err != nil {
		return position{}, fmt.Errorf("relay position %s: %w", name, err)
	}
	var rec positionRecord
	if err := json.Unmarshal(data, &rec); err != nil || !validEpoch(rec.Epoch) || rec.Size < 0 {
		return position{}, fmt.Errorf("relay position %s: not a position record (remove it to start over from the upstream's snapshot)", name)
	}
	more, err := linesAfter(fsys, dir, rec.File, rec.Size)
	if err != nil {
		return position{}, fmt.Errorf("relay position: %w", err)
	}
	rec.Seq += more
	return rec.position, nil
}

// linesAfter counts the lines of the archive under dir past size bytes of
// file, and in the archive files that sort after it (later hours).
func linesAfter(fsys FS, dir, file string, size int64) (uint64, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".jsonl") && path >= file {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var n uint64
	buf := make([]byte, 64<<10)
	for _, path := range files { // WalkDir's lexical order is the hours' order
		f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return 0, err
		}
		var off int64
		if path == file {
			off = size
		}
		for {
			k, err := f.ReadAt(buf, off)
			n += uint64(bytes.Count(buf[:k], []byte{'\n'}))
			off += int64(k)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = f.Close()
				return 0, err
			}
		}
		_ = f.Close()
	}
	return n, nil
}
