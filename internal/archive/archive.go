package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// ArchiveConfig configures an Archive. Only Dir is required.
type ArchiveConfig struct {
	// Dir is the root of the archive (--events-path-prefix).
	Dir string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// FS is the file system; OSFS when nil.
	FS FS
	// RetryInterval is how long Run waits before it retries a failed
	// write. Default 5s.
	RetryInterval time.Duration
	// Logger receives write errors and recoveries; slog.Default() if nil.
	Logger *slog.Logger
	// Written, when set, is called after each successful Write with the
	// last event written and the size after it of every file the archive
	// appended to recently, so that a relay can record how far its
	// archive got (WritePosition). Before the archive appends to a file
	// that the last call did not name, it calls Written with last nil and
	// that file added at its size before the write: the newest record
	// then always names every file appended to after it. files is the
	// callee's to keep.
	Written func(last *lsdb.Event, files map[string]int64)
}

// Archive writes the event stream to hourly files, DIR/YYYY/MM/DD/HH.jsonl,
// one event per line in the seed's format, as the seed lays them out.
//
// As the seed does, each event goes to the file of the hour of its own
// timestamp, when the LSA was originated (arrival minus LS age), which is
// where a reader of history by hour looks for it: an event of an earlier
// hour (the first events after a resync, a relay catching up) is appended
// to that hour's file. Unlike the seed, which uses the host's local time,
// the hour is in UTC: its own live page, and every tool that reads the
// history, reads it by UTC hour. Within a file, events are in the order of
// the stream.
//
// Each run of events of one hour is written with one write(2) and no
// user-space buffering. A file stays open while its hour lasts (by the
// clock) and is synced (fsync) and closed when the hour has ended, once
// the write that opened it again is done, and on Close. A failed write
// (disk full, permission denied) never stops the stream: Run logs it,
// counts it, keeps the events not written and retries, so that nothing the
// feed still holds is lost, and writing resumes when the disk recovers.
// The space of a run is reserved (fallocate) before it is written, so that
// a full disk refuses it whole; where that cannot be done, a write that
// fails halfway is cut back at once, so that the file is left without a
// torn line.
type Archive struct {
	cfg ArchiveConfig
	log *slog.Logger

	mu     sync.Mutex
	open   []*hourFile      // files open, at most maxOpen, the most recently used last
	sizes  map[string]int64 // the files the last Written call named, and their sizes then
	grown  map[string]int64 // the files the current Write appended to, and their sizes after it
	repair *torn            // a write that failed halfway and is not cut back yet
	buf    []byte           // the run being written
	// failing is set while writes fail, so that an outage is logged once
	// when it starts and once when it ends.
	failing atomic.Bool

	events, batches, errs, lost, syncs atomic.Uint64
}

// hourFile is the open file of one hour.
type hourFile struct {
	f    File
	path string
	hour time.Time
	size int64 // bytes of whole lines in f
}

// maxOpen is how many hour files stay open at once: the current hour's
// and one more, for the events of an earlier hour that a resync mixes in.
const maxOpen = 2

// maxNamed is how many files Written names at most: files it stops naming
// are named again, with a call before the write, when they are appended to.
const maxNamed = 8

// torn is a file whose tail past size is a failed write's.
type torn struct {
	path string
	size int64
}

// ArchiveStats are an Archive's counters.
type ArchiveStats struct {
	Events  uint64 // events written
	Batches uint64 // successful writes
	Errors  uint64 // failed opens, writes, syncs and repairs
	Lost    uint64 // sequence numbers (events, and the state records among them) that left the feed's window before they could be written
	Syncs   uint64 // files synced at an hour's end or on Close
	Failing bool   // the last attempt failed
}

