package topo_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

var (
	area0 = netip.MustParseAddr("0.0.0.0")
	area1 = netip.MustParseAddr("0.0.0.1")
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func maskOf(bits int) netip.Addr {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return netip.AddrFrom4([4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)})
}

func hdr(t ospf.LSType, id, adv string) ospf.Header {
	return ospf.Header{Type: t, LSID: ip(id), AdvRouter: ip(adv), Options: 0x02, SeqNum: ospf.InitialSeqNum}
}

func p2p(to string, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: ip(to), Data: ip("192.0.2.1"), Type: ospf.LinkPointToPoint, Metric: metric}
}

func stub(prefix string, metric uint16) ospf.RouterLink {
	p := netip.MustParsePrefix(prefix)
	return ospf.RouterLink{ID: p.Addr(), Data: maskOf(p.Bits()), Type: ospf.LinkStub, Metric: metric}
}

func transit(dr, self string, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: ip(dr), Data: ip(self), Type: ospf.LinkTransit, Metric: metric}
}

func router(area netip.Addr, id string, flags uint8, links ...ospf.RouterLink) ospfapitest.AreaLSA {
	return ospfapitest.AreaLSA{Area: area, LSA: &ospf.RouterLSA{Header: hdr(ospf.RouterLSAType, id, id), Flags: flags, Links: links}}
}

func network(area netip.Addr, drIf, dr string, bits int, attached ...string) ospfapitest.AreaLSA {
	n := &ospf.NetworkLSA{Header: hdr(ospf.NetworkLSAType, drIf, dr), Mask: maskOf(bits)}
	for _, a := range attached {
		n.Attached = append(n.Attached, ip(a))
	}
	return ospfapitest.AreaLSA{Area: area, LSA: n}
}

func summary(area netip.Addr, abr, prefix string, metric uint32) ospfapitest.AreaLSA {
	p := netip.MustParsePrefix(prefix)
	return ospfapitest.AreaLSA{Area: area, LSA: &ospf.SummaryLSA{Header: hdr(ospf.SummaryLSAType, p.Addr().String(), abr), Mask: maskOf(p.Bits()), Metric: metric}}
}

func external(adv, prefix string, metric uint32, type2 bool) ospfapitest.AreaLSA {
	p := netip.MustParsePrefix(prefix)
	return ospfapitest.AreaLSA{Area: area0, LSA: &ospf.ExternalLSA{Header: hdr(ospf.ASExternalLSAType, p.Addr().String(), adv),
		Mask: maskOf(p.Bits()), Metric: metric, Type2: type2, Forward: ip("0.0.0.0")}}
}

func viewOf(t testing.TB, lsas ...ospfapitest.AreaLSA) *lsdb.View {
	t.Helper()
	db := lsdb.New(lsdb.Config{})
	if err := ospfapitest.LoadDB(db, lsas, time.Now()); err != nil {
		t.Fatal(err)
	}
	return db.View()
}

// lab is a small two-area network with asymmetric costs, two equal-cost
// paths, a LAN, an ABR, and two ASBRs:
//
//	r1 --10/30-- r2 --10-- r4 (ABR) --5-- r5 (area 1, 10.5.0.0/24)
//	 \                    /
//	  --10-- r3 --10-----
//	 r2, r3, r6 on LAN 10.9.0.0/24 (DR r6, cost 1 each way)
func lab(t testing.TB) *lsdb.View {
	return viewOf(t, append(labBackbone(),
		router(area1, "10.0.0.4", ospf.RouterFlagB, p2p("10.0.0.5", 5)),
		router(area1, "10.0.0.5", 0, p2p("10.0.0.4", 5), stub("10.5.0.0/24", 2)),
		summary(area0, "10.0.0.4", "10.5.0.0/24", 7),
		external("10.0.0.2", "198.51.100.0/24", 100, true),
		external("10.0.0.6", "198.51.100.0/24", 100, true),
		external("10.0.0.6", "203.0.113.0/24", 50, false),
	)...)
}

// labBackbone is the lab's area 0: its routers and the LAN.
func labBackbone() []ospfapitest.AreaLSA {
	return []ospfapitest.AreaLSA{
		router(area0, "10.0.0.1", 0, p2p("10.0.0.2", 10), p2p("10.0.0.3", 10)),
		router(area0, "10.0.0.2", ospf.RouterFlagE, p2p("10.0.0.1", 30), p2p("10.0.0.4", 10), transit("10.9.0.6", "10.9.0.2", 1)),
		router(area0, "10.0.0.3", 0, p2p("10.0.0.1", 10), p2p("10.0.0.4", 10), transit("10.9.0.6", "10.9.0.3", 1)),
		router(area0, "10.0.0.4", ospf.RouterFlagB, p2p("10.0.0.2", 10), p2p("10.0.0.3", 10)),
		router(area0, "10.0.0.6", ospf.RouterFlagE, transit("10.9.0.6", "10.9.0.6", 1)),
		network(area0, "10.9.0.6", "10.0.0.6", 24, "10.0.0.6", "10.0.0.2", "10.0.0.3"),
	}
}

