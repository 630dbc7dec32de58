package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// Config says where a History's archive is. At least one directory is
// needed: the state at a time needs both, the events only EventsDir.
type Config struct {
	// EventsDir is the root of the hour files (--events-path-prefix).
	EventsDir string
	// SnapshotsDir is the root of the minute snapshots
	// (--snapshots-path-prefix).
	SnapshotsDir string
	// Location is the time zone of the file names: UTC when nil, as this
	// program writes them. The seed named its files in its host's local
	// time: time.Local, or the host's zone, reads such an archive.
	Location *time.Location
	// Strict makes a malformed line or snapshot an error (MalformedError)
	// rather than a warning and a count (Report.Skipped).
	Strict bool
	// Logger receives warnings; slog.Default() if nil.
	Logger *slog.Logger
}

// History answers questions about the past from an archive (see doc.go).
// It holds nothing between questions and is safe for concurrent use.
type History struct {
	cfg Config
	log *slog.Logger
}

// ErrNoHistory is the error (errors.Is) of a question the archive holds
// no answer to: a time before its first snapshot, or a range of events
// before its first hour. The message names what the archive begins with.
var ErrNoHistory = errors.New("no history")

// ErrNoArchive is the error (errors.Is) of a question that needs a
// directory the History was not given.
var ErrNoArchive = errors.New("no archive")

// MalformedError is a line of an hour file, or a snapshot file (Line 0),
// that cannot be read.
type MalformedError struct {
	File string
	Line int
	Err  error
}

func (e *MalformedError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}

func (e *MalformedError) Unwrap() error { return e.Err }

// Report says what an answer was made of.
type Report struct {
	// Base is the snapshot file the state started from and BaseTime its
	// time (its "updated").
	Base     string
	BaseTime time.Time
	// Events is the number of events applied (At) or given (Events).
	Events int
	// Skipped counts the malformed lines and snapshots skipped, and
	// FirstSkipped is the first (a *MalformedError).
	Skipped      int
	FirstSkipped error
	// Unmatched counts the events that removed a link or member the
	// state did not hold (see state).
	Unmatched int
	// OutOfOrder counts the events found in a file read after later
	// events had been given: filed more than an hour after their time.
	OutOfOrder int
}