// NewArchive returns an archive for cfg. It opens no file before the first
// event.
func NewArchive(cfg ArchiveConfig) (*Archive, error) {
	if cfg.Dir == "" {
		return nil, errors.New("archive: ArchiveConfig.Dir is empty")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Archive{cfg: cfg, log: cfg.Logger.With("archive", cfg.Dir), sizes: map[string]int64{}, grown: map[string]int64{}}, nil
}

// Stats returns the archive's counters.
func (a *Archive) Stats() ArchiveStats {
	return ArchiveStats{
		Events:  a.events.Load(),
		Batches: a.batches.Load(),
		Errors:  a.errs.Load(),
		Lost:    a.lost.Load(),
		Syncs:   a.syncs.Load(),
		Failing: a.failing.Load(),
	}
}

// HourPath is the file of the hour that contains t (in UTC) under dir,
// joined as the seed joins it (joinRaw).
func HourPath(dir string, t time.Time) string {
	return joinRaw(dir, t.UTC().Format("2006/01/02/15")+".jsonl")
}

// EventHour is the hour whose file holds ev: that of its own timestamp, in UTC.
func EventHour(ev *lsdb.Event) time.Time {
	return time.UnixMilli(ev.Time).UTC().Truncate(time.Hour)
}

// Write appends evs, each to the file of the hour of its timestamp, and
// returns how many of them (the first n) it wrote. Each run of events of
// one hour is written whole or not at all: on an error, the run's file is
// left as it was (or cut back to it at the next attempt) and the caller
// may retry evs[n:].
func (a *Archive) Write(evs []lsdb.Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.closeEnded()
	if err := a.cutBack(); err != nil {
		return 0, a.fail("repair torn write", err)
	}
	n := 0
	var err error
	for n < len(evs) {
		hour := EventHour(&evs[n])
		j := n + 1
		for j < len(evs) && EventHour(&evs[j]).Equal(hour) {
			j++
		}
		if err = a.writeRun(hour, evs[n:j]); err != nil {
			break
		}
		n = j
	}
	if n > 0 {
		a.named(&evs[n-1])
		a.events.Add(uint64(n))
	}
	if err != nil {
		return n, err
	}
	a.batches.Add(1)
	if a.failing.Swap(false) {
		a.log.Info("Archive writing resumed")
	}
	return n, nil
}

// writeRun appends evs, all of one hour, to that hour's file.
func (a *Archive) writeRun(hour time.Time, evs []lsdb.Event) error {
	hf, err := a.file(hour)
	if err != nil {
		return a.fail("open", err)
	}
	if _, ok := a.sizes[hf.path]; !ok && a.cfg.Written != nil {
		// Name the file before appending to it, at its size now.
		a.sizes[hf.path] = hf.size
		a.cfg.Written(nil, maps.Clone(a.sizes))
	}
	a.buf = a.buf[:0]
	for i := range evs {
		a.buf = evs[i].AppendJSON(a.buf)
		a.buf = append(a.buf, '\n')
	}
	if err := reserve(hf.f, hf.size, int64(len(a.buf))); err != nil {
		a.closeFile(hf)
		return a.fail("reserve space", err)
	}
	n, err := hf.f.Write(a.buf)
	if err != nil {
		if n > 0 {
			a.repair = &torn{path: hf.path, size: hf.size}
		}
		a.closeFile(hf)
		if cerr := a.cutBack(); cerr != nil {
			a.errs.Add(1)
		}
		return a.fail("write", err)
	}
	hf.size += int64(n)
	a.grown[hf.path] = hf.size
	return nil
}

// named reports the files written to Written, with last the last event
// written, and forgets the oldest hours beyond maxNamed.
func (a *Archive) named(last *lsdb.Event) {
	if a.cfg.Written == nil {
		clear(a.grown)
		return
	}
	maps.Copy(a.sizes, a.grown)
	clear(a.grown)
	for len(a.sizes) > maxNamed {
		// Paths of one archive sort as their hours do.
		oldest := ""
		for p := range a.sizes {
			if oldest == "" || p < oldest {
				oldest = p
			}
		}
		delete(a.sizes, oldest)
	}
	a.cfg.Written(last, maps.Clone(a.sizes))
}

// reserve makes room for n bytes at off in f before they are written, so
// that on a full disk the write fails whole rather than halfway, where the
// file system can tell (fallocate on Linux). A file that can reserve
// itself (a test's) is asked directly.
func reserve(f File, off, n int64) error {
	switch f := f.(type) {
	case interface{ Reserve(off, n int64) error }:
		return f.Reserve(off, n)
	case syscall.Conn:
		rc, err := f.SyscallConn()
		if err != nil {
			return nil
		}
		return reserveFd(rc, off, n)
	}
	return nil
}

func (a *Archive) fail(op string, err error) error {
	a.errs.Add(1)
	err = fmt.Errorf("archive %s: %w", op, err)
	if !a.failing.Swap(true) {
		a.log.Error("Archive write failed; the events are kept and retried", "err", err)
	} else {
		a.log.Debug("Archive write failed again", "err", err)
	}
	return err
}

// file returns the open file of hour, opening it (and syncing and
// closing the least recently used one beyond maxOpen) if need be.
func (a *Archive) file(hour time.Time) (*hourFile, error) {
	for i, hf := range a.open {
		if hf.hour.Equal(hour) {
			if i != len(a.open)-1 {
				a.open = append(append(a.open[:i:i], a.open[i+1:]...), hf)
			}
			return hf, nil
		}
	}
	if len(a.open) >= maxOpen {
		a.finish(a.open[0])
	}
	path := HourPath(a.cfg.Dir, hour)
	dir, _ := splitPath(path)
	if err := a.cfg.FS.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := a.cfg.FS.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	size, err := wholeLines(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	hf := &hourFile{f: f, path: path, hour: hour, size: size}
	a.open = append(a.open, hf)
	return hf, nil
}

// wholeLines cuts off a torn last line (a crash of an earlier run in the
// middle of a write) and returns the size of the file.
func wholeLines(f File) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := st.Size()
	if size == 0 {
		return 0, nil
	}
	var buf [4096]byte
	end := size
	for end > 0 {
		n := int64(len(buf))
		if n > end {
			n = end
		}
		if _, err := f.ReadAt(buf[:n], end-n); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			end = end - n + int64(i) + 1
			break
		}
		end -= n
	}
	if end < size {
		if err := f.Truncate(end); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// cutBack removes the tail of a write that failed halfway.
func (a *Archive) cutBack() error {
	if a.repair == nil {
		return nil
	}
	f, err := a.cfg.FS.OpenFile(a.repair.path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Truncate(a.repair.size)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		a.repair = nil
	}
	return err
}

// finish syncs and closes an open file.
func (a *Archive) finish(hf *hourFile) {
	if err := hf.f.Sync(); err != nil {
		a.errs.Add(1)
		a.log.Error("Archive sync failed", "file", hf.path, "err", err)
	} else {
		a.syncs.Add(1)
	}
	a.closeFile(hf)
}

// closeFile closes an open file and forgets it.
func (a *Archive) closeFile(hf *hourFile) {
	if err := hf.f.Close(); err != nil {
		a.log.Debug("Archive close failed", "file", hf.path, "err", err)
	}
	a.open = slices.DeleteFunc(a.open, func(x *hourFile) bool { return x == hf })
}

// closeEnded syncs and closes the files of the hours that have ended.
func (a *Archive) closeEnded() {
	now := a.cfg.Now()
	for _, hf := range slices.Clone(a.open) {
		if !hf.hour.Add(time.Hour).After(now) {
			a.finish(hf)
		}
	}
}

// Close syncs and closes the open files, if any.
func (a *Archive) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for len(a.open) > 0 {
		a.finish(a.open[0])
	}
	return nil
}

// rollIdle closes the files of hours that ended while no event came.
func (a *Archive) rollIdle() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.closeEnded()
}

