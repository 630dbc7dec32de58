package lsdb_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// synthetic builds a mesh-like LSDB: routers with four point-to-point links
// and two stubs, one AS-external per router, a transit network per 100 routers.
func synthetic(tb testing.TB, routers int) [][]byte {
	tb.Helper()
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}) }
	var out [][]byte
	enc := func(l ospf.LSA) {
		l.Hdr().SeqNum = ospf.InitialSeqNum
		l.Hdr().Options = 2
		b, err := ospf.Marshal(l)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	for i := 0; i < routers; i++ {
		id := addr(i)
		r := &ospf.RouterLSA{Header: ospf.Header{Type: ospf.RouterLSAType, LSID: id, AdvRouter: id}}
		for _, d := range []int{-2, -1, 1, 2} {
			j := (i + d + routers) % routers
			r.Links = append(r.Links, ospf.RouterLink{ID: addr(j), Data: id, Type: ospf.LinkPointToPoint, Metric: uint16(10 + d*d)})
		}
		r.Links = append(r.Links,
			ospf.RouterLink{ID: netip.AddrFrom4([4]byte{172, byte(i >> 16), byte(i >> 8), byte(i)}), Data: netip.AddrFrom4([4]byte{255, 255, 255, 255}), Type: ospf.LinkStub},
			ospf.RouterLink{ID: netip.AddrFrom4([4]byte{100, byte(i >> 14), byte(i >> 6), byte(i << 2)}), Data: netip.AddrFrom4([4]byte{255, 255, 255, 252}), Type: ospf.LinkStub, Metric: 1},
		)
		if i%100 == 0 {
			n := i / 100
			dr := netip.AddrFrom4([4]byte{192, byte(n >> 8), byte(n), 1})
			r.Links = append(r.Links, ospf.RouterLink{ID: dr, Data: dr, Type: ospf.LinkTransit, Metric: 10})
			enc(&ospf.NetworkLSA{Header: ospf.Header{Type: ospf.NetworkLSAType, LSID: dr, AdvRouter: id},
				Mask: netip.AddrFrom4([4]byte{255, 255, 255, 0}), Attached: []netip.Addr{id}})
		}
		enc(r)
		enc(&ospf.ExternalLSA{Header: ospf.Header{Type: ospf.ASExternalLSAType, LSID: netip.AddrFrom4([4]byte{198, byte(i >> 8), byte(i), 0}), AdvRouter: id},
			Mask: netip.AddrFrom4([4]byte{255, 255, 255, 0}), Metric: 20, Type2: true, Forward: netip.IPv4Unspecified()})
	}
	return out
}

// BenchmarkDecodeApply measures a full dump through decode, the newer-
// instance check, the LSDB and the first build of the graph view.
func BenchmarkDecodeApply(b *testing.B) {
	lsas := synthetic(b, 25000) // 50,250 LSAs
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		db := lsdb.New(lsdb.Config{})
		db.BeginSync()
		for _, l := range lsas {
			if err := db.Update(area0, l, now); err != nil {
				b.Fatal(err)
			}
		}
		db.EndSync()
	}
	b.ReportMetric(float64(len(lsas))*float64(b.N)/b.Elapsed().Seconds(), "LSAs/s")
}

// BenchmarkLiveChange measures one live metric change, from the LSA's bytes
// to its events in the feed.
func BenchmarkLiveChange(b *testing.B) {
	lsas := synthetic(b, 25000)
	now := time.Now()
	db := lsdb.New(lsdb.Config{})
	db.BeginSync()
	for _, l := range lsas {
		if err := db.Update(area0, l, now); err != nil {
			b.Fatal(err)
		}
	}
	db.EndSync()
	id := netip.AddrFrom4([4]byte{10, 0, 0, 50})
	seq := ospf.InitialSeqNum + 1
	r := &ospf.RouterLSA{Header: ospf.Header{Type: ospf.RouterLSAType, LSID: id, AdvRouter: id, Options: 2}}
	r.Links = []ospf.RouterLink{{ID: netip.AddrFrom4([4]byte{10, 0, 0, 51}), Data: id, Type: ospf.LinkPointToPoint, Metric: 10}}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		r.SeqNum = seq
		seq++
		r.Links[0].Metric = uint16(10 + i%2)
		raw, err := ospf.AppendLSA(buf[:0], r)
		if err != nil {
			b.Fatal(err)
		}
		if err := db.Update(area0, raw, now); err != nil {
			b.Fatal(err)
		}
		if n := db.Commit(); n != 2 && i > 0 {
			b.Fatalf("commit published %d events, want 2", n)
		}
	}
}
