package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// SnapshotSource is what a SnapshotWriter writes; *lsdb.DB is one. A
// Loaded() bool method, when present, holds the writer back until it
// reports true, so that the empty database of a process that has not
// synced yet never replaces the current snapshot.
type SnapshotSource interface {
	Snapshot() (*lsdb.Snapshot, uint64)
}

type loadedReporter interface{ Loaded() bool }

// SnapshotConfig configures a SnapshotWriter. Dir and Source are required.
type SnapshotConfig struct {
	// Dir is the root of the minute files (--snapshots-path-prefix).
	Dir    string
	Source SnapshotSource
	// Current is the file that always holds the newest snapshot. Default
	// CurrentSnapshotPath(Dir), where the seed writes it; "-" disables it.
	Current string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// FS is the file system; OSFS when nil.
	FS FS
	// Logger receives write errors; slog.Default() if nil.
	Logger *slog.Logger
}

// SnapshotWriter writes the snapshot once a minute, as the seed does, to
// DIR/YYYY/MM/DD/HH/MM.json (UTC; the seed used the host's local time) and
// to the current-snapshot file. Each file is replaced atomically (written
// to a temporary file in the same directory, synced, renamed), so a reader
// sees the previous snapshot or the new one, never half a file. A failed
// write is logged and counted; the next minute tries again.
type SnapshotWriter struct {
	cfg SnapshotConfig
	log *slog.Logger

	last time.Time // the minute written last, so that Run writes each once

	written, errs, skipped atomic.Uint64
}

// SnapshotStats are a SnapshotWriter's counters.
type SnapshotStats struct {
	Written uint64 // minutes written (both files)
	Errors  uint64 // minutes whose writing failed
	Skipped uint64 // minutes skipped because the source was not loaded yet
}

// CurrentSnapshotPath is where the seed keeps its current snapshot, two
// levels above the minute files' root: DIR/../../mesh_ospf_data.json, as
// Python's os.path.join makes it. The path is not cleaned: the kernel
// resolves its "..", so that where DIR or one of its parents is a
// symbolic link, ".." is the parent of the directory it points to, as for
// the seed, not the parent of the link (filepath.Join would take the
// latter).
func CurrentSnapshotPath(dir string) string {
	return joinRaw(dir, "../../mesh_ospf_data.json")
}

// joinRaw joins dir and rel as Python's os.path.join does: with a slash
// between them unless dir ends with one, and nothing cleaned, so that the
// kernel resolves any ".." of the user's paths as the seed's files do.
func joinRaw(dir, rel string) string {
	if dir == "" || strings.HasSuffix(dir, "/") {
		return dir + rel
	}
	return dir + "/" + rel
}

// MinutePath is the file of the minute that contains t (in UTC) under
// dir, joined as the seed joins it (joinRaw).
func MinutePath(dir string, t time.Time) string {
	return joinRaw(dir, t.UTC().Format("2006/01/02/15/04")+".json")
}

// NewSnapshotWriter returns a writer for cfg.
func NewSnapshotWriter(cfg SnapshotConfig) (*SnapshotWriter, error) {
	if cfg.Dir == "" || cfg.Source == nil {
		return nil, errors.New("archive: SnapshotConfig needs Dir and Source")
	}
	if cfg.Current == "" {
		cfg.Current = CurrentSnapshotPath(cfg.Dir)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &SnapshotWriter{cfg: cfg, log: cfg.Logger.With("snapshots", cfg.Dir)}, nil
}

// Stats returns the writer's counters.
func (w *SnapshotWriter) Stats() SnapshotStats {
	return SnapshotStats{Written: w.written.Load(), Errors: w.errs.Load(), Skipped: w.skipped.Load()}
}

// errNotLoaded is WriteAt's answer before the source's first load.
var errNotLoaded = errors.New("the LSDB is not loaded yet")

// WriteAt writes the current snapshot as the file of the minute of t, and
// as the current-snapshot file.
func (w *SnapshotWriter) WriteAt(t time.Time) error {
	if l, ok := w.cfg.Source.(loadedReporter); ok && !l.Loaded() {
		w.skipped.Add(1)
		return errNotLoaded
	}
	snap, _ := w.cfg.Source.Snapshot()
	data := snap.AppendJSON(nil)
	path := MinutePath(w.cfg.Dir, t)
	err := WriteFileAtomic(w.cfg.FS, path, data)
	if err == nil && w.cfg.Current != "-" {
		path = w.cfg.Current
		err = WriteFileAtomic(w.cfg.FS, path, data)
	}
	if err != nil {
		w.errs.Add(1)
		return fmt.Errorf("write snapshot %s: %w", path, err)
	}
	w.written.Add(1)
	return nil
}

// Run writes a snapshot at the start of every minute (by the clock) until
// ctx is done. Errors are logged and counted, never returned.
func (w *SnapshotWriter) Run(ctx context.Context) error {
	for {
		now := w.cfg.Now()
		next := now.Truncate(time.Minute).Add(time.Minute)
		if !w.last.IsZero() && !next.After(w.last) {
			next = w.last.Add(time.Minute)
		}
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		w.last = next
		switch err := w.WriteAt(next); {
		case err == nil:
		case errors.Is(err, errNotLoaded):
			w.log.Debug("Snapshot skipped: the LSDB is not loaded yet")
		default:
			w.log.Error("Snapshot write failed", "err", err)
		}
	}
}
