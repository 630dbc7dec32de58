package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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
	// Written, when set, is called after each successful write with the
	// last event written and the file's size after it, so that a relay
	// can record how far its archive got.
	Written func(last *lsdb.Event, file string, size int64)
}

// Archive writes the event stream to hourly files, DIR/YYYY/MM/DD/HH.jsonl,
// one event per line in the seed's format, as the seed lays them out.
//
// Unlike the seed, which files each event by its own timestamp in the
// host's local time, the hour is that of writing, in UTC: the tools that
// read the history expect UTC, and filing by the time of writing keeps
// exactly one file open and appended, never reopening an hour that has
// ended. An event's timestamp is when the LSA was originated (arrival
// minus LS age), so the first events after a (re)sync may carry a
// timestamp from an earlier hour than their file's.
//
// Every batch of events is written with one write(2) and no user-space
// buffering; the file is synced (fsync) when the hour rolls over and on
// Close. A failed write (disk full, permission denied) never stops the
// stream: Run logs it, counts it, keeps the events and retries, so that
// nothing the feed still holds is lost, and writing resumes when the disk
// recovers. The space of a batch is reserved (fallocate) before it is
// written, so that a full disk refuses it whole; where that cannot be
// done, a write that fails halfway is cut back at once, so that the file
// is left without a torn line.
type Archive struct {
	cfg ArchiveConfig
	log *slog.Logger

	mu     sync.Mutex
	f      File
	path   string
	hour   time.Time
	size   int64  // bytes of whole lines in f
	repair *torn  // a write that failed halfway and is not cut back yet
	buf    []byte // the batch being written
	// failing is set while writes fail, so that an outage is logged once
	// when it starts and once when it ends.
	failing atomic.Bool

	events, batches, errs, lost, syncs atomic.Uint64
}

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
	return &Archive{cfg: cfg, log: cfg.Logger.With("archive", cfg.Dir)}, nil
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

// HourPath is the file of the hour that contains t (in UTC) under dir.
func HourPath(dir string, t time.Time) string {
	t = t.UTC()
	return filepath.Join(dir, t.Format("2006"), t.Format("01"), t.Format("02"), t.Format("15")+".jsonl")
}

// Write appends evs to the file of the current hour, all or none: on an
// error the file is left as it was (or cut back to it at the next
// attempt) and the caller may retry the same events.
func (a *Archive) Write(evs []lsdb.Event) error {
	if len(evs) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.cutBack(); err != nil {
		return a.fail("repair torn write", err)
	}
	hour := a.cfg.Now().UTC().Truncate(time.Hour)
	if err := a.open(hour); err != nil {
		return a.fail("open", err)
	}
	a.buf = a.buf[:0]
	for i := range evs {
		a.buf = evs[i].AppendJSON(a.buf)
		a.buf = append(a.buf, '\n')
	}
	if err := reserve(a.f, a.size, int64(len(a.buf))); err != nil {
		a.closeFile()
		return a.fail("reserve space", err)
	}
	n, err := a.f.Write(a.buf)
	if err != nil {
		if n > 0 {
			a.repair = &torn{path: a.path, size: a.size}
		}
		a.closeFile()
		if cerr := a.cutBack(); cerr != nil {
			a.errs.Add(1)
		}
		return a.fail("write", err)
	}
	a.size += int64(n)
	if a.cfg.Written != nil {
		a.cfg.Written(&evs[len(evs)-1], a.path, a.size)
	}
	a.events.Add(uint64(len(evs)))
	a.batches.Add(1)
	if a.failing.Swap(false) {
		a.log.Info("Archive writing resumed", "file", a.path)
	}
	return nil
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

// open makes the file of hour the open one, syncing and closing the
// previous hour's.
func (a *Archive) open(hour time.Time) error {
	if a.f != nil && a.hour.Equal(hour) {
		return nil
	}
	if a.f != nil {
		a.finish()
	}
	path := HourPath(a.cfg.Dir, hour)
	if err := a.cfg.FS.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := a.cfg.FS.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	size, err := wholeLines(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	a.f, a.path, a.hour, a.size = f, path, hour, size
	return nil
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

// finish syncs and closes the open file.
func (a *Archive) finish() {
	if err := a.f.Sync(); err != nil {
		a.errs.Add(1)
		a.log.Error("Archive sync failed", "file", a.path, "err", err)
	} else {
		a.syncs.Add(1)
	}
	a.closeFile()
}

func (a *Archive) closeFile() {
	if err := a.f.Close(); err != nil {
		a.log.Debug("Archive close failed", "file", a.path, "err", err)
	}
	a.f = nil
}

// Close syncs and closes the open file, if any.
func (a *Archive) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f != nil {
		a.finish()
	}
	return nil
}

// rollIdle closes the file of an hour that ended while no event came.
func (a *Archive) rollIdle() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f != nil && !a.cfg.Now().UTC().Truncate(time.Hour).Equal(a.hour) {
		a.finish()
	}
}

// untilHourEnds is how long the open file's hour lasts; false when no
// file is open.
func (a *Archive) untilHourEnds() (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return 0, false
	}
	return a.hour.Add(time.Hour).Sub(a.cfg.Now()), true
}

// Run archives every event of feed after the sequence number after until
// ctx is done, then closes the file. Write errors are retried every
// RetryInterval with the same events; if the outage outlasts the feed's
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
		if err := a.Write(evs); err != nil {
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
