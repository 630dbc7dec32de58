package lsdb_test

import (
	"io"
	"net/netip"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// nycx40 is a database loaded with the NYC LSDB cloned 40 times (51,480 LSAs).
func nycx40(b *testing.B) *lsdb.DB {
	b.Helper()
	return ospfapitest.NYCDB(b, 40)
}

// BenchmarkSnapshotNYCx40 is the snapshot of the NYC LSDB × 40 (23,680
// routers), taken from the view and written as JSON (take, write), and
// the view written straight as the same JSON (direct: the part of the
// snapshot command after the load).
func BenchmarkSnapshotNYCx40(b *testing.B) {
	db := nycx40(b)
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := db.View().WriteSnapshotJSON(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("take", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			db.Snapshot()
		}
	})
	b.Run("write", func(b *testing.B) {
		s, _ := db.Snapshot()
		b.ReportAllocs()
		for b.Loop() {
			if err := s.WriteJSON(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMissingRoutersNYCx40 is the check for Router-LSAs that ospfd
// did not deliver, run after every load and, while changes flow, at most
// every --missing-check-interval; it holds the database's lock.
func BenchmarkMissingRoutersNYCx40(b *testing.B) {
	db := nycx40(b)
	b.ReportAllocs()
	for b.Loop() {
		if m := db.MissingRouters(netip.Addr{}); len(m) != 0 {
			b.Fatalf("%d missing routers in a complete LSDB", len(m))
		}
	}
}

// BenchmarkParseSnapshotNYCx40 reads back the snapshot of the NYC LSDB ×
// 40 as written (what the seed's tools and the archive hand in).
func BenchmarkParseSnapshotNYCx40(b *testing.B) {
	s, _ := nycx40(b).Snapshot()
	doc := s.AppendJSON(nil)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := lsdb.ParseSnapshot(doc); err != nil {
			b.Fatal(err)
		}
	}
}
