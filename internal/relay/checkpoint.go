package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// savedView is the content of ViewFile: the relay's view where its archive
// ended, saved at a clean stop and every CheckpointInterval while the
// archive grows.
type savedView struct {
	// Position is the archive's end when the view was saved.
	archive.Position
	// At is when the view was saved (Unix milliseconds), and Hours the
	// length then of every hour file of the archive from checkpointBefore
	// before it to checkpointAfter after it (of the lines in it, compressed
	// or not; a file not named did not exist): every line past them, and
	// every line of a later hour, was archived after the view was saved.
	// Views saved by an earlier version have neither, and are of use only
	// where the archive still ends.
	At    int64            `json:"at,omitempty"`
	Hours map[string]int64 `json:"hours,omitempty"`
	View  json.RawMessage  `json:"view"`
}

// The hours a checkpoint measures around its time: an event is filed
// under the hour of its own timestamp, its LSA's arrival less its LS age,
// which is at most an hour (MaxAge), so an event archived after the
// checkpoint goes to an hour from an hour before it on; one more hour
// each way allows for the upstream's clock being off the relay's.
const (
	checkpointBefore = 2 * time.Hour
	checkpointAfter  = time.Hour
)

// checkpointLoop saves the view every CheckpointInterval when the archive
// grew since the last save, so that a relay that is killed (SIGKILL, the
// node's power) leaves a view to diff an upstream's new numbering against.
// A save is skipped while the archive is behind the view; it is retried at
// the next tick.
func (r *Relay) checkpointLoop(ctx context.Context) {
	t := time.NewTicker(r.cfg.CheckpointInterval)
	defer t.Stop()
	var last uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		grew := r.archivedSeq != last
		r.mu.Unlock()
		if !grew {
			continue
		}
		if seq, err := r.saveView(false); err == nil {
			last = seq
		} else if !errors.Is(err, errNotAtArchiveEnd) {
			r.log.Error("Saving a checkpoint of the relay's view failed", "err", err)
		}
	}
}

// errNotAtArchiveEnd is saveView's answer when the view is not the one the
// archive ends with (the archive is behind, or a resnapshot's difference is
// in flight).
var errNotAtArchiveEnd = errors.New("the archive does not end where the view is")

// saveView writes ViewFile when the view the relay follows is the one its
// archive ends with, and returns out's sequence number it is at. final
// (the relay stopping) logs what it did.
func (r *Relay) saveView(final bool) (uint64, error) {
	r.mu.Lock()
	g := r.viewGen
	r.mu.Unlock()
	if g == nil {
		return 0, errNotAtArchiveEnd
	}
	// g.mu, then r.mu, as take does: nothing is published meanwhile.
	g.mu.Lock()
	r.mu.Lock()
	// The archive describes the view when it holds every event out got
	// (the difference events of resnapshots included) and the view
	// accounts for all of them; the position file then names where the
	// archive ends. The records after the archive's last event change
	// nothing an event shows, so the view there is, for the archive, the
	// view at its end.
	ok := r.viewGen == g && r.viewSeq == r.lastEvent && r.archivedSeq == r.lastEvent
	at, seq := r.positionLocked(r.archivedSeq), r.archivedSeq
	r.mu.Unlock()
	if !ok || at.Epoch == "" {
		g.mu.Unlock()
		if final {
			r.log.Info("Not saving the relay's view: the archive does not end where the view is; the last checkpoint stays",
				"archived", r.archive.Stats().Events)
		}
		return 0, errNotAtArchiveEnd
	}
	now := time.Now()
	v := g.replica.View(now) // immutable: written out after the lock
	// Measured while nothing is published, so that no line is being added.
	hours, err := r.measureHours(now)
	g.mu.Unlock()
	if err != nil {
		r.checkpointErrors.Add(1)
		return 0, err
	}
	b, err := json.Marshal(savedView{Position: at, At: now.UnixMilli(), Hours: hours, View: v.AppendJSON(nil)})
	if err != nil {
		return 0, err
	}
	name := filepath.Join(r.cfg.EventsDir, ViewFile)
	if err := archive.WriteFileAtomic(archive.OSFS{}, name, append(b, '\n')); err != nil {
		r.checkpointErrors.Add(1)
		if final {
			r.log.Error("Saving the relay's view failed; if the upstream restarts before the relay does, the archive will miss the changes in between", "file", name, "err", err)
		}
		return 0, err
	}
	r.checkpoints.Add(1)
	r.lastCheckpoint.Store(now.UnixMilli())
	if final {
		r.log.Info("Saved the relay's view where the archive ends", "file", name, "epoch", at.Epoch, "seq", at.Seq)
	} else {
		r.log.Debug("Saved a checkpoint of the relay's view", "file", name, "epoch", at.Epoch, "seq", at.Seq)
	}
	return seq, nil
}

