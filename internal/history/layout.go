package history

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/archive"
)

// The archive's layout, as the seed lays it out: events in
// EVENTS/YYYY/MM/DD/HH.jsonl, minute snapshots in
// SNAPSHOTS/YYYY/MM/DD/HH/MM.json, either gzip-compressed (.gz), with
// the times of the names in the archive's time zone (UTC as this program
// writes them; the seed wrote its host's local time).

// hourPath is the hour file of the hour that starts at t (in the
// archive's zone).
func hourPath(dir string, t time.Time) string {
	return filepath.Join(dir, t.Format("2006"), t.Format("01"), t.Format("02"), t.Format("15")+".jsonl")
}

// hourStart is the start of t's hour on the archive's clock.
func hourStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc)
}

// nextHour is the start of the hour after the one that starts at t. Where
// a clock goes back, an hour's name repeats: the same file, which the
// caller reads once.
func nextHour(t time.Time, loc *time.Location) time.Time {
	n := hourStart(t.Add(time.Hour), loc)
	if !n.After(t) {
		n = t.Add(time.Hour)
	}
	return n
}

// snapshotFile is a minute snapshot of the archive: its plain name (the
// file may be that name plus .gz) and the minute its name says.
type snapshotFile struct {
	path   string
	minute time.Time
}

// snapshotWalk lists the minute snapshots under root newest first (back)
// or oldest first, those after bound (its minute, in loc) excluded when
// bound is set, calling yield for each until it returns false. A root that
// does not exist holds none.
func snapshotWalk(root string, loc *time.Location, bound time.Time, back bool, yield func(snapshotFile) bool) error {
	var key [5]int
	if !bound.IsZero() {
		b := bound.In(loc)
		key = [5]int{b.Year(), int(b.Month()), b.Day(), b.Hour(), b.Minute()}
	}
	var vals [5]int
	var walk func(dir string, depth int, bounded bool) (bool, error)
	walk = func(dir string, depth int, bounded bool) (bool, error) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && depth > 0 {
				return true, nil // removed meanwhile (retention)
			}
			return false, err
		}
		type item struct {
			n    int
			name string
		}
		var items []item
		for _, e := range entries {
			name := e.Name()
			if depth == 4 {
				base := strings.TrimSuffix(name, archive.GzipSuffix)
				mm, ok := strings.CutSuffix(base, ".json")
				if n, good := archive.ParseNumber(mm, 2, 0, 99); ok && good && !e.IsDir() {
					items = append(items, item{n, base})
				}
				continue
			}
			if n, ok := archive.ParseDirName(name, depth); ok && e.IsDir() {
				items = append(items, item{n, name})
			}
		}
		slices.SortFunc(items, func(a, b item) int { return a.n - b.n })
		items = slices.CompactFunc(items, func(a, b item) bool { return a.n == b.n }) // MM.json and MM.json.gz
		if back {
			slices.Reverse(items)
		}
		for _, it := range items {
			if bounded && it.n > key[depth] {
				continue
			}
			vals[depth] = it.n
			path := filepath.Join(dir, it.name)
			if depth == 4 {
				m := time.Date(vals[0], time.Month(vals[1]), vals[2], vals[3], vals[4], 0, 0, loc)
				if !yield(snapshotFile{path, m}) {
					return false, nil
				}
				continue
			}
			more, err := walk(path, depth+1, bounded && it.n == key[depth])
			if err != nil || !more {
				return more, err
			}
		}
		return true, nil
	}
	_, err := walk(root, 0, !bound.IsZero())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// firstHour is the start of the oldest hour file under root, and whether
// there is one.
func firstHour(root string, loc *time.Location) (time.Time, bool, error) {
	return edgeHour(root, loc, false)
}

// lastHour is the start of the newest hour file under root, and whether
// there is one.
func lastHour(root string, loc *time.Location) (time.Time, bool, error) {
	return edgeHour(root, loc, true)
}

// edgeHour is the start of the oldest (or, if newest, the newest) hour
// file under root, and whether there is one.
func edgeHour(root string, loc *time.Location, newest bool) (time.Time, bool, error) {
	var vals [4]int
	var walk func(dir string, depth int) (bool, error)
	walk = func(dir string, depth int) (bool, error) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return false, nil
			}
			return false, err
		}
		if newest {
			slices.Reverse(entries)
		}
		for _, e := range entries { // in name order, which is time order
			name := e.Name()
			if depth == 3 {
				hh, ok := strings.CutSuffix(strings.TrimSuffix(name, archive.GzipSuffix), ".jsonl")
				if n, good := archive.ParseNumber(hh, 2, 0, 99); ok && good && !e.IsDir() {
					vals[3] = n
					return true, nil
				}
				continue
			}
			n, ok := archive.ParseDirName(name, depth)
			if !ok || !e.IsDir() {
				continue
			}
			vals[depth] = n
			if found, err := walk(filepath.Join(dir, name), depth+1); found || err != nil {
				return found, err
			}
		}
		return false, nil
	}
	found, err := walk(root, 0)
	if !found || err != nil {
		return time.Time{}, false, err
	}
	return time.Date(vals[0], time.Month(vals[1]), vals[2], vals[3], 0, 0, 0, loc), true, nil
}
