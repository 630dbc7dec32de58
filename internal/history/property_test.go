package history

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/history/historytest"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// TestAtIsTheLiveState generates hours of churn on the NYC LSDB, archived
// as the stream archives it, records the live database's view at random
// times (exactly at a change, between changes, a millisecond before the
// next), and checks that the history's state at each of those times is
// that view. Snapshots are sparse early on (the replay spans up to 15
// minutes of events), at random minutes later, every minute at the end,
// and one in ten changes falls exactly on a snapshot's minute.
func TestAtIsTheLiveState(t *testing.T) {
	seeds, hours := uint64(2), 3
	if raceDetector {
		seeds, hours = 1, 2
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			cfg := historytest.Config{
				Events: filepath.Join(root, "events"), Snapshots: filepath.Join(root, "snapshots"),
				Duration: time.Duration(hours) * time.Hour, MeanGap: 10 * time.Second, Seed: seed,
			}
			start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
			cfg.Snapshot = func(m time.Time) bool {
				switch since := m.Sub(start); {
				case since < time.Hour:
					return m.Minute()%15 == 0
				case since < time.Duration(hours-1)*time.Hour:
					h := fnv.New32a()
					_, _ = h.Write([]byte(m.String()))
					return h.Sum32()%5 == 0
				}
				return true
			}
			type record struct {
				at   time.Time
				view *lsdb.View
			}
			var records []record
			rng := rand.New(rand.NewPCG(seed, 99))
			cfg.Observe = func(db *lsdb.DB, at, next time.Time) error {
				gap := next.Sub(at)
				switch rng.IntN(10) {
				case 0:
					records = append(records, record{at, db.View()})
				case 1:
					records = append(records, record{at.Add(time.Duration(rng.Int64N(int64(gap)))).Truncate(time.Millisecond), db.View()})
				case 2:
					records = append(records, record{next.Add(-time.Millisecond), db.View()})
				}
				return nil
			}
			st, err := historytest.Generate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if st.Events < 450*hours || len(records) < 50*hours {
				t.Fatalf("generated %+v and %d records: too little to test anything", st, len(records))
			}
			h, err := New(Config{EventsDir: cfg.Events, SnapshotsDir: cfg.Snapshots, Strict: true})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range records {
				got, rep, err := h.At(context.Background(), r.at)
				if err != nil {
					t.Fatalf("record %d, at %s: %v", i, r.at.Format(time.RFC3339Nano), err)
				}
				if d := stateDiff(t, r.view, got); d != "" {
					t.Fatalf("record %d: the state at %s (snapshot %s and %d events) is not the live one (-live +history):\n%s",
						i, r.at.Format(time.RFC3339Nano), rep.Base, rep.Events, d)
				}
				if rep.Unmatched != 0 || rep.Skipped != 0 || rep.OutOfOrder != 0 {
					t.Fatalf("record %d: %+v", i, rep)
				}
			}
			t.Logf("%d changes, %d events, %d snapshots; %d states compared", st.Changes, st.Events, st.Snapshots, len(records))
		})
	}
}
