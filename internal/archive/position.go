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
// of the last event archived, and the size right after it of every file
// the archive appended to recently. It is written after every archive
// write, and before the archive appends to a file it does not name
// (ArchiveConfig.Written), without fsync: a crash may leave an older
// record behind, so ReadPosition counts the lines the archive holds past
// the recorded sizes and adds them. Events are filed by their own hour,
// so the lines after a record may be in any of the files it names, an
// earlier hour's included, and only in those. Archive lines are whole
// (the archive cuts a torn one), and between two records the archive
// holds only the upstream's consecutive events.
const PositionFile = ".relay-position.json"

// Position is a place in an upstream's stream: after the event Seq of
// Epoch.
type Position struct {
	Epoch string `json:"epoch"`
	Seq   uint64 `json:"seq"`
}

// positionRecord is the content of PositionFile: the archive held
// everything up to Epoch/Seq when each of Files was as long as it says.
// Records of an earlier version name one file (File, Size) and mean that
// hours after it were empty.
type positionRecord struct {
	Position
	Files map[string]int64 `json:"files,omitempty"`
	File  string           `json:"file,omitempty"`
	Size  int64            `json:"size,omitempty"`
}

// WritePosition records in dir's PositionFile that the archive held
// everything up to pos when the files were as long as files says (what
// ArchiveConfig.Written reports). A reader sees the old record or the new
// one, never a part.
func WritePosition(fsys FS, dir string, pos Position, files map[string]int64) error {
	b, err := json.Marshal(positionRecord{Position: pos, Files: files})
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
	var more uint64
	if rec.Files != nil || rec.File == "" {
		for file, size := range rec.Files {
			n, err := countLines(fsys, file, max(size, 0))
			if err != nil {
				return Position{}, fmt.Errorf("relay position: %w", err)
			}
			more += n
		}
	} else if more, err = linesAfter(fsys, dir, rec.File, rec.Size); err != nil {
		return Position{}, fmt.Errorf("relay position: %w", err)
	}
	rec.Seq += more
	return rec.Position, nil
}

// ErrNotPosition is ReadPosition's error for a PositionFile that holds no
// position record.
var ErrNotPosition = errors.New("not a position record (remove it to start over from the upstream's snapshot)")

// linesAfter counts the lines of the archive under dir past size bytes of
// file, and in the archive files that sort after it (later hours): what
// an earlier version's record, which named one file, leaves out.
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
	for _, path := range files { // WalkDir's lexical order is the hours' order
		var off int64
		if path == file {
			off = size
		}
		k, err := countLines(fsys, path, off)
		if err != nil {
			return 0, err
		}
		n += k
	}
	return n, nil
}

// countLines counts the lines of file past off bytes; a file that does not
// exist has none.
func countLines(fsys FS, file string, off int64) (uint64, error) {
	f, err := fsys.OpenFile(file, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n uint64
	buf := make([]byte, 64<<10)
	for {
		k, err := f.ReadAt(buf, off)
		n += uint64(bytes.Count(buf[:k], []byte{'\n'}))
		off += int64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
	}
}
