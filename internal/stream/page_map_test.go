package stream

import (
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/stream/pagetest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// nycNet is the NYC Mesh LSDB in a database, with its Router-LSAs at hand
// so that a test can change a router's links.
type nycNet struct {
	db      *lsdb.DB
	now     func() time.Time               // the database's clock
	routers map[netip.Addr]*ospf.RouterLSA // area 0's
}

func loadNYC(t testing.TB) *nycNet { return loadNYCOn(t, time.Now) }

// loadNYCOn loads the NYC LSDB into a database on the clock now.
func loadNYCOn(t testing.TB, now func() time.Time) *nycNet {
	t.Helper()
	lsas := ospfapitest.NYC(t)
	n := &nycNet{db: lsdb.New(lsdb.Config{Now: now}), now: now, routers: map[netip.Addr]*ospf.RouterLSA{}}
	if err := ospfapitest.LoadDB(n.db, lsas, now()); err != nil {
		t.Fatal(err)
	}
	for _, l := range lsas {
		if r, ok := l.LSA.(*ospf.RouterLSA); ok && l.Area == streamtest.Area0 {
			n.routers[r.AdvRouter] = r
		}
	}
	return n
}

// setLinks gives router id new links (a new instance of its Router-LSA,
// a new router if it had none, originated now: LS age 0) and commits.
func (n *nycNet) setLinks(t testing.TB, id netip.Addr, links ...ospf.RouterLink) {
	t.Helper()
	r := n.routers[id]
	if r == nil {
		r = &ospf.RouterLSA{Header: ospf.Header{Age: 1, Options: 0x02, Type: ospf.RouterLSAType, LSID: id, AdvRouter: id, SeqNum: ospf.InitialSeqNum - 1}}
	}
	c := *r
	c.SeqNum++
	c.Age = 0
	c.Links = links
	raw, err := ospf.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.db.Update(streamtest.Area0, raw, n.now()); err != nil {
		t.Fatal(err)
	}
	n.db.Commit()
	n.routers[id] = &c
}

func p2pLink(to netip.Addr, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: to, Data: netip.MustParseAddr("192.0.2.1"), Type: ospf.LinkPointToPoint, Metric: metric}
}

