package controller

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// nycSnapshotPath is the real LSDB fixture of the repository.
var nycSnapshotPath = filepath.Join("..", "..", "testdata", "nycmesh-lsdb-2023-04-29.json")

var t0 = time.Date(2026, 4, 29, 12, 0, 0, 0, time.UTC)

// parseSnapshot parses a topology written in the snapshot format.
func parseSnapshot(t testing.TB, js string) *lsdb.Snapshot {
	t.Helper()
	s, err := lsdb.ParseSnapshot([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// viewOf loads lsas into a new database as one dump and returns its view.
func viewOf(t testing.TB, lsas ...ospfapitest.AreaLSA) *lsdb.View {
	t.Helper()
	db := lsdb.New(lsdb.Config{Now: func() time.Time { return t0 }})
	if err := ospfapitest.LoadDB(db, lsas, t0); err != nil {
		t.Fatal(err)
	}
	return db.View()
}

// viewFromSnapshot encodes a topology written in the snapshot format as the
// LSAs of a database (ospfapitest.FromSnapshot: flag B on routers in two
// areas or with summaries, E on routers with externals) and returns the
// view of a database loaded with them.
func viewFromSnapshot(t testing.TB, js string) *lsdb.View {
	t.Helper()
	lsas, err := ospfapitest.FromSnapshot(parseSnapshot(t, js), ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return viewOf(t, lsas...)
}

func loadNYC(t testing.TB) *lsdb.View {
	t.Helper()
	lsas, err := ospfapitest.LoadSnapshotFile(nycSnapshotPath, ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return viewOf(t, lsas...)
}

// LSAs for tests, built with package ospf.

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func hdr(typ ospf.LSType, lsid, adv string) ospf.Header {
	return ospf.Header{Type: typ, LSID: addr(lsid), AdvRouter: addr(adv), Options: 0x02, SeqNum: ospf.InitialSeqNum}
}

// in puts an LSA in an area.
func in(area string, l ospf.LSA) ospfapitest.AreaLSA {
	return ospfapitest.AreaLSA{Area: addr(area), LSA: l}
}

// rtr is a Router-LSA of id with flag bits (ospf.RouterFlagB, ...).
func rtr(id string, flags uint8, links ...ospf.RouterLink) *ospf.RouterLSA {
	return &ospf.RouterLSA{Header: hdr(ospf.RouterLSAType, id, id), Flags: flags, Links: links}
}

func p2p(to, ifAddr string, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: addr(to), Data: addr(ifAddr), Type: ospf.LinkPointToPoint, Metric: metric}
}

func vlink(to, ifAddr string, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: addr(to), Data: addr(ifAddr), Type: ospf.LinkVirtual, Metric: metric}
}

func transit(drIf, ifAddr string, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: addr(drIf), Data: addr(ifAddr), Type: ospf.LinkTransit, Metric: metric}
}

func stub(prefix string, metric uint16) ospf.RouterLink {
	p := netip.MustParsePrefix(prefix)
	return ospf.RouterLink{ID: p.Addr(), Data: mask(p.Bits()), Type: ospf.LinkStub, Metric: metric}
}

func mask(bits int) netip.Addr {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

// network is the Network-LSA of DR dr, whose interface address is drIf.
func network(drIf, dr string, bits int, attached ...string) *ospf.NetworkLSA {
	n := &ospf.NetworkLSA{Header: hdr(ospf.NetworkLSAType, drIf, dr), Mask: mask(bits)}
	for _, a := range attached {
		n.Attached = append(n.Attached, addr(a))
	}
	return n
}

func summary(adv, prefix string, metric uint32) *ospf.SummaryLSA {
	p := netip.MustParsePrefix(prefix)
	return &ospf.SummaryLSA{Header: hdr(ospf.SummaryLSAType, p.Addr().String(), adv), Mask: mask(p.Bits()), Metric: metric}
}

// route is an AS-external LSA, or with typ ospf.NSSAExternalLSAType an NSSA
// LSA; fwd "" for none.
func route(typ ospf.LSType, adv, prefix string, metric uint32, type2 bool, fwd string, tag uint32) *ospf.ExternalLSA {
	p := netip.MustParsePrefix(prefix)
	x := &ospf.ExternalLSA{Header: hdr(typ, p.Addr().String(), adv), Mask: mask(p.Bits()),
		Metric: metric, Type2: type2, Forward: netip.IPv4Unspecified(), Tag: tag}
	if fwd != "" {
		x.Forward = addr(fwd)
	}
	return x
}

// spfTopology has, in the backbone, a two-way chain 1 -10- 2 -5- 3, a link
// from 1 to 4 that 4 does not report back, a transit network 10.0.0.0/24
// joining 3 and 5 (and naming 6, which has no link to it), parallel links
// 2 - 9 of metric 8 and 3; in area 1, ABR 5 with a two-way link to 7; and
// 2's ASBR-summary route to 8, which is in no area of the root.
const spfTopology = `{"areas": {
  "0.0.0.0": {
    "routers": {
      "10.0.0.1": {"links": {"router": [{"id": "10.0.0.2", "metric": 10}, {"id": "10.0.0.4", "metric": 1}]}},
      "10.0.0.2": {"links": {"router": [{"id": "10.0.0.1", "metric": 10}, {"id": "10.0.0.3", "metric": 5},
                                        {"id": "10.0.0.9", "metric": 8}, {"id": "10.0.0.9", "metric": 3}],
                             "xrouter": [{"id": "10.0.0.8", "metric": 7}]}},
      "10.0.0.3": {"links": {"router": [{"id": "10.0.0.2", "metric": 5}], "network": [{"id": "10.0.0.0/24", "metric": 1}]}},
      "10.0.0.4": {"links": {"stubnet": [{"id": "10.4.0.0/24", "metric": 1}]}},
      "10.0.0.5": {"links": {"network": [{"id": "10.0.0.0/24", "metric": 2}]}},
      "10.0.0.6": {"links": {"stubnet": [{"id": "10.6.0.0/24", "metric": 1}]}},
      "10.0.0.9": {"links": {"router": [{"id": "10.0.0.2", "metric": 8}]}}
    },
    "networks": {"10.0.0.0/24": {"dr": "10.0.0.3", "routers": ["10.0.0.3", "10.0.0.5", "10.0.0.6"]}}
  },
  "0.0.0.1": {
    "routers": {
      "10.0.0.5": {"links": {"router": [{"id": "10.0.0.7", "metric": 3}]}},
      "10.0.0.7": {"links": {"router": [{"id": "10.0.0.5", "metric": 4}]}}
    },
    "networks": {}
  }
}}`

func TestShortestPaths(t *testing.T) {
	v := viewFromSnapshot(t, spfTopology)
	a := netip.MustParseAddr
	tests := []struct {
		name string
		root netip.Addr
		want map[netip.Addr]int64
	}{
		{
			name: "from the end of the chain",
			root: a("10.0.0.1"),
			want: map[netip.Addr]int64{
				a("10.0.0.1"): 0,
				a("10.0.0.2"): 10,
				a("10.0.0.3"): 15, // 10 + 5
				a("10.0.0.9"): 13, // the cheaper of the parallel links
				a("10.0.0.5"): 16, // 15 + 1 to the network, 0 from it
				a("10.0.0.7"): 19, // through ABR 5 into area 1
				a("10.0.0.8"): 17, // 2's ASBR-summary route
				// 4: its link back is missing; 6: no link to the network.
			},
		},
		{
			name: "from inside area 1",
			root: a("10.0.0.7"),
			want: map[netip.Addr]int64{
				a("10.0.0.7"): 0,
				a("10.0.0.5"): 4,
				a("10.0.0.3"): 6, // 4 + 2 to the network
				a("10.0.0.2"): 11,
				a("10.0.0.9"): 14,
				a("10.0.0.1"): 21,
				a("10.0.0.8"): 18,
			},
		},
		{
			name: "from a router with no two-way link",
			root: a("10.0.0.4"),
			want: map[netip.Addr]int64{a("10.0.0.4"): 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := ShortestPaths(v, tt.root)
			if !known {
				t.Fatalf("ShortestPaths(%s): root not known", tt.root)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ShortestPaths(%s) (-want +got):\n%s", tt.root, diff)
			}
		})
	}
}

func TestShortestPathsUnknownRoot(t *testing.T) {
	v := viewFromSnapshot(t, spfTopology)
	for _, root := range []netip.Addr{{}, netip.MustParseAddr("192.0.2.1")} {
		if got, known := ShortestPaths(v, root); known || got != nil {
			t.Errorf("ShortestPaths(%v) = %v, %v; want nil, false", root, got, known)
		}
	}
	if _, known := ShortestPaths(nil, netip.MustParseAddr("10.0.0.1")); known {
		t.Error("ShortestPaths(nil view) knows the root")
	}
}

// A virtual link is a router link of the backbone: used when both ends
// report it, as any other.
func TestShortestPathsVirtualLink(t *testing.T) {
	lsas := func(back bool) []ospfapitest.AreaLSA {
		r5 := rtr("10.0.0.5", ospf.RouterFlagB)
		if back {
			r5.Links = []ospf.RouterLink{vlink("10.0.0.3", "10.1.35.2", 20)}
		}
		return []ospfapitest.AreaLSA{
			in("0.0.0.0", rtr("10.0.0.1", 0, p2p("10.0.0.3", "10.1.13.1", 1))),
			in("0.0.0.0", rtr("10.0.0.3", ospf.RouterFlagB, p2p("10.0.0.1", "10.1.13.3", 1), vlink("10.0.0.5", "10.1.35.1", 20))),
			in("0.0.0.0", r5),
		}
	}
	a := netip.MustParseAddr
	got, _ := ShortestPaths(viewOf(t, lsas(true)...), a("10.0.0.1"))
	if diff := cmp.Diff(map[netip.Addr]int64{a("10.0.0.1"): 0, a("10.0.0.3"): 1, a("10.0.0.5"): 21}, got); diff != "" {
		t.Errorf("both ends report the virtual link (-want +got):\n%s", diff)
	}
	got, _ = ShortestPaths(viewOf(t, lsas(false)...), a("10.0.0.1"))
	if diff := cmp.Diff(map[netip.Addr]int64{a("10.0.0.1"): 0, a("10.0.0.3"): 1}, got); diff != "" {
		t.Errorf("one end reports the virtual link (-want +got):\n%s", diff)
	}
}

// On the real NYC LSDB every router that has a two-way path from the
// root is reached, and the costs satisfy the triangle inequality along
// every two-way router link.
func TestShortestPathsNYC(t *testing.T) {
	v := loadNYC(t)
	root := netip.MustParseAddr("10.69.2.27")
	costs, known := ShortestPaths(v, root)
	if !known {
		t.Fatal("root not known")
	}
	if costs[root] != 0 {
		t.Errorf("cost of the root = %d, want 0", costs[root])
	}
	a := v.Area(netip.IPv4Unspecified())
	if len(costs) < len(a.Routers)/2 {
		t.Errorf("reached %d of %d routers", len(costs), len(a.Routers))
	}
	for i := range a.Routers {
		r := &a.Routers[i]
		cf, ok := costs[r.ID]
		if !ok {
			continue
		}
		for _, l := range r.Links {
			if l.Kind != lsdb.KindRouter {
				continue
			}
			to := l.ID().Addr()
			if nb := a.Router(to); nb == nil || !linksBack(nb, r.ID) {
				continue
			}
			ct, ok := costs[to]
			if !ok {
				t.Errorf("%s is reached but its two-way neighbour %s is not", r.ID, to)
				continue
			}
			if ct > cf+int64(l.Metric) {
				t.Errorf("cost(%s) = %d > cost(%s) + %d = %d", to, ct, r.ID, l.Metric, cf+int64(l.Metric))
			}
		}
	}
}

func BenchmarkShortestPathsNYC(b *testing.B) {
	v := loadNYC(b)
	root := netip.MustParseAddr("10.69.2.27")
	for b.Loop() {
		ShortestPaths(v, root)
	}
}

// linksBack reports whether r has a router link to id.
func linksBack(r *lsdb.RouterView, id netip.Addr) bool {
	for _, l := range r.Links {
		if l.Kind == lsdb.KindRouter && l.ID().Addr() == id {
			return true
		}
	}
	return false
}
