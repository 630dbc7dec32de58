package mirror_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// BenchmarkLoadNYCx40 is the initial sync over loopback TCP from the fake
// ospfd serving the NYC LSDB cloned 40 times (51,480 LSAs): dial, dump,
// decode, checksum, apply and build the graph view, until the database is
// loaded. Goal: at most 100 ms an op.
func BenchmarkLoadNYCx40(b *testing.B) {
	lsas, err := ospfapitest.Clone(ospfapitest.NYC(b), 40)
	if err != nil {
		b.Fatal(err)
	}
	srv := ospfapitest.Start(b, ospfapitest.Config{}, lsas)
	var rep mirror.SyncReport
	b.ReportAllocs()
	for b.Loop() {
		db := lsdb.New(lsdb.Config{})
		rep, err = mirror.Once(context.Background(), srv.Addr(), db)
		if err != nil {
			b.Fatal(err)
		}
	}
	if rep.Result.LSAs != len(lsas) {
		b.Fatalf("loaded %d LSAs, want %d", rep.Result.LSAs, len(lsas))
	}
	b.ReportMetric(float64(rep.Result.LSAs), "LSAs/op")
	b.ReportMetric(float64(rep.Dump.Duration.Microseconds())/1000, "dump-ms")
}

// BenchmarkLSAToEvent is the latency from ospfd sending an LSA update to
// its events coming out of the change feed, through loopback TCP, the
// mirror and the database (NYC LSDB). Goal: p99 at most 1 ms.
func BenchmarkLSAToEvent(b *testing.B) {
	srv := ospfapitest.Start(b, ospfapitest.Config{RouterID: r10}, ospfapitest.NYC(b))
	db := lsdb.New(lsdb.Config{})
	synced := make(chan struct{}, 1)
	m := mirror.New(mirror.Config{Server: srv.Addr(), DB: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnSynced: func(mirror.SyncReport) { synced <- struct{}{} }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m.Run(ctx) }()
	<-synced
	sub, err := db.Feed().Subscribe(db.Feed().LastSeq())
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	var buf []lsdb.Event
	metric := uint16(10)
	for b.Loop() {
		metric = 30 - metric // 10, 20, 10, ...
		start := time.Now()
		if err := srv.SetLinkMetric(backbone, r10, 0, metric); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < 2; {
			evs, err := sub.Read(ctx, buf[:0])
			if err != nil {
				b.Fatal(err)
			}
			got += len(evs)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkFRRStatic20k loads the LSDB of a real ospfd (Debian's FRR in
// the lab) that redistributes 20,000 static routes, and compares it with
// the floor: a client that only frames the dump's messages. Both are timed
// from dial to the end of the dump (ours: to the database loaded). Goal:
// within 1.5 times the floor. It needs root and FRR and is skipped without
// them (benchmarks do not run in CI).
func BenchmarkFRRStatic20k(b *testing.B) {
	if os.Getenv("CI") == "" && os.Geteuid() != 0 {
		b.Skip("needs root and FRR")
	}
	lab := frrlab.Start(b, frrlab.Options{Prefix: "bn", StaticRoutes: 20000})
	// ospfd listens in r4's namespace; sockets opened there stay there.
	const addr = "127.0.0.1:2607"
	var floor, ours []time.Duration
	var lsas int
	for b.Loop() {
		err := lab.InNamespace("r4", func() error {
			// The floor: connect and frame the dump's messages.
			start := time.Now()
			c, err := ospfapi.Dial(context.Background(), addr)
			if err != nil {
				return err
			}
			_ = c.Sync(context.Background(), ospfapi.Handlers{DumpDone: func(ospfapi.Dump) error { return context.Canceled }})
			floor = append(floor, time.Since(start))
			// Ours: connect, decode, check, apply, build the view.
			start = time.Now()
			rep, err := mirror.Once(context.Background(), addr, lsdb.New(lsdb.Config{}))
			if err != nil {
				return err
			}
			ours = append(ours, time.Since(start))
			lsas = rep.Result.LSAs
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(floor)
	slices.Sort(ours)
	f, o := floor[len(floor)/2], ours[len(ours)/2]
	b.ReportMetric(float64(lsas), "LSAs")
	b.ReportMetric(float64(f.Microseconds())/1000, "floor-ms")
	b.ReportMetric(float64(o.Microseconds())/1000, "sync-ms")
	b.ReportMetric(float64(o)/float64(f), "x-floor")
}
