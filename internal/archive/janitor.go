package archive

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// When a file is closed for good, so that the Janitor may compress it.
const (
	// HourSettle is how long after its hour ends an hour file may still
	// grow: an event is filed under its own timestamp, its LSA's arrival
	// minus its LS age, and the age is at most MaxAge (an hour), so an
	// event of an hour may arrive up to an hour after it; the rest is a
	// margin for a writer that retries after a disk error.
	HourSettle = 2 * time.Hour
	// MinuteSettle is how long after its minute ends a minute snapshot
	// is compressed: it is written once, at the minute's start.
	MinuteSettle = 2 * time.Minute
	// staleTemp is the age past which a temporary file of an atomic
	// write is a crash's leftover.
	staleTemp = time.Hour
)

// JanitorConfig configures a Janitor. At least one of the directories, and
// Retention or Compress, are needed.
type JanitorConfig struct {
	// EventsDir and SnapshotsDir are the roots of the hour files and of
	// the minute snapshots (--events-path-prefix, --snapshots-path-prefix).
	EventsDir, SnapshotsDir string
	// Retention removes the hour files and minute snapshots whose hour or
	// minute ended longer ago than this; 0 keeps everything.
	Retention time.Duration
	// Compress gzips each hour file HourSettle after its hour ends
	// (HH.jsonl.gz) and each minute snapshot MinuteSettle after its
	// minute ends (MM.json.gz).
	Compress bool
	// Interval is the time between two passes; default one minute.
	Interval time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// FS is the file system; OSFS when nil.
	FS DirFS
	// Logger receives what each pass did and its errors; slog.Default()
	// if nil.
	Logger *slog.Logger
}

// Janitor keeps an archive's size in bounds, as the seed's README asks of
// "some kind of cleanup job": it removes what is older than the retention
// and compresses what is closed, once a minute.
//
// The file names say what a file holds (YYYY/MM/DD/HH.jsonl, and
// YYYY/MM/DD/HH/MM.json), read as UTC, as the writers write them; other
// files are left alone. It never removes or compresses the hour being
// written, the newest minute snapshot or the current-snapshot file, and
// it removes a directory only when it is empty and its time has passed.
//
// Nothing already archived is lost to a failure: the compressed file is
// written under a temporary name, synced and renamed into place
// (WriteFileAtomic), read back and compared, and only then is the plain
// file removed; on any error the plain file stays, and the next pass
// tries again. A reader meanwhile sees the plain file, the compressed
// one, or both with the same lines, which ReadHour reads once.
type Janitor struct {
	cfg JanitorConfig
	log *slog.Logger

	// Everything compressible that ended before these was compressed by
	// an earlier pass without errors, so a pass looks at later days only.
	eventsDone, snapsDone time.Time

	passes, removed, compressed, errs atomic.Uint64
}

// JanitorStats are a Janitor's counters.
type JanitorStats struct {
	Passes     uint64 // passes done
	Removed    uint64 // files removed by the retention
	Compressed uint64 // files compressed
	Errors     uint64 // files that could not be removed or compressed (each time)
}