func hopIDs(p []topo.Hop) []string {
	var s []string
	for _, h := range p {
		s = append(s, h.ID)
	}
	return s
}

func pathSet(ps [][]topo.Hop) []string {
	var out []string
	for _, p := range ps {
		out = append(out, fmt.Sprint(hopIDs(p)))
	}
	slices.Sort(out)
	return out
}

func TestPathBothWaysWithEqualCostAlternatives(t *testing.T) {
	g := topo.Build(lab(t))
	ans, err := g.Path("10.0.0.1", "10.0.0.4")
	if err != nil {
		t.Fatal(err)
	}
	if !ans.Reachable || ans.Cost != 20 {
		t.Fatalf("cost %d reachable %v, want 20", ans.Cost, ans.Reachable)
	}
	want := []string{"[10.0.0.1 10.0.0.2 10.0.0.4]", "[10.0.0.1 10.0.0.3 10.0.0.4]"}
	if got := pathSet(ans.Paths); !slices.Equal(got, want) {
		t.Fatalf("paths %v, want %v", got, want)
	}
	for _, p := range ans.Paths {
		if p[0].Cost != 0 || p[1].Cost != 10 || p[2].Cost != 10 || p[1].Area != "0.0.0.0" {
			t.Errorf("hop costs of %v", p)
		}
	}
	// Back from r4: r2 -> r1 costs 30, so only the path through r3 is best.
	if ans.Reverse == nil || ans.Reverse.Cost != 20 || ans.Reverse.From != "10.0.0.4" {
		t.Fatalf("reverse %+v", ans.Reverse)
	}
	if got := pathSet(ans.Reverse.Paths); !slices.Equal(got, []string{"[10.0.0.4 10.0.0.3 10.0.0.1]"}) {
		t.Fatalf("reverse paths %v", got)
	}

	// Asymmetric: r1 -> r2 is 10, r2 -> r1 the cheapest is 30 direct or
	// r2 -> LAN -> r3 -> r1 = 1+0+10 = 11.
	ans, err = g.Path("10.0.0.1", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	if ans.Cost != 10 || ans.Reverse.Cost != 11 {
		t.Fatalf("costs %d and back %d, want 10 and 11", ans.Cost, ans.Reverse.Cost)
	}
	if got := pathSet(ans.Reverse.Paths); !slices.Equal(got, []string{"[10.0.0.2 10.9.0.0/24 10.0.0.3 10.0.0.1]"}) {
		t.Fatalf("reverse paths %v", got)
	}
}

func TestPathToPrefixes(t *testing.T) {
	g := topo.Build(lab(t))
	for _, c := range []struct {
		to, class string
		cost      int64
		last      []string // the hop before the prefix, over all paths
	}{
		// the stub in area 1 from area 0: through the ABR, inter-area
		{"10.5.0.0/24", "inter-area", 27, []string{"10.0.0.4"}},
		// an address inside it names it
		{"10.5.0.77", "inter-area", 27, []string{"10.0.0.4"}},
		// the LAN: r1 -> r3 -> LAN (10+1), intra-area
		{"10.9.0.0/24", "intra-area", 11, []string{"10.0.0.2", "10.0.0.3"}},
		// type 1 external from r6: 10 + 1 + 0 + 1... r1->r3 10, r3->LAN 1, LAN->r6 0 = 11, +50
		{"203.0.113.0/24", "external-1", 61, []string{"10.0.0.6"}},
		// type 2 from r2 (cost 10) and r6 (cost 11): the same metric, the nearer ASBR
		{"198.51.100.0/24", "external-2", 100, []string{"10.0.0.2"}},
	} {
		ans, err := g.Path("10.0.0.1", c.to)
		if err != nil {
			t.Fatalf("%s: %v", c.to, err)
		}
		if !ans.Reachable || ans.Cost != c.cost || ans.Class != c.class || ans.Reverse != nil {
			t.Errorf("%s: cost %d class %q reachable %v reverse %v, want %d %q", c.to, ans.Cost, ans.Class, ans.Reachable, ans.Reverse, c.cost, c.class)
			continue
		}
		var last []string
		for _, p := range ans.Paths {
			if end := p[len(p)-1]; end.ID != netip.MustParsePrefix(ans.To).String() || end.Type != "prefix" && end.Type != "network" {
				t.Errorf("%s: path %v does not end at the prefix", c.to, hopIDs(p))
			}
			last = append(last, p[len(p)-2].ID)
		}
		if slices.Sort(last); !slices.Equal(slices.Compact(last), c.last) {
			t.Errorf("%s: paths %v, want them through %v", c.to, pathSet(ans.Paths), c.last)
		}
	}
	ans, _ := g.Path("10.0.0.1", "198.51.100.0/24")
	if ans.ASBRCost == nil || *ans.ASBRCost != 10 {
		t.Errorf("type 2 route: ASBR cost %v, want 10", ans.ASBRCost)
	}
	for _, bad := range []string{"192.0.2.0/24", "nonsense", "10.0.0.99/32"} {
		if _, err := g.Path("10.0.0.1", bad); err == nil {
			t.Errorf("path to %q: no error", bad)
		}
	}
	if _, err := g.Path("10.0.0.99", "10.0.0.1"); err == nil {
		t.Error("path from a router not in the LSDB: no error")
	}
}

func TestWhatIf(t *testing.T) {
	g := topo.Build(lab(t))
	// r4 is the only way into area 1.
	w, err := g.WhatIf("10.0.0.1", "10.0.0.4")
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Unreachable) != 1 || w.Unreachable[0].Router != "10.0.0.5" || w.Unreachable[0].Before != 25 {
		t.Fatalf("unreachable %+v", w.Unreachable)
	}
	if len(w.Changed) != 0 {
		t.Fatalf("changed %+v", w.Changed)
	}
	// r1-r3 fails: r3 is then reached through r2 and the LAN (10+1+0=11),
	// r6 through r2 and the LAN (11); r4 still through r2 at 20.
	w, err = g.WhatIf("10.0.0.1", "10.0.0.1-10.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]int64{}
	for _, c := range w.Changed {
		got[c.Router] = [2]int64{c.Before, *c.After}
	}
	want := map[string][2]int64{"10.0.0.3": {10, 11}}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(w.Unreachable) != 0 {
		t.Fatalf("changed %v unreachable %v, want %v", got, w.Unreachable, want)
	}
	// A router's link to a LAN.
	w, err = g.WhatIf("10.0.0.1", "10.0.0.3-10.9.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Changed {
		if c.Router == "10.0.0.6" && (c.Before != 11 || *c.After != 11) {
			t.Errorf("r6 %+v", c)
		}
	}
	for _, bad := range []string{"10.0.0.1", "10.0.0.1-10.0.0.6", "10.0.0.99", "x-y"} {
		if _, err := g.WhatIf("10.0.0.1", bad); err == nil {
			t.Errorf("what-if %q: no error", bad)
		}
	}
}

// TestShortestPathsAgreeWithBellmanFord checks Dijkstra's distances on the
// NYC LSDB against a plain Bellman-Ford over the same edges, and every path
// it lists against the edges and the total cost.
func TestShortestPathsAgreeWithBellmanFord(t *testing.T) {
	g := topo.Build(nycView(t, 1))
	root, ok := g.Router(ip("10.69.7.31"))
	if !ok {
		t.Fatal("10.69.7.31 not in the NYC LSDB")
	}
	tree := g.SPF(root, false, topo.NoFailure)
	dist := make([]int64, len(g.Vertices))
	for i := range dist {
		dist[i] = topo.Unreachable
	}
	dist[root] = 0
	for changed := true; changed; {
		changed = false
		for u := range g.Out {
			if dist[u] == topo.Unreachable {
				continue
			}
			for _, e := range g.Out[u] {
				if d := dist[u] + int64(e.Cost); dist[e.To] == topo.Unreachable || d < dist[e.To] {
					dist[e.To], changed = d, true
				}
			}
		}
	}
	if !slices.Equal(tree.Dist, dist) {
		t.Fatal("Dijkstra and Bellman-Ford disagree")
	}
	reached := 0
	for v := range g.Vertices {
		for _, p := range tree.Paths(int32(v), 4) {
			total := int64(0)
			for i := 1; i < len(p); i++ {
				c, ok := g.Cost(p[i-1], p[i])
				if !ok {
					t.Fatalf("path %v uses a missing edge", p)
				}
				total += int64(c)
			}
			if total != dist[v] {
				t.Fatalf("path %v costs %d, want %d", p, total, dist[v])
			}
			reached++
		}
	}
	if reached < 500 {
		t.Fatalf("only %d paths in the NYC LSDB", reached)
	}
}

func nycView(tb testing.TB, copies int) *lsdb.View {
	tb.Helper()
	lsas := ospfapitest.NYC(tb)
	if copies > 1 {
		var err error
		if lsas, err = ospfapitest.Clone(lsas, copies); err != nil {
			tb.Fatal(err)
		}
	}
	db := lsdb.New(lsdb.Config{})
	if err := ospfapitest.LoadDB(db, lsas, time.Now()); err != nil {
		tb.Fatal(err)
	}
	return db.View()
}

// A router reached at the same cost over a point-to-point link and over a
// LAN has both paths, though Dijkstra's algorithm settles it (a lower
// vertex number) before the LAN; parallel links of one cost are one path.
func TestEqualCostPathsThroughALANAndParallelLinks(t *testing.T) {
	twin := func(to string, metric uint16) ospf.RouterLink {
		l := p2p(to, metric)
		l.Data = ip("192.0.2.2")
		return l
	}
	g := topo.Build(viewOf(t,
		router(area0, "10.0.0.1", 0, p2p("10.0.0.2", 10), transit("10.9.0.1", "10.9.0.1", 10), p2p("10.0.0.3", 5), twin("10.0.0.3", 5)),
		router(area0, "10.0.0.2", 0, p2p("10.0.0.1", 10), transit("10.9.0.1", "10.9.0.2", 10)),
		router(area0, "10.0.0.3", 0, p2p("10.0.0.1", 5), twin("10.0.0.1", 5)),
		network(area0, "10.9.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"),
	))
	ans, err := g.Path("10.0.0.1", "10.0.0.2")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"[10.0.0.1 10.0.0.2]", "[10.0.0.1 10.9.0.0/24 10.0.0.2]"}
	if got := pathSet(ans.Paths); ans.Cost != 10 || !slices.Equal(got, want) {
		t.Errorf("r1 -> r2: cost %d, paths %v, want 10 over %v", ans.Cost, got, want)
	}
	if got := pathSet(ans.Reverse.Paths); !slices.Equal(got, []string{"[10.0.0.2 10.0.0.1]", "[10.0.0.2 10.9.0.0/24 10.0.0.1]"}) {
		t.Errorf("r2 -> r1: paths %v", got)
	}
	ans, err = g.Path("10.0.0.1", "10.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	if got := pathSet(ans.Paths); !slices.Equal(got, []string{"[10.0.0.1 10.0.0.3]"}) {
		t.Errorf("r1 -> r3 over two parallel links: paths %v, want one", got)
	}
}

