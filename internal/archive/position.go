package archive

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

// PositionFile is the file under the archive's root in which a relay
// records the upstream position of the last event archived.
//
// It says how far the archive got: the upstream epoch and sequence number
// of the last event archived, and the archive file and its size right
// after it. It is written after every archive write, without fsync: a
// crash may leave an older record behind, so ReadPosition counts the
// lines the archive holds past the recorded size (in the recorded file
// and in the hours after it) and adds them. Archive lines are whole (the
// archive cuts a torn one), and between two records the archive holds
// only the upstream's consecutive events.
const PositionFile = ".relay-position.json"

// Position is a place in an upstream's stream: after the event Seq of
// Epoch.
type Position struct {
	Epoch string `json:"epoch"`
	Seq   uint64 `json:"seq"`
}

// positionRecord is the content of PositionFile: the archive held
// everything up to Epoch/Seq when File was Size bytes long.
type positionRecord struct {
	Position
	File string `json:"file"`
	Size int64  `json:"size"`
}

// WritePosition records in dir's PositionFile that the archive held
// everything up to pos when file was size bytes long (the file and size
// that ArchiveConfig.Written reports). A reader sees the old record or
// the new one, never a part.
func WritePosition(fsys FS, dir string, pos Position, file string, size int64) error {
	b, err := json.Marshal(positionRecord{pos, file, size})
	if err != nil {
		return err
	}
	return replaceFile(fsys, filepath.Join(dir, PositionFile), append(b, '\n'), false)
}

// ReadPosition returns the position after the last event in dir's
// archive, as an earlier WritePosition recorded it plus the lines
// archived after the record; the zero Position when there is no record.
// The epoch is the upstream's to judge: ReadPosition only checks that
// there is one.
func ReadPosition(fsys FS, dir string) (Position, error) {
	name := filepath.Join(dir, PositionFile)
	f, err := fsys.OpenFile(name, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, fmt.Errorf("relay position: %w", err)
	}
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<20))
	_ = f.Close()
	if err != nil {
		return Position{}, fmt.Errorf("relay position %s: %w", name, err)
	}
	var rec positionRecord
	if err := json.Unmarshal(data, &rec); err != nil || rec.Epoch == "" || rec.Size < 0 {
		return Position{}, fmt.Errorf("relay position %s: %w", name, ErrNotPosition)
	}
	more, err := linesAfter(fsys, dir, rec.File, rec.Size)
	if err != nil {
		return Position{}, fmt.Errorf("relay position: %w", err)
	}
	rec.Seq += more
	return rec.Position, nil
}

// ErrNotPosition is ReadPosition's error for a PositionFile that holds no
// position record.
var ErrNotPosition = errors.New("not a position record (remove it to start over from the upstream's snapshot)")

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