// NewJanitor returns a janitor for cfg.
func NewJanitor(cfg JanitorConfig) (*Janitor, error) {
	if cfg.EventsDir == "" && cfg.SnapshotsDir == "" {
		return nil, errors.New("archive: JanitorConfig needs EventsDir or SnapshotsDir")
	}
	if cfg.Retention < 0 {
		return nil, fmt.Errorf("archive: retention %v is negative", cfg.Retention)
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
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
	return &Janitor{cfg: cfg, log: cfg.Logger}, nil
}

// Stats returns the janitor's counters.
func (j *Janitor) Stats() JanitorStats {
	return JanitorStats{
		Passes:     j.passes.Load(),
		Removed:    j.removed.Load(),
		Compressed: j.compressed.Load(),
		Errors:     j.errs.Load(),
	}
}

// Run makes a pass at once and then every Interval until ctx is done.
// Errors are logged and counted, never returned.
func (j *Janitor) Run(ctx context.Context) error {
	t := time.NewTicker(j.cfg.Interval)
	defer t.Stop()
	for {
		if err := j.Pass(); err != nil {
			j.log.Error("Archive maintenance failed for some files; they are kept as they were and tried again", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Pass removes and compresses what is due now. The error joins those of
// the files it could not handle (at most a few are named).
func (j *Janitor) Pass() error {
	if j.cfg.Retention == 0 && !j.cfg.Compress {
		return nil
	}
	now := j.cfg.Now().UTC()
	p := &pass{j: j, now: now}
	if j.cfg.Retention > 0 {
		p.cutoff = now.Add(-j.cfg.Retention)
	}
	if j.cfg.EventsDir != "" {
		errs := p.errs
		p.walkEvents(j.cfg.EventsDir)
		if p.errs == errs {
			j.eventsDone = now.Add(-HourSettle).Truncate(time.Hour)
		}
	}
	if j.cfg.SnapshotsDir != "" {
		errs := p.errs
		newest := j.newestSnapshot(j.cfg.SnapshotsDir)
		p.newest = newest
		p.walkSnapshots(j.cfg.SnapshotsDir)
		if p.errs == errs {
			done := now.Add(-MinuteSettle).Truncate(time.Minute)
			if t, ok := minuteOf(j.cfg.SnapshotsDir, newest); ok && t.Before(done) {
				done = t // the newest was skipped: compress it once it is not the newest
			}
			j.snapsDone = done
		}
	}
	j.passes.Add(1)
	if p.removed > 0 || p.compressed > 0 {
		j.log.Debug("Archive maintenance pass", "removed", p.removed, "compressed", p.compressed, "errors", p.errs)
	}
	if p.errs > 0 {
		return fmt.Errorf("%d files: %w", p.errs, errors.Join(p.first...))
	}
	return nil
}

// pass is the state of one Pass.
type pass struct {
	j      *Janitor
	now    time.Time
	cutoff time.Time // zero: no retention
	newest string    // the newest minute snapshot (plain name), never touched

	removed, compressed, errs int
	first                     []error // the first few errors
}

func (p *pass) fail(err error) {
	p.errs++
	p.j.errs.Add(1)
	if len(p.first) < 3 {
		p.first = append(p.first, err)
	}
}

// old reports whether a file or directory whose time ended at end is
// past the retention.
func (p *pass) old(end time.Time) bool {
	return !p.cutoff.IsZero() && !end.After(p.cutoff)
}

// walkEvents visits root/YYYY/MM/DD/HH.jsonl[.gz].
func (p *pass) walkEvents(root string) {
	p.walkDays(root, func(dir string, day time.Time) bool {
		// A day with nothing past the retention and nothing left to
		// compress is not listed.
		return p.old(day) || p.j.cfg.Compress && day.Add(24*time.Hour).After(p.j.eventsDone)
	}, func(dir string, day time.Time) bool {
		entries := p.list(dir)
		left := len(entries)
		for _, e := range entries {
			name := e.Name()
			hour, gz, ok := parseHourName(name)
			if !ok {
				if p.removeStaleTemp(dir, e) {
					left--
				}
				continue
			}
			start := day.Add(time.Duration(hour) * time.Hour)
			path := filepath.Join(dir, name)
			switch end := start.Add(time.Hour); {
			case p.old(end):
				if p.remove(path) {
					left--
				}
			case !gz && p.j.cfg.Compress && !end.After(p.now.Add(-HourSettle)):
				if p.compressHour(path) {
					p.compressed++
				}
			}
		}
		return left == 0 && !day.Add(24*time.Hour).After(p.now.Add(-HourSettle)) && p.removeDir(dir)
	})
}

// walkSnapshots visits root/YYYY/MM/DD/HH/MM.json[.gz].
func (p *pass) walkSnapshots(root string) {
	visit := func(start, end time.Time, done time.Time) bool {
		return p.old(start) || p.j.cfg.Compress && end.After(done)
	}
	p.walkDays(root, func(dir string, day time.Time) bool {
		return visit(day, day.Add(24*time.Hour), p.j.snapsDone)
	}, func(dir string, day time.Time) bool {
		hours := p.list(dir)
		left := len(hours)
		for _, he := range hours {
			h, ok := ParseNumber(he.Name(), 2, 0, 23)
			if !ok || !he.IsDir() {
				if p.removeStaleTemp(dir, he) {
					left--
				}
				continue
			}
			hstart := day.Add(time.Duration(h) * time.Hour)
			if !visit(hstart, hstart.Add(time.Hour), p.j.snapsDone) {
				continue
			}
			hdir := filepath.Join(dir, he.Name())
			mins := p.list(hdir)
			mleft := len(mins)
			for _, me := range mins {
				m, gz, ok := parseMinuteName(me.Name())
				if !ok {
					if p.removeStaleTemp(hdir, me) {
						mleft--
					}
					continue
				}
				path := filepath.Join(hdir, me.Name())
				if strings.TrimSuffix(path, GzipSuffix) == p.newest {
					continue
				}
				switch end := hstart.Add(time.Duration(m+1) * time.Minute); {
				case p.old(end):
					if p.remove(path) {
						mleft--
					}
				case !gz && p.j.cfg.Compress && !end.After(p.now.Add(-MinuteSettle)):
					if p.compressSnapshot(path) {
						p.compressed++
					}
				}
			}
			if mleft == 0 && !hstart.Add(time.Hour).After(p.now.Add(-MinuteSettle)) {
				if p.removeDir(hdir) {
					left--
				}
			}
		}
		return left == 0 && !day.Add(24*time.Hour).After(p.now.Add(-MinuteSettle)) && p.removeDir(dir)
	})
}

// walkDays calls each for every day directory root/YYYY/MM/DD, oldest
// first, that want wants, and removes the month and year directories
// left empty.
func (p *pass) walkDays(root string, want func(dir string, day time.Time) bool, each func(dir string, day time.Time) (removed bool)) {
	years, err := p.j.cfg.FS.ReadDir(root)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			p.fail(err)
		}
		return
	}
	for _, ye := range years {
		y, ok := ParseNumber(ye.Name(), 4, 1970, 9999)
		if !ok || !ye.IsDir() {
			continue
		}
		ydir := filepath.Join(root, ye.Name())
		months := p.list(ydir)
		yleft := len(months)
		for _, me := range months {
			m, ok := ParseNumber(me.Name(), 2, 1, 12)
			if !ok || !me.IsDir() {
				continue
			}
			mdir := filepath.Join(ydir, me.Name())
			days := p.list(mdir)
			mleft := len(days)
			for _, de := range days {
				d, ok := ParseNumber(de.Name(), 2, 1, 31)
				if !ok || !de.IsDir() {
					continue
				}
				day := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
				ddir := filepath.Join(mdir, de.Name())
				if want(ddir, day) && each(ddir, day) {
					mleft--
				}
			}
			monthEnd := time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC)
			if mleft == 0 && monthEnd.Before(p.now.Add(-HourSettle)) && p.removeDir(mdir) {
				yleft--
			}
		}
		if yleft == 0 && time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).Before(p.now.Add(-HourSettle)) {
			p.removeDir(ydir)
		}
	}
}

// list lists a directory in name order; an error is counted and an empty
// list returned.
func (p *pass) list(dir string) []fs.DirEntry {
	es, err := p.j.cfg.FS.ReadDir(dir)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			p.fail(err)
		}
		return nil
	}
	return es
}

