package historytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/archive"
)

// monthVersion names the generator's output: change it when Generate or
// MonthConfig changes, so that a cached month is made again.
const monthVersion = 2

// Days of the benchmarks' month, and how many of the last have a
// snapshot every minute (the others have one an hour, at minute 0).
const (
	MonthDays       = 30
	MinuteSnapDays  = 1
	monthMeanGap    = 45 * time.Second
	monthSeed       = 2023_04_29
	monthStatsFile  = "month.json"
	monthCacheInBin = "history-bench"
)

// Dirs are an archive's two directories.
type Dirs struct {
	Events, Snapshots string
}

// MonthArchive is a month of generated history, plain and compressed.
type MonthArchive struct {
	Plain, Gzip Dirs
	Start       time.Time
	Stats       Stats
	// Disk use: bytes allocated on disk (as du counts them) and bytes of
	// content, for the plain and the compressed archive.
	PlainDisk, PlainBytes, GzipDisk, GzipBytes int64
}

// MonthConfig is the month's history: the NYC LSDB, a change every 45 s
// on average (about 4,000 events a day: link flaps, metric changes,
// externals, router outages, stub networks, LAN members), minute
// snapshots on the last day and hourly ones before.
func MonthConfig(d Dirs) Config {
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	minutesFrom := start.AddDate(0, 0, MonthDays-MinuteSnapDays)
	return Config{
		Events: d.Events, Snapshots: d.Snapshots, Start: start, Duration: MonthDays * 24 * time.Hour,
		MeanGap: monthMeanGap, Seed: monthSeed,
		Snapshot: func(m time.Time) bool { return !m.Before(minutesFrom) || m.Minute() == 0 },
	}
}

// CacheDir is where Month keeps the month: bin/history-bench under the
// repository (bin/ is not committed).
func CacheDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "bin", monthCacheInBin)
}

// Month returns the month under dir, generating it (about a minute, and
// about 1.2 GB) and its compressed copy (archive.Janitor) the first time.
func Month(dir string) (*MonthArchive, error) {
	// Benchmarks of several packages run at once: one generates, the
	// others wait for it.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	root := filepath.Join(dir, "v"+strconv.Itoa(monthVersion))
	m := &MonthArchive{
		Plain: Dirs{filepath.Join(root, "plain", "events"), filepath.Join(root, "plain", "snapshots")},
		Gzip:  Dirs{filepath.Join(root, "gzip", "events"), filepath.Join(root, "gzip", "snapshots")},
	}
	if data, err := os.ReadFile(filepath.Join(root, monthStatsFile)); err == nil {
		if err := json.Unmarshal(data, m); err == nil {
			return m, nil
		}
	}
	if err := os.RemoveAll(root); err != nil {
		return nil, err
	}
	cfg := MonthConfig(m.Plain)
	st, err := Generate(cfg)
	if err != nil {
		return nil, fmt.Errorf("generate the month: %w", err)
	}
	m.Start, m.Stats = cfg.Start, st
	for _, d := range [][2]string{{m.Plain.Events, m.Gzip.Events}, {m.Plain.Snapshots, m.Gzip.Snapshots}} {
		if err := copyTree(d[0], d[1]); err != nil {
			return nil, err
		}
	}
	j, err := archive.NewJanitor(archive.JanitorConfig{EventsDir: m.Gzip.Events, SnapshotsDir: m.Gzip.Snapshots, Compress: true,
		Now: func() time.Time { return st.End.Add(archive.HourSettle + time.Hour) }})
	if err != nil {
		return nil, err
	}
	if err := j.Pass(); err != nil {
		return nil, fmt.Errorf("compress the month: %w", err)
	}
	if m.PlainDisk, m.PlainBytes, err = diskUse(filepath.Join(root, "plain")); err != nil {
		return nil, err
	}
	if m.GzipDisk, m.GzipBytes, err = diskUse(filepath.Join(root, "gzip")); err != nil {
		return nil, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return m, archive.WriteFileAtomic(archive.OSFS{}, filepath.Join(root, monthStatsFile), data)
}

// copyTree copies the files under from to the same names under to.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(dst)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		return errors.Join(err, out.Close())
	})
}

// diskUse is what the files under root take on disk (allocated blocks)
// and hold (their sizes).
func diskUse(root string) (disk, size int64, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			disk += st.Blocks * 512
		} else {
			disk += info.Size()
		}
		return nil
	})
	return disk, size, err
}