// New returns the history of cfg's archive.
func New(cfg Config) (*History, error) {
	if cfg.EventsDir == "" && cfg.SnapshotsDir == "" {
		return nil, errors.New("history: Config needs EventsDir or SnapshotsDir")
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &History{cfg: cfg, log: cfg.Logger}, nil
}

// HasSnapshots and HasEvents say which questions h can answer.
func (h *History) HasSnapshots() bool { return h.cfg.SnapshotsDir != "" && h.cfg.EventsDir != "" }

// HasEvents reports whether h has an event archive.
func (h *History) HasEvents() bool { return h.cfg.EventsDir != "" }

// skip records a malformed line or file, or returns it in strict mode.
func (h *History) skip(rep *Report, err *MalformedError) error {
	if h.cfg.Strict {
		return err
	}
	rep.Skipped++
	if rep.FirstSkipped == nil {
		rep.FirstSkipped = err
	}
	return nil
}

// At returns the view as it was at t: the newest minute snapshot taken at
// or before t, with the archived events after it (timestamp after the
// snapshot's time) up to t (timestamp at or before t) applied in
// timestamp order. The view's Updated is t.
func (h *History) At(ctx context.Context, t time.Time) (*lsdb.View, Report, error) {
	var rep Report
	if !h.HasSnapshots() {
		return nil, rep, fmt.Errorf("%w: the state at a time needs the snapshots and the events", ErrNoArchive)
	}
	base, err := h.baseAt(t, &rep)
	if err != nil {
		return nil, rep, err
	}
	st := newState(base)
	err = h.each(ctx, rep.BaseTime, t, &rep, func(_ []byte, ev *lsdb.Event) error {
		st.apply(ev)
		return nil
	})
	if err != nil {
		return nil, rep, err
	}
	rep.Unmatched = st.unmatched
	return st.view(t), rep, nil
}

// baseAt reads the newest snapshot taken at or before t.
func (h *History) baseAt(t time.Time, rep *Report) (*lsdb.View, error) {
	var (
		found *lsdb.View
		ferr  error
	)
	err := snapshotWalk(h.cfg.SnapshotsDir, h.cfg.Location, t, true, func(f snapshotFile) bool {
		v, at, err := readSnapshot(f)
		if err != nil {
			ferr = h.skip(rep, err)
			return ferr == nil
		}
		if at.After(t) {
			return true // taken later in t's minute, or named in a zone's repeated hour
		}
		found, rep.Base, rep.BaseTime = v, f.path, at
		return false
	})
	switch {
	case err != nil:
		return nil, err
	case ferr != nil:
		return nil, ferr
	case found == nil:
		return nil, h.noSnapshot(t)
	}
	return found, nil
}

// readSnapshot reads a minute snapshot and its time: its "updated", or
// the minute its name says when it has none.
func readSnapshot(f snapshotFile) (*lsdb.View, time.Time, *MalformedError) {
	data, err := archive.ReadSnapshotFile(f.path)
	if err != nil {
		return nil, time.Time{}, &MalformedError{File: f.path, Err: err}
	}
	s, err := lsdb.ParseSnapshot(data)
	if err != nil {
		return nil, time.Time{}, &MalformedError{File: onDisk(f.path), Err: err}
	}
	v, err := lsdb.ViewFromSnapshot(s)
	if err != nil {
		return nil, time.Time{}, &MalformedError{File: onDisk(f.path), Err: err}
	}
	at := s.SnapshotTime() // ParseSnapshot reads milliseconds and old float seconds
	if at.UnixMilli() <= 0 {
		at = f.minute
	}
	return v, at, nil
}

// noSnapshot is the error for a time before the first snapshot.
func (h *History) noSnapshot(t time.Time) error {
	var first *snapshotFile
	err := snapshotWalk(h.cfg.SnapshotsDir, h.cfg.Location, time.Time{}, false, func(f snapshotFile) bool {
		first = &f
		return false
	})
	switch {
	case err != nil:
		return err
	case first == nil:
		return fmt.Errorf("%w: no snapshot at or before %s: %s holds none", ErrNoHistory, formatTime(t), h.cfg.SnapshotsDir)
	}
	at := first.minute
	if _, ts, err := readSnapshot(*first); err == nil {
		at = ts
	}
	return fmt.Errorf("%w: no snapshot at or before %s: the earliest is of %s (%s)", ErrNoHistory, formatTime(t), formatTime(at), onDisk(first.path))
}

// onDisk is the name of the minute file path as it is on disk: plain, or
// compressed.
func onDisk(path string) string {
	if _, err := os.Stat(path); err != nil {
		if _, err := os.Stat(path + archive.GzipSuffix); err == nil {
			return path + archive.GzipSuffix
		}
	}
	return path
}

// Events calls yield with each archived event whose timestamp is after
// from and at or before to, as the line the archive holds (without its
// newline), in timestamp order (events of one timestamp in the archive's
// order). The lines are only valid during the call. It fails with
// ErrNoHistory when the archive's first hour starts after to.
func (h *History) Events(ctx context.Context, from, to time.Time, yield func(line []byte) error) (Report, error) {
	var rep Report
	if !h.HasEvents() {
		return rep, fmt.Errorf("%w: the events need --events-path-prefix", ErrNoArchive)
	}
	if err := h.covered(to); err != nil {
		return rep, err
	}
	err := h.each(ctx, from, to, &rep, func(line []byte, _ *lsdb.Event) error { return yield(line) })
	return rep, err
}

// covered fails with ErrNoHistory when the event archive begins after t.
func (h *History) covered(t time.Time) error {
	first, ok, err := firstHour(h.cfg.EventsDir, h.cfg.Location)
	switch {
	case err != nil:
		return err
	case !ok:
		return fmt.Errorf("%w: %s holds no events", ErrNoHistory, h.cfg.EventsDir)
	case first.After(t):
		return fmt.Errorf("%w: the event archive begins at %s, after %s", ErrNoHistory, formatTime(first), formatTime(t))
	}
	return nil
}

// Diff returns the seed's events that take the state at from to the
// state at to (lsdb.DiffViews), stamped with to: the net change, removals
// first.
func (h *History) Diff(ctx context.Context, from, to time.Time) ([]lsdb.Event, Report, error) {
	a, rep, err := h.At(ctx, from)
	if err != nil {
		return nil, rep, err
	}
	b, rep2, err := h.At(ctx, to)
	rep2.Skipped += rep.Skipped
	rep2.Unmatched += rep.Unmatched
	rep2.OutOfOrder += rep.OutOfOrder
	if rep2.FirstSkipped == nil {
		rep2.FirstSkipped = rep.FirstSkipped
	}
	if err != nil {
		return nil, rep2, err
	}
	return lsdb.DiffViews(a, b, to), rep2, nil
}

// maxDelay is how much later than its timestamp an event may be filed:
// an archive of this program from before it filed events by their own
// timestamps filed them by the hour they were written, up to an LSA's
// MaxAge (an hour) after their time.
const maxDelay = time.Hour

// pending is an event read and not given yet.
type pending struct {
	ms   int64
	line []byte
	ev   lsdb.Event
}

// each calls fn for the events with from < timestamp <= to in timestamp
// order. It reads the hour files from the one holding from to the one
// holding to + maxDelay, one at a time, and gives an event once no file
// still to read can hold an earlier one: at most two hours of events are
// held at once.
func (h *History) each(ctx context.Context, from, to time.Time, rep *Report, fn func(line []byte, ev *lsdb.Event) error) error {
	loc := h.cfg.Location
	lo, hi := from.UnixMilli(), to.UnixMilli()
	var (
		held []pending
		gone = lo // events at or before this were given (or are out of range)
		prev string
	)
	give := func(upto int64) error {
		n := 0
		for n < len(held) && held[n].ms < upto {
			if err := fn(held[n].line, &held[n].ev); err != nil {
				return err
			}
			rep.Events++
			n++
		}
		if n > 0 {
			gone = max(gone, held[n-1].ms)
		}
		held = slices.Delete(held, 0, n)
		return nil
	}
	// Only the hours from the archive's first to its last are looked at:
	// a range from long ago, or into the future, costs nothing more.
	first, ok, err := firstHour(h.cfg.EventsDir, loc)
	if err != nil || !ok {
		return err
	}
	final, _, err := lastHour(h.cfg.EventsDir, loc)
	if err != nil {
		return err
	}
	hs := hourStart(from, loc)
	if hs.Before(first) {
		hs = first
	}
	last := to.Add(maxDelay)
	if last.After(final) {
		last = final
	}
	for ; !hs.After(last); hs = nextHour(hs, loc) {
		if err := ctx.Err(); err != nil {
			return err
		}
		path := hourPath(h.cfg.EventsDir, hs)
		if path == prev {
			continue
		}
		prev = path
		data, err := archive.ReadHour(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			if err := h.skip(rep, &MalformedError{File: path, Err: err}); err != nil {
				return err
			}
			continue
		}
		start := len(held)
		for n := 1; len(data) > 0; n++ {
			var line []byte
			var whole bool
			line, data, whole = bytes.Cut(data, []byte{'\n'})
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			ms, ok := quickTimestamp(line)
			if ok && (ms <= lo || ms > hi) {
				continue // out of range: not even parsed
			}
			ev, err := lsdb.ParseEvent(line)
			if err != nil {
				merr := &MalformedError{File: path, Line: n, Err: err}
				if !whole {
					// A last line without its newline is being written
					// (or was torn by a crash): passed over, never an
					// error, even in strict mode.
					rep.Skipped++
					if rep.FirstSkipped == nil {
						rep.FirstSkipped = merr
					}
					continue
				}
				if err := h.skip(rep, merr); err != nil {
					return err
				}
				continue
			}
			if ms = ev.Time; ms <= lo || ms > hi {
				continue
			}
			if ms < gone {
				// A later event was given already: give this one now.
				rep.OutOfOrder++
				if err := fn(line, &ev); err != nil {
					return err
				}
				rep.Events++
				continue
			}
			held = append(held, pending{ms: ms, line: line, ev: ev})
		}
		if len(held) > start {
			slices.SortStableFunc(held, func(a, b pending) int { return cmpInt64(a.ms, b.ms) })
		}
		// Files after this one hold events from this hour's start on.
		if err := give(hs.UnixMilli()); err != nil {
			return err
		}
	}
	return give(hi + 1)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// quickTimestamp reads the timestamp of a line in the seed's byte layout
// ({"timestamp": 1700000000000, ...}) without parsing it, so that lines
// out of range cost nothing; ok is false for any other layout, which is
// then parsed.
func quickTimestamp(line []byte) (int64, bool) {
	const prefix = `{"timestamp": `
	if !bytes.HasPrefix(line, []byte(prefix)) {
		return 0, false
	}
	rest := line[len(prefix):]
	end := bytes.IndexByte(rest, ',')
	if end <= 0 {
		return 0, false
	}
	ms, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	return ms, err == nil
}