func (p *pass) remove(path string) bool {
	if err := p.j.cfg.FS.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		p.fail(fmt.Errorf("retention: %w", err))
		return false
	}
	p.removed++
	p.j.removed.Add(1)
	return true
}

// removeDir removes an empty directory; one that is not empty (a writer
// just made a file in it) is left without an error.
func (p *pass) removeDir(dir string) bool {
	if es, err := p.j.cfg.FS.ReadDir(dir); err != nil || len(es) > 0 {
		return false
	}
	return p.j.cfg.FS.Remove(dir) == nil
}

// removeStaleTemp removes e, in dir, when it is a temporary file of an
// atomic write (".NAME.tmp-XXXX") older than an hour: a crash's leftover.
func (p *pass) removeStaleTemp(dir string, e fs.DirEntry) bool {
	name := e.Name()
	if e.IsDir() || !strings.HasPrefix(name, ".") || !strings.Contains(name, ".tmp-") {
		return false
	}
	info, err := e.Info()
	if err != nil || info.ModTime().After(p.now.Add(-staleTemp)) {
		return false
	}
	return p.j.cfg.FS.Remove(filepath.Join(dir, name)) == nil
}

// newestSnapshot is the plain name of the newest minute snapshot under
// root, "" when there is none.
func (j *Janitor) newestSnapshot(root string) string {
	var walk func(dir string, depth int) string
	walk = func(dir string, depth int) string {
		es, err := j.cfg.FS.ReadDir(dir)
		if err != nil {
			return ""
		}
		for i := len(es) - 1; i >= 0; i-- {
			name := es[i].Name()
			if depth == 4 {
				if _, _, ok := parseMinuteName(name); ok {
					return filepath.Join(dir, strings.TrimSuffix(name, GzipSuffix))
				}
				continue
			}
			if _, ok := ParseDirName(name, depth); !ok || !es[i].IsDir() {
				continue
			}
			if found := walk(filepath.Join(dir, name), depth+1); found != "" {
				return found
			}
		}
		return ""
	}
	return walk(root, 0)
}

// minuteOf is the minute that the snapshot file path under root is of.
func minuteOf(root, path string) (time.Time, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || path == "" {
		return time.Time{}, false
	}
	t, err := time.Parse("2006/01/02/15/04.json", filepath.ToSlash(rel))
	return t, err == nil
}