// untilHourEnds is how long until the hour of an open file ends (0 when
// one already has); false when no file is open.
func (a *Archive) untilHourEnds() (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.open) == 0 {
		return 0, false
	}
	now := a.cfg.Now()
	d := time.Duration(math.MaxInt64)
	for _, hf := range a.open {
		d = min(d, max(0, hf.hour.Add(time.Hour).Sub(now)))
	}
	return d, true
}

// Run archives every event of feed after the sequence number after until
// ctx is done, then closes the files. Write errors are retried every
// RetryInterval with the events not written; if the outage outlasts the feed's
// window, the events that left it are counted as lost and the archive
// continues with the newest.
func (a *Archive) Run(ctx context.Context, feed *lsdb.Feed, after uint64) error {
	defer a.Close()
	sub, err := feed.Subscribe(after)
	if err != nil {
		return err
	}
	var evs []lsdb.Event
	for {
		if len(evs) == 0 {
			rctx, cancel := ctx, context.CancelFunc(func() {})
			if d, ok := a.untilHourEnds(); ok {
				rctx, cancel = context.WithTimeout(ctx, max(d, time.Second))
			}
			evs, err = sub.Read(rctx, evs[:0])
			cancel()
			switch {
			case err == nil:
			case ctx.Err() != nil:
				return nil
			case errors.Is(err, context.DeadlineExceeded):
				a.rollIdle()
				continue
			case errors.Is(err, lsdb.ErrLagged):
				last := feed.LastSeq()
				a.lost.Add(last - (sub.Next() - 1))
				a.errs.Add(1)
				a.log.Error("Archive fell out of the change feed's window; events are missing from it",
					"first", sub.Next(), "last", last)
				if sub, err = feed.Subscribe(last); err != nil {
					return err
				}
				continue
			default:
				return err
			}
		}
		n, err := a.Write(evs)
		if err != nil {
			// Keep what is not written, in order, and retry it.
			rest := copy(evs, evs[n:])
			clear(evs[rest:])
			evs = evs[:rest]
			select {
			case <-ctx.Done():
				a.log.Error("Archive stopped with events not written", "events", len(evs))
				return nil
			case <-time.After(a.cfg.RetryInterval):
			}
			continue
		}
		clear(evs)
		evs = evs[:0]
	}
}