// measureHours returns the length of the hour files from checkpointBefore
// before now to checkpointAfter after it that exist.
func (r *Relay) measureHours(now time.Time) (map[string]int64, error) {
	hours := map[string]int64{}
	for path := range r.hourFiles(now.Add(-checkpointBefore), now.Add(checkpointAfter)) {
		n, err := hourLength(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			hours[path] = n
		}
	}
	return hours, nil
}

// hourFiles are the archive's hour files (whether they exist or not) of
// the hours from the one that holds from to the one that holds to.
func (r *Relay) hourFiles(from, to time.Time) iter.Seq[string] {
	return func(yield func(string) bool) {
		for h := from.UTC().Truncate(time.Hour); !h.After(to); h = h.Add(time.Hour) {
			if !yield(archive.HourPath(r.cfg.EventsDir, h)) {
				return
			}
		}
	}
}

// hourLength is the length of an hour's lines: the plain file's size, or,
// once compressed, the length of what it holds.
func hourLength(path string) (int64, error) {
	if _, err := os.Stat(path + archive.GzipSuffix); errors.Is(err, fs.ErrNotExist) {
		st, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}
	data, err := archive.ReadHour(path)
	return int64(len(data)), err
}

// takeSavedView reads ViewFile and returns the view in it with the events
// archived after it was saved: none when it was saved where the archive
// ends (a clean stop). The file stays: the view with the events after it is
// the archive's end until this run saves a newer one.
func (r *Relay) takeSavedView() (*lsdb.View, []lsdb.Event) {
	name := filepath.Join(r.cfg.EventsDir, ViewFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	var (
		sv    savedView
		v     *lsdb.View
		after []lsdb.Event
	)
	if err == nil {
		err = json.Unmarshal(data, &sv)
	}
	if err == nil {
		v, err = lsdb.ParseView(sv.View)
	}
	if err == nil && sv.Position != r.start {
		if sv.Hours == nil {
			r.log.Info("Ignoring the relay's saved view: the archive went on after it, and it does not say where (an earlier version's)",
				"file", name, "view_epoch", sv.Epoch, "view_seq", sv.Seq, "archive_epoch", r.start.Epoch, "archive_seq", r.start.Seq)
			return nil, nil
		}
		after, err = r.archivedAfter(sv)
	}
	if err != nil {
		r.log.Warn("Ignoring the relay's saved view", "file", name, "err", err)
		return nil, nil
	}
	if len(after) > 0 {
		r.log.Info("The relay's archive went on after its last saved view (it did not stop cleanly): read the events archived since",
			"file", name, "saved", time.UnixMilli(sv.At).UTC(), "events", len(after))
	}
	return v, after
}

// archivedAfter returns the events the archive got after sv was saved:
// the lines past the lengths sv measured, and those of the hours after.
func (r *Relay) archivedAfter(sv savedView) ([]lsdb.Event, error) {
	var evs []lsdb.Event
	saved := time.UnixMilli(sv.At)
	last := time.Now()
	if saved.After(last) {
		last = saved
	}
	last = last.Add(checkpointAfter)
	for path := range r.hourFiles(saved.Add(-checkpointBefore), last) {
		data, err := archive.ReadHour(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		off := sv.Hours[path]
		if off > int64(len(data)) {
			return nil, fmt.Errorf("%s is shorter (%d bytes) than when the view was saved (%d)", path, len(data), off)
		}
		data = data[off:]
		for len(data) > 0 {
			line, rest, whole := bytes.Cut(data, []byte{'\n'})
			data = rest
			if !whole || len(bytes.TrimSpace(line)) == 0 {
				continue // a torn last line was never archived
			}
			ev, err := lsdb.ParseEvent(line)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			evs = append(evs, ev)
		}
	}
	return evs, nil
}