// An ABR's ASBR-summary leads to an ASBR whose own links the LSDB lacks
// (an agent in another area), but adds no shortcut beside the links of an
// ASBR whose Router-LSA is there: a path goes the way packets go.
func TestASBRSummaryOnlyForASBRsWithoutTheirLinks(t *testing.T) {
	asbrSummary := func(area netip.Addr, abr, asbr string, metric uint32) ospfapitest.AreaLSA {
		return ospfapitest.AreaLSA{Area: area, LSA: &ospf.SummaryLSA{Header: hdr(ospf.ASBRSummaryLSAType, asbr, abr), Mask: ip("0.0.0.0"), Metric: metric}}
	}
	full := []ospfapitest.AreaLSA{
		router(area0, "10.0.0.3", ospf.RouterFlagB, transit("10.9.0.3", "10.9.0.3", 10)),
		router(area0, "10.0.0.4", ospf.RouterFlagE, transit("10.9.0.3", "10.9.0.4", 10)),
		network(area0, "10.9.0.3", "10.0.0.3", 24, "10.0.0.3", "10.0.0.4"),
		router(area1, "10.0.0.3", ospf.RouterFlagB, p2p("10.0.0.5", 10)),
		router(area1, "10.0.0.5", 0, p2p("10.0.0.3", 10)),
		asbrSummary(area1, "10.0.0.3", "10.0.0.4", 10),
		external("10.0.0.4", "192.168.40.0/24", 20, true),
	}
	ans, err := topo.Build(viewOf(t, full...)).Path("10.0.0.5", "10.0.0.4")
	if err != nil {
		t.Fatal(err)
	}
	if got := pathSet(ans.Paths); ans.Cost != 20 || !slices.Equal(got, []string{"[10.0.0.5 10.0.0.3 10.9.0.0/24 10.0.0.4]"}) {
		t.Errorf("r5 -> r4 with r4's links: cost %d, paths %v", ans.Cost, got)
	}
	// Area 1's LSDB only: r4 is reached through r3's summary.
	var area1Only []ospfapitest.AreaLSA
	for _, l := range full {
		if l.Area == area1 || l.LSA.Hdr().Type == ospf.ASExternalLSAType {
			area1Only = append(area1Only, l)
		}
	}
	ans, err = topo.Build(viewOf(t, area1Only...)).Path("10.0.0.5", "192.168.40.0/24")
	if err != nil {
		t.Fatal(err)
	}
	if got := pathSet(ans.Paths); !ans.Reachable || ans.ASBRCost == nil || *ans.ASBRCost != 20 ||
		!slices.Equal(got, []string{"[10.0.0.5 10.0.0.3 10.0.0.4 192.168.40.0/24]"}) {
		t.Errorf("r5 -> r4's external through the summary: %+v", ans.Route)
	}
}
