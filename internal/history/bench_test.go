package history

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/history/historytest"
)

// BenchmarkMonth asks a month of generated NYC history (historytest.Month:
// about 4,500 events a day, minute snapshots on the last day, hourly ones
// before; generated once into bin/history-bench, about a minute and a
// half) for states and events, plain and compressed. at-worst is a time
// a millisecond before an hourly snapshot (the longest replay: an hour
// of events), at-random any time of the month, day-events a day's events
// and day-diff its net change. Each reports the archive's disk use
// (disk-MB, allocated blocks). Goals (whole command: cmd's
// BenchmarkHistoryCommandMonth): a state in at most 300 ms, a day's events
// in at most 1 s.
func BenchmarkMonth(b *testing.B) {
	m, err := historytest.Month(historytest.CacheDir())
	if err != nil {
		b.Fatal(err)
	}
	worst := m.Start.AddDate(0, 0, historytest.MonthDays-historytest.MinuteSnapDays).Add(-time.Millisecond)
	day := m.Start.AddDate(0, 0, 14)
	ctx := context.Background()
	for _, kind := range []struct {
		name string
		dirs historytest.Dirs
		disk int64
	}{{"plain", m.Plain, m.PlainDisk}, {"gzip", m.Gzip, m.GzipDisk}} {
		h, err := New(Config{EventsDir: kind.dirs.Events, SnapshotsDir: kind.dirs.Snapshots, Strict: true})
		if err != nil {
			b.Fatal(err)
		}
		disk := func(b *testing.B) { b.ReportMetric(float64(kind.disk)/1e6, "disk-MB") }
		state := func(b *testing.B, at time.Time) {
			v, _, err := h.At(ctx, at)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(io.Discard)
			if err := v.Snapshot().WriteJSON(w); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(kind.name+"/at-worst", func(b *testing.B) {
			for b.Loop() {
				state(b, worst)
			}
			disk(b)
		})
		b.Run(kind.name+"/at-random", func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			span := int64(m.Stats.End.Sub(m.Start))
			for b.Loop() {
				state(b, m.Start.Add(time.Duration(rng.Int64N(span))))
			}
			disk(b)
		})
		b.Run(kind.name+"/day-events", func(b *testing.B) {
			var n int
			for b.Loop() {
				w := bufio.NewWriter(io.Discard)
				rep, err := h.Events(ctx, day, day.Add(24*time.Hour), func(line []byte) error {
					_, err := w.Write(line)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				n = rep.Events
			}
			b.ReportMetric(float64(n), "events")
			disk(b)
		})
		b.Run(kind.name+"/day-diff", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := h.Diff(ctx, day, day.Add(24*time.Hour)); err != nil {
					b.Fatal(err)
				}
			}
			disk(b)
		})
	}
}