// mapEdges are the map's links as the page names them (area|A|B, A < B)
// from the graph: one per pair of vertices linked either way.
func mapEdges(g *topo.Graph) []string {
	set := map[string]bool{}
	for u := range g.Out {
		for _, e := range g.Out[u] {
			if e.Kind == topo.ASBRSummary {
				continue
			}
			a, b := g.Key(int32(u)), g.Key(e.To)
			if b < a {
				a, b = b, a
			}
			set[e.Area.String()+"|"+a+"|"+b] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

type mapStats struct {
	FirstDraw float64   `json:"firstDraw"`
	Script    float64   `json:"script"`
	Fetched   float64   `json:"fetched"`
	Loaded    float64   `json:"loaded"`
	Apply     []float64 `json:"apply"`
	Frame     []float64 `json:"frame"`
	CSP       []string  `json:"csp"`
	Steps     []float64 `json:"steps"`
	Flashes   []struct {
		ID  string `json:"id"`
		How string `json:"how"`
	} `json:"flashes"`
}

func statsOf(p *pagetest.Page) mapStats {
	var s mapStats
	p.EvalJSON(`JSON.stringify(ospfMap.stats)`, &s)
	return s
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	return s[int(math.Round(q*float64(len(s)-1)))]
}

// TestLiveMapNYCInChromium draws the NYC Mesh LSDB in headless Chromium
// and checks the map against package topo's graph: every router, network
// and link; a link added and removed flashes at its place and moves
// nothing else; a new router lands by its neighbour; search, a click, a
// path and a what-if show the right routers.
func TestLiveMapNYCInChromium(t *testing.T) {
	chromium := pagetest.Chromium(t)
	nyc := loadNYC(t)
	self := netip.MustParseAddr("10.69.7.31")
	ts := startServer(t, ServerConfig{Source: nyc.db, NonWebSocket: PageHandler(), Self: func() netip.Addr { return self }}, nil)
	page := pagetest.Open(t, chromium, ts.http.URL+"/")
	page.Wait("the map to be drawn", `String(!!(window.ospfMap && ospfMap.stats.firstDraw > 0))`, "true")
	page.Wait("the page to follow the stream", `document.getElementById("status").className`, "ok")
	st := statsOf(page)
	t.Logf("NYC first draw: %.0f ms after navigation (script running at %.0f ms, view and layout fetched at %.0f, map built at %.0f)",
		st.FirstDraw, st.Script, st.Fetched, st.Loaded)
	if len(st.CSP) > 0 {
		t.Errorf("the page broke its Content-Security-Policy: %v", st.CSP)
	}

	// Every vertex and link of the graph, and nothing else.
	g := topo.Build(nyc.db.View())
	var nodes, edges []string
	page.EvalJSON(`JSON.stringify(ospfMap.cy.nodes().map(n => n.id()).sort())`, &nodes)
	page.EvalJSON(`JSON.stringify(ospfMap.cy.edges().map(e => e.id()).sort())`, &edges)
	var wantNodes []string
	for v := range g.Vertices {
		wantNodes = append(wantNodes, g.Key(int32(v)))
	}
	slices.Sort(wantNodes)
	if !slices.Equal(nodes, wantNodes) {
		t.Fatalf("the map has %d nodes, the graph %d vertices", len(nodes), len(wantNodes))
	}
	if want := mapEdges(g); !slices.Equal(edges, want) {
		t.Fatalf("the map has %d links, the graph %d", len(edges), len(want))
	}
	t.Logf("NYC map: %d nodes, %d links", len(nodes), len(edges))
	// ASBRs are marked, and their externals counted.
	var asbrs []string
	page.EvalJSON(`JSON.stringify(ospfMap.cy.nodes().filter(n => n.data("asbr") && n.style("border-color") === "rgb(255,143,0)").map(n => n.id()).sort())`, &asbrs)
	var wantASBRs []string
	for id, f := range g.Flags {
		if f&ospf.RouterFlagE != 0 {
			wantASBRs = append(wantASBRs, id.String())
		}
	}
	slices.Sort(wantASBRs)
	if len(wantASBRs) == 0 || !slices.Equal(asbrs, wantASBRs) {
		t.Errorf("ASBRs marked %v, want %v", asbrs, wantASBRs)
	}

	// A link appears between two routers that had none: it flashes green
	// where it is, and nothing moves.
	a, b := self, netip.Addr{}
	ids := slices.SortedFunc(maps.Keys(nyc.routers), netip.Addr.Compare)
	for _, id := range ids {
		if u, _ := g.Router(id); id != a && len(g.Out[u]) > 0 {
			va, _ := g.Router(a)
			if _, linked := g.Cost(va, u); !linked {
				b = id
				break
			}
		}
	}
	edgeID := "0.0.0.0|" + min(a.String(), b.String()) + "|" + max(a.String(), b.String())
	before := page.Positions()
	nyc.setLinks(t, a, append(slices.Clone(nyc.routers[a].Links), p2pLink(b, 7))...)
	nyc.setLinks(t, b, append(slices.Clone(nyc.routers[b].Links), p2pLink(a, 9))...)
	page.Wait("the new link to flash green", fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).hasClass("added"))`, edgeID), "true")
	var e struct {
		Source, Target, Label string
		Colour                string
	}
	page.EvalJSON(fmt.Sprintf(`JSON.stringify((e => ({Source: e.source().id(), Target: e.target().id(), Label: e.data("label"), Colour: e.style("line-color")}))(ospfMap.cy.getElementById(%q)))`, edgeID), &e)
	wantLabel := "7/9"
	if b.String() < a.String() {
		wantLabel = "9/7"
	}
	if e.Source != min(a.String(), b.String()) || e.Target != max(a.String(), b.String()) || e.Label != wantLabel || e.Colour != "rgb(46,125,50)" {
		t.Errorf("the new link: %+v, want %s-%s labelled %s in green", e, a, b, wantLabel)
	}
	if after := page.Positions(); !mapsEqual(before, after) {
		t.Errorf("a new link moved nodes")
	}
	page.Wait("the flash to fade", fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).hasClass("added"))`, edgeID), "false")

	// It goes again: red, then gone.
	nyc.setLinks(t, b, nyc.routers[b].Links[:len(nyc.routers[b].Links)-1]...)
	page.Wait("the link to flash red", fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).hasClass("removed"))`, edgeID), "true")
	page.Wait("the link to leave", fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).length)`, edgeID), "0")
	nyc.setLinks(t, a, nyc.routers[a].Links[:len(nyc.routers[a].Links)-1]...)

	// A new router linked to b lands next to it; nothing else moves.
	c := netip.MustParseAddr("10.255.0.1")
	before = page.Positions()
	nyc.setLinks(t, c, p2pLink(b, 10))
	nyc.setLinks(t, b, append(slices.Clone(nyc.routers[b].Links), p2pLink(c, 10))...)
	page.Wait("the new router's link", fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).length)`, "0.0.0.0|"+min(b.String(), c.String())+"|"+max(b.String(), c.String())), "1")
	after := page.Positions()
	delete(after, c.String())
	if !mapsEqual(before, after) {
		t.Errorf("a new router moved other nodes")
	}
	var unit float64
	page.EvalJSON(`JSON.stringify(ospfMap.cy.nodes().first().width())`, &unit)
	if d := dist2(page.Positions()[c.String()], before[b.String()]); d > 8*unit {
		t.Errorf("the new router is %.0f from its neighbour (nodes are %.0f wide)", d, unit)
	}

	// Per change: a burst of link flaps, each applied and measured in the page.
	page.Eval(`ospfMap.stats.apply.length = 0, ospfMap.stats.frame.length = 0, ""`)
	base := nyc.routers[b].Links
	for i := range 20 {
		if i%2 == 0 {
			nyc.setLinks(t, b, append(slices.Clone(base), p2pLink(a, uint16(10+i)))...)
		} else {
			nyc.setLinks(t, b, base...)
		}
		time.Sleep(30 * time.Millisecond)
	}
	page.Wait("the flaps to arrive", `String(ospfMap.seq)`, fmt.Sprint(nyc.db.Feed().LastSeq()))
	st = statsOf(page)
	t.Logf("NYC per change applied (%d envelopes): median %.2f ms, max %.2f ms; to the next frame: median %.1f ms, max %.1f ms",
		len(st.Apply), quantile(st.Apply, 0.5), quantile(st.Apply, 1), quantile(st.Frame, 0.5), quantile(st.Frame, 1))

	// Search a router: it and its neighbours stand out, the rest fades.
	hub := busiest(g)
	page.Eval(fmt.Sprintf(`(() => { const f = document.getElementById("filter"); f.value = %q; f.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"})); return ""; })()`, hub))
	page.Wait("the search", `ospfMap.cy.nodes(".hit").map(n => n.id()).join()`, hub)
	var nbs []string
	page.EvalJSON(`JSON.stringify(ospfMap.cy.nodes(".nb").map(n => n.id()).sort())`, &nbs)
	if want := neighbourKeys(g, hub); !slices.Equal(nbs, want) {
		t.Errorf("search %s: neighbours %v, want %v", hub, nbs, want)
	}
	// A prefix: the routers that carry it.
	pfx, carriers := someStub(g)
	page.Eval(fmt.Sprintf(`(() => { const f = document.getElementById("filter"); f.value = %q; f.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter"})); return ""; })()`, pfx))
	page.Wait("the prefix search", `ospfMap.cy.nodes(".hit").map(n => n.id()).sort().join()`, strings.Join(carriers, ","))
	page.Eval(`(() => { const f = document.getElementById("filter"); f.value = ""; f.dispatchEvent(new Event("input")); ospfMap.search(""); return ""; })()`)

	// By the keyboard: "/" goes to the search field, which suggests every
	// router ID; the beginning of an ID finds the routers whose IDs begin
	// so; a range no route carries, the router IDs in it; Escape clears.
	page.Eval(`document.activeElement.blur(), ""`)
	page.Press("/")
	if got := page.Focused(); got != "filter" {
		t.Fatalf("after /, the focus is on %q, want the search field", got)
	}
	var routerIDs []string
	now := topo.Build(nyc.db.View()) // with the router added above
	for v := range now.Vertices {
		if now.Vertices[v].Kind == topo.RouterVertex {
			routerIDs = append(routerIDs, now.Key(int32(v)))
		}
	}
	page.Wait("the suggestions", `String(document.querySelectorAll("#router-ids option").length)`, fmt.Sprint(len(routerIDs)))
	idsIn := func(keep func(netip.Addr) bool) []string {
		var out []string
		for _, id := range routerIDs {
			if keep(netip.MustParseAddr(id)) {
				out = append(out, id)
			}
		}
		slices.SortFunc(out, func(a, b string) int { return netip.MustParseAddr(a).Compare(netip.MustParseAddr(b)) })
		return out
	}
	begins := idsIn(func(a netip.Addr) bool { return strings.HasPrefix(a.String(), "10.69.1") })
	if len(begins) < 2 {
		t.Fatalf("%d routers whose ID begins 10.69.1", len(begins))
	}
	page.Type("10.69.1")
	page.Wait("the search by the beginning of an ID", `document.getElementById("found").dataset.hits || ""`, strings.Join(begins, " "))
	if got := page.Eval(`document.getElementById("found").textContent`); !strings.HasPrefix(got, fmt.Sprintf("%d routers whose ID begins 10.69.1: %s, ", len(begins), begins[0])) {
		t.Errorf("found %q", got)
	}
	if got := page.Eval(`String(ospfMap.cy.nodes(".hit").length)`); got != fmt.Sprint(len(begins)) {
		t.Errorf("%s routers stand out, want %d", got, len(begins))
	}
	page.Press("Escape")
	page.Wait("Escape to clear the search", `document.getElementById("filter").value + ospfMap.cy.nodes(".hit").length`, "0")
	rng := netip.MustParsePrefix("10.69.7.0/24")
	if _, carried := now.Attachments()[rng]; carried {
		t.Fatalf("%s is carried: pick a range that is not", rng)
	}
	inRange := idsIn(rng.Contains)
	if len(inRange) == 0 {
		t.Fatalf("no router ID in %s: pick a range that has some", rng)
	}
	page.Type(rng.String())
	page.Press("Enter")
	page.Wait("the search of a range", `document.getElementById("found").dataset.hits || ""`, strings.Join(inRange, " "))
	page.Press("Escape")

	// A click on a router shows it, with its path cost from the agent's router.
	far := farthest(g, self)
	page.Eval(fmt.Sprintf(`ospfMap.cy.center(ospfMap.cy.getElementById(%q)), ""`, far))
	page.Click(far)
	page.Wait("the router's details", `document.querySelector("#details h3").textContent`, "router "+far)
	want, err := g.Path(self.String(), far)
	if err != nil {
		t.Fatal(err)
	}
	page.Wait("the path cost", `document.getElementById("cost").dataset.cost || ""`, fmt.Sprint(want.Cost))
	// Its neighbours are buttons: the keyboard reaches them.
	nb := page.Eval(`document.querySelector("#details table.links button.link").textContent`)
	page.Eval(`document.querySelector("#details table.links button.link").focus(), ""`)
	page.Press("Enter")
	page.Wait("the neighbour's details", `document.querySelector("#details h3").textContent`, "router "+nb)
	page.Eval(fmt.Sprintf(`ospfMap.select(%q), ""`, far))

	// The path on the map: every equal-cost path's links.
	page.Eval(fmt.Sprintf(`ospfMap.queryPath("", %q), ""`, far))
	page.Wait("the path", `document.getElementById("query").dataset.kind || ""`, "path")
	var pathEdges []string
	page.EvalJSON(`JSON.stringify(ospfMap.cy.edges(".path").map(e => e.id()).sort())`, &pathEdges)
	if wantEdges := pathEdgeIDs(g, want.Paths); !slices.Equal(pathEdges, wantEdges) {
		t.Errorf("path edges %v, want %v", pathEdges, wantEdges)
	}
	page.Eval(`ospfMap.cy.fit(undefined, 10), document.getElementById("tip").hidden = true, ""`)
	time.Sleep(300 * time.Millisecond) // a frame or two
	t.Logf("screenshot of the NYC map: %s", page.Screenshot("map.png"))

	// What if the busiest router fails: the routers it cuts off turn red.
	page.Eval(fmt.Sprintf(`ospfMap.queryWhatIf(%q), ""`, hub))
	page.Wait("the what-if", `document.getElementById("query").dataset.kind || ""`, "whatif")
	wi, err := g.WhatIf(self.String(), hub)
	if err != nil {
		t.Fatal(err)
	}
	var lost []string
	page.EvalJSON(`JSON.stringify(ospfMap.cy.nodes(".lost").map(n => n.id()).sort())`, &lost)
	var wantLost []string
	for _, c := range wi.Unreachable {
		wantLost = append(wantLost, c.Router)
	}
	slices.Sort(wantLost)
	if len(wantLost) == 0 || !slices.Equal(lost, wantLost) {
		t.Errorf("what-if %s: %d lost on the map, %d by topo", hub, len(lost), len(wantLost))
	}
	if st := statsOf(page); len(st.CSP) > 0 {
		t.Errorf("the page broke its Content-Security-Policy: %v", st.CSP)
	}
}

func mapsEqual(a, b map[string][2]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func dist2(a, b [2]float64) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

// busiest is the router with the most neighbours.
func busiest(g *topo.Graph) string {
	best, n := "", -1
	for v := range g.Vertices {
		if g.Vertices[v].Kind == topo.RouterVertex && len(neighbourKeys(g, g.Key(int32(v)))) > n {
			best, n = g.Key(int32(v)), len(neighbourKeys(g, g.Key(int32(v))))
		}
	}
	return best
}

func neighbourKeys(g *topo.Graph, key string) []string {
	set := map[string]bool{}
	for u := range g.Out {
		for _, e := range g.Out[u] {
			if e.Kind == topo.ASBRSummary {
				continue
			}
			if a, b := g.Key(int32(u)), g.Key(e.To); a == key {
				set[b] = true
			} else if b == key {
				set[a] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// someStub is a stub prefix of the graph and the routers that carry it.
func someStub(g *topo.Graph) (string, []string) {
	var best netip.Prefix
	for p, as := range g.Attachments() {
		if p.Bits() == 24 && len(as) >= 1 && g.Vertices[as[0].Vertex].Kind == topo.RouterVertex && as[0].Class == topo.IntraArea &&
			(!best.IsValid() || p.String() < best.String()) {
			best = p
		}
	}
	set := map[string]bool{}
	for _, a := range g.Attachments()[best] {
		set[g.Key(a.Vertex)] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return best.String(), out
}

// farthest is the router farthest from root.
func farthest(g *topo.Graph, root netip.Addr) string {
	r, _ := g.Router(root)
	tree := g.SPF(r, false, topo.NoFailure)
	far := r
	for v, d := range tree.Dist {
		if g.Vertices[v].Kind == topo.RouterVertex && d > tree.Dist[far] {
			far = int32(v)
		}
	}
	return g.Key(far)
}

// pathEdgeIDs are the map's links along paths.
func pathEdgeIDs(g *topo.Graph, paths [][]topo.Hop) []string {
	set := map[string]bool{}
	key := func(h topo.Hop) string {
		if h.Type == "network" && !strings.Contains(h.ID, "@") {
			if v, ok := g.Network(netip.Addr{}, netip.MustParsePrefix(h.ID)); ok {
				return g.Key(v)
			}
		}
		return h.ID
	}
	for _, p := range paths {
		for i := 1; i < len(p); i++ {
			if p[i].Type == "prefix" {
				continue
			}
			a, b := key(p[i-1]), key(p[i])
			set[p[i].Area+"|"+min(a, b)+"|"+max(a, b)] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// BenchmarkMapInChromium measures the NYC map in headless Chromium: the
// first draw (from navigation to the frame after the map is drawn), and
// per change of the network (a link added or removed on one router: its
// event and state record) the time to apply it to the map, and to the
// next frame. Each iteration opens a new browser.
func BenchmarkMapInChromium(b *testing.B) {
	chromium := pagetest.Chromium(b)
	var first, apply, frame []float64
	for b.Loop() {
		nyc := loadNYC(b)
		ts := startServer(b, ServerConfig{Source: nyc.db, NonWebSocket: PageHandler()}, nil)
		page := pagetest.Open(b, chromium, ts.http.URL+"/")
		page.Wait("the map to be drawn", `String(!!(window.ospfMap && ospfMap.stats.firstDraw > 0))`, "true")
		page.Wait("the page to follow the stream", `document.getElementById("status").className`, "ok")
		first = append(first, statsOf(page).FirstDraw)
		ids := slices.SortedFunc(maps.Keys(nyc.routers), netip.Addr.Compare)
		r, peer := ids[len(ids)/2], ids[len(ids)/3]
		base := nyc.routers[r].Links
		for i := range 20 {
			if i%2 == 0 {
				nyc.setLinks(b, r, append(slices.Clone(base), p2pLink(peer, uint16(10+i)))...)
			} else {
				nyc.setLinks(b, r, base...)
			}
			time.Sleep(30 * time.Millisecond)
		}
		page.Wait("the changes to arrive", `String(ospfMap.seq)`, fmt.Sprint(nyc.db.Feed().LastSeq()))
		time.Sleep(100 * time.Millisecond) // the last frame
		st := statsOf(page)
		apply = append(apply, st.Apply...)
		frame = append(frame, st.Frame...)
	}
	b.ReportMetric(quantile(first, 0.5), "first-draw-ms")
	b.ReportMetric(quantile(apply, 0.5), "apply-p50-ms")
	b.ReportMetric(quantile(apply, 1), "apply-max-ms")
	b.ReportMetric(quantile(frame, 0.5), "frame-p50-ms")
	b.ReportMetric(quantile(frame, 1), "frame-max-ms")
}
