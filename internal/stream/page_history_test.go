package stream

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/history"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/stream/pagetest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// archivedNYC is the NYC LSDB on a clock of the test's, archived as
// `stream --events-path-prefix --snapshots-path-prefix` archives it: the
// archive's writer follows the change feed, and the snapshot writer
// writes the minutes the test asks for.
type archivedNYC struct {
	*nycNet
	clk               *streamtest.Clock
	events, snapshots string
	arch              *archive.Archive
	snaps             *archive.SnapshotWriter
	hist              *history.History
}

func archiveNYC(t *testing.T, start time.Time) *archivedNYC {
	t.Helper()
	clk := streamtest.NewClock(start)
	n := &archivedNYC{nycNet: loadNYCOn(t, clk.Now), clk: clk, events: t.TempDir(), snapshots: t.TempDir()}
	var err error
	if n.arch, err = archive.NewArchive(archive.ArchiveConfig{Dir: n.events, Now: clk.Now, Logger: streamtest.Logger(t)}); err != nil {
		t.Fatal(err)
	}
	if n.snaps, err = archive.NewSnapshotWriter(archive.SnapshotConfig{Dir: n.snapshots, Source: n.db, Current: "-", Now: clk.Now, Logger: streamtest.Logger(t)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.arch.Run(ctx, n.db.Feed(), n.db.Feed().LastSeq()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("archive: %v", err)
		}
	})
	if n.hist, err = history.New(history.Config{EventsDir: n.events, SnapshotsDir: n.snapshots, Logger: streamtest.Logger(t), Strict: true}); err != nil {
		t.Fatal(err)
	}
	n.snapshot(t)
	return n
}

// at sets the clock.
func (n *archivedNYC) at(ts time.Time) { n.clk.Set(ts) }

// snapshot writes the minute snapshot of the clock's minute.
func (n *archivedNYC) snapshot(t *testing.T) {
	t.Helper()
	if err := n.snaps.WriteAt(n.clk.Now()); err != nil {
		t.Fatal(err)
	}
}

// link adds (or, with metric 0, removes) the point-to-point link a-b on
// both routers.
func (n *archivedNYC) link(t *testing.T, a, b netip.Addr, metric uint16) {
	t.Helper()
	for _, p := range [][2]netip.Addr{{a, b}, {b, a}} {
		links := slices.DeleteFunc(slices.Clone(n.routers[p[0]].Links), func(l ospf.RouterLink) bool {
			return l.Type == ospf.LinkPointToPoint && l.ID == p[1]
		})
		if metric > 0 {
			links = append(links, p2pLink(p[1], metric))
		}
		n.setLinks(t, p[0], links...)
	}
}

// archived waits until the archive holds every event of the feed.
func (n *archivedNYC) archived(t *testing.T, from uint64) {
	t.Helper()
	want := len(streamtest.WantLines(t, n.db, from+1, n.db.Feed().LastSeq()))
	streamtest.NewWithT(t).Eventually(func() uint64 { return n.arch.Stats().Events }).Should(gomega.BeEquivalentTo(want), "the archive to catch up")
}

// unlinkedPairs are k pairs of routers with links, each pair not linked
// either way, all different.
func unlinkedPairs(t *testing.T, g *topo.Graph, ids []netip.Addr, k int) [][2]netip.Addr {
	t.Helper()
	used := map[netip.Addr]bool{}
	var out [][2]netip.Addr
	for i := len(ids) / 3; i < len(ids) && len(out) < k; i += 7 {
		a := ids[i]
		va, ok := g.Router(a)
		if !ok || used[a] || len(g.Out[va]) == 0 {
			continue
		}
		for _, b := range ids[i+1:] {
			vb, ok := g.Router(b)
			if !ok || used[b] || len(g.Out[vb]) == 0 {
				continue
			}
			_, ab := g.Cost(va, vb)
			_, ba := g.Cost(vb, va)
			if !ab && !ba {
				out = append(out, [2]netip.Addr{a, b})
				used[a], used[b] = true, true
				break
			}
		}
	}
	if len(out) < k {
		t.Fatalf("found %d unlinked pairs, want %d", len(out), k)
	}
	return out
}

func edgeKey(a, b netip.Addr) string {
	return "0.0.0.0|" + min(a.String(), b.String()) + "|" + max(a.String(), b.String())
}

// TestMapHistoryEndToEnd steps the live page of the NYC map back in time
// against the real history endpoints: a server whose archive (the hour
// files and minute snapshots) the real writers wrote as the network
// changed. The map shows the state at T (a link present then and gone
// now is drawn, one added since is not), the events before T are listed
// as history, the page steps from change to change with the keyboard,
// and Live returns to the present map and its changes.
func TestMapHistoryEndToEnd(t *testing.T) {
	chromium := pagetest.Chromium(t)
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	nyc := archiveNYC(t, t0)
	start := nyc.db.Feed().LastSeq()
	g := topo.Build(nyc.db.View())
	ids := slices.SortedFunc(maps.Keys(nyc.routers), netip.Addr.Compare)
	pairs := unlinkedPairs(t, g, ids, 3)
	ab, cd, gh := pairs[0], pairs[1], pairs[2]
	inPairs := func(id netip.Addr) bool {
		return slices.ContainsFunc(pairs, func(p [2]netip.Addr) bool { return p[0] == id || p[1] == id })
	}
	// e's link to its neighbour f changes cost.
	var e, f netip.Addr
	var newMetric uint16
	for _, id := range ids[len(ids)/4:] {
		ve, _ := g.Router(id)
		if inPairs(id) {
			continue
		}
		for _, l := range nyc.routers[id].Links {
			if vf, ok := g.Router(l.ID); ok && l.Type == ospf.LinkPointToPoint && !inPairs(l.ID) {
				if _, back := g.Cost(vf, ve); back {
					e, f, newMetric = id, l.ID, l.Metric+37
					break
				}
			}
		}
		if e.IsValid() {
			break
		}
	}
	// The history: 10:00 a snapshot; 10:00:30 e-f's cost changes; 10:01
	// a snapshot; 10:01:20 a-b comes; 10:02 a snapshot; 10:02:10 a-b goes
	// and c-d comes. T, 10:01:40, is between the snapshot and the next.
	nyc.at(t0.Add(30 * time.Second))
	links := slices.Clone(nyc.routers[e].Links)
	for i := range links {
		if links[i].ID == f && links[i].Type == ospf.LinkPointToPoint {
			links[i].Metric = newMetric
		}
	}
	nyc.setLinks(t, e, links...)
	nyc.at(t0.Add(time.Minute))
	nyc.snapshot(t)
	nyc.at(t0.Add(80 * time.Second))
	nyc.link(t, ab[0], ab[1], 7)
	beforeT := len(streamtest.WantLines(t, nyc.db, start+1, nyc.db.Feed().LastSeq()))
	nyc.at(t0.Add(2 * time.Minute))
	nyc.snapshot(t)
	nyc.at(t0.Add(130 * time.Second))
	nyc.link(t, ab[0], ab[1], 0)
	nyc.link(t, cd[0], cd[1], 5)
	nyc.at(t0.Add(150 * time.Second))
	nyc.archived(t, start)

	self := netip.MustParseAddr("10.69.7.31")
	ts := startServer(t, ServerConfig{Source: nyc.db, NonWebSocket: PageHandler(), Self: func() netip.Addr { return self },
		History: history.Handler(nyc.hist)}, nil)
	page := pagetest.Open(t, chromium, ts.http.URL+"/")
	// The person at the browser is in New York: the time field is theirs.
	page.Call("Emulation.setTimezoneOverride", map[string]any{"timezoneId": "America/New_York"}, nil)
	page.Wait("the map to be drawn", `String(!!(window.ospfMap && ospfMap.stats.firstDraw > 0))`, "true")
	page.Wait("the page to follow the stream", `document.getElementById("status").className`, "ok")
	has := func(id string) string {
		return page.Eval(fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).nonempty())`, id))
	}
	if has(edgeKey(ab[0], ab[1])) != "false" || has(edgeKey(cd[0], cd[1])) != "true" {
		t.Fatalf("the live map: a-b %s (want false), c-d %s (want true)", has(edgeKey(ab[0], ab[1])), has(edgeKey(cd[0], cd[1])))
	}

	// T, typed in New York's time (UTC-5) and entered with the keyboard.
	enter := func(local string) {
		t.Helper()
		page.Eval(fmt.Sprintf(`(() => { const a = document.getElementById("at"); a.focus(); a.value = %q; return ""; })()`, local))
		page.Press("Enter")
	}
	enter("2024-03-01T05:01:40")
	page.Wait("the map at T", `document.getElementById("mode").textContent.startsWith("as at 2024-03-01T10:01:40.000Z")`, "true")
	if got := page.Eval(`document.getElementById("mode").textContent`); !strings.Contains(got, "minute snapshot of 10:01:00 UTC and 2 events") {
		t.Errorf("mode %q, want it to say the state is the 10:01 snapshot and a-b's two events", got)
	}
	if has(edgeKey(ab[0], ab[1])) != "true" || has(edgeKey(cd[0], cd[1])) != "false" {
		t.Errorf("the map at T: a-b %s (want true: present then), c-d %s (want false: added later)", has(edgeKey(ab[0], ab[1])), has(edgeKey(cd[0], cd[1])))
	}
	want, _, err := nyc.hist.At(context.Background(), t0.Add(100*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	wg := topo.Build(want)
	var nodes, edges []string
	page.EvalJSON(`JSON.stringify(ospfMap.cy.nodes().map(n => n.id()).sort())`, &nodes)
	page.EvalJSON(`JSON.stringify(ospfMap.cy.edges().map(e => e.id()).sort())`, &edges)
	if want := mapEdges(wg); !slices.Equal(edges, want) || len(nodes) != len(wg.Vertices) {
		t.Errorf("the map at T has %d nodes and %d links; the history's state %d and %d", len(nodes), len(edges), len(wg.Vertices), len(want))
	}
	// ASBRs, known in the past by the routes they originate (the
	// snapshots carry no flags).
	asbrs := map[netip.Addr]bool{}
	for _, a := range want.Areas {
		for _, r := range a.Routers {
			if len(r.Externals)+len(r.NSSA) > 0 {
				asbrs[r.ID] = true
			}
		}
	}
	if got := page.Eval(`String(ospfMap.cy.nodes("[?asbr]").length)`); len(asbrs) == 0 || got != fmt.Sprint(len(asbrs)) {
		t.Errorf("the map at T marks %s ASBRs, want the %d routers with external routes then", got, len(asbrs))
	}
	if got := page.Eval(`document.getElementById("status").textContent`); got != "history: not following" {
		t.Errorf("status %q in the past", got)
	}
	// The events before T, as history: e-f's change and a-b's, newest first.
	page.Wait("the events before T", `String(document.querySelectorAll("#feed tr.past").length)`, fmt.Sprint(beforeT))
	if got := page.Eval(`document.getElementById("events-title").textContent`); got != "History: events before 10:01:40.000 UTC" {
		t.Errorf("events title %q", got)
	}
	if got := page.Eval(`document.getElementById("events-note").textContent`); !strings.HasPrefix(got, "From the archive, not live: ") {
		t.Errorf("events note %q", got)
	}
	if got := page.Eval(`document.querySelector("#feed tr").dataset.ts + " " + document.querySelector("#feed tr td.what").textContent`); !strings.HasPrefix(got, fmt.Sprint(t0.Add(80*time.Second).UnixMilli())+" router ") {
		t.Errorf("the newest row: %q, want one of a-b's", got)
	}
	if got := page.Eval(`getComputedStyle(document.querySelector("#feed tr.past td")).backgroundColor`); got != "rgb(255, 248, 225)" {
		t.Errorf("a history row's background is %s, want the history's amber", got)
	}
	if got := page.Eval(`String(document.querySelectorAll("#feed tr.past.at").length)`); got != "0" {
		t.Errorf("%s rows marked as at T, which is no change's time", got)
	}
	// In the past a router's path cost is the one then (/v1/path?at=T),
	// and paths and what-ifs are offered on the network as it was.
	page.Eval(fmt.Sprintf(`ospfMap.select(%q), ""`, ab[0]))
	page.Wait("the router's details", `document.querySelector("#details h3").textContent`, "router "+ab[0].String())
	then, err := wg.Path(self.String(), ab[0].String())
	if err != nil {
		t.Fatal(err)
	}
	wantCost := "unreachable"
	if then.Reachable {
		wantCost = fmt.Sprint(then.Cost)
	}
	page.Wait("the path cost then", `document.getElementById("cost").textContent.split(",")[0]`, "path cost from "+self.String()+" then: "+wantCost)
	if got := page.Eval(`String(document.querySelectorAll("#details .actions").length)`); got != "1" {
		t.Errorf("a router's details in the past: %s action bars, want 1", got)
	}
	page.Eval(`[...document.querySelectorAll("#details .actions button")].find(b => b.textContent === "Path to here").click(), ""`)
	page.Wait("the path then", `document.querySelector("#query h3") ? document.querySelector("#query h3").textContent : ""`,
		"path "+self.String()+" \u2192 "+ab[0].String()+" as at 2024-03-01T10:01:40.000Z")

	// A change now leaves the past alone.
	nyc.at(t0.Add(3 * time.Minute))
	nyc.link(t, gh[0], gh[1], 9)
	nyc.archived(t, start)
	time.Sleep(300 * time.Millisecond)
	if has(edgeKey(gh[0], gh[1])) != "false" {
		t.Errorf("a live change reached the map of the past")
	}

	// Change by change with "[" and "]": the state after each, what it
	// touched marked on the map and in the list.
	page.Eval(`document.activeElement.blur(), ""`)
	page.Press("[")
	page.Wait("the change before T", `document.getElementById("mode").textContent.slice(0, 30)`, "as at 2024-03-01T10:01:20.000Z")
	if got := page.Eval(`document.getElementById("at").value`); got != "2024-03-01T05:01:20" {
		t.Errorf("the time field reads %q, want the change's time in New York", got)
	}
	if has(edgeKey(ab[0], ab[1])) != "true" {
		t.Errorf("a-b is missing after the change that made it")
	}
	page.Wait("a-b marked as the change", fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).hasClass("at-added"))`, edgeKey(ab[0], ab[1])), "true")
	var marked []string
	page.EvalJSON(`JSON.stringify(ospfMap.cy.nodes(".at").map(n => n.id()).sort())`, &marked)
	if wantMarked := []string{min(ab[0].String(), ab[1].String()), max(ab[0].String(), ab[1].String())}; !slices.Equal(marked, wantMarked) {
		t.Errorf("marked %v, want %v", marked, wantMarked)
	}
	if got := page.Eval(`String(document.querySelectorAll("#feed tr.past.at").length)`); got != "2" {
		t.Errorf("%s rows marked as the change, want a-b's 2", got)
	}
	page.Press("[")
	page.Wait("e-f's change", `document.getElementById("mode").textContent.slice(0, 30)`, "as at 2024-03-01T10:00:30.000Z")
	if has(edgeKey(ab[0], ab[1])) != "false" {
		t.Errorf("a-b is on the map before it came")
	}
	var ef struct {
		Label string
		At    bool
	}
	page.EvalJSON(fmt.Sprintf(`(e => JSON.stringify({Label: e.data("label"), At: e.hasClass("at-added")}))(ospfMap.cy.getElementById(%q))`, edgeKey(e, f)), &ef)
	if !ef.At || !strings.Contains(ef.Label, fmt.Sprint(newMetric)) {
		t.Errorf("e-f at its change: %+v, want marked with cost %d", ef, newMetric)
	}
	page.Press("[")
	page.Wait("no earlier change", `document.getElementById("mode").textContent.endsWith("no earlier change in the day before")`, "true")
	page.Press("]")
	page.Wait("a-b's change again", `document.getElementById("mode").textContent.slice(0, 30)`, "as at 2024-03-01T10:01:20.000Z")
	page.Press("]")
	page.Wait("a-b goes, c-d comes", `document.getElementById("mode").textContent.slice(0, 30)`, "as at 2024-03-01T10:02:10.000Z")
	if has(edgeKey(cd[0], cd[1])) != "true" {
		t.Errorf("c-d is missing after the change that made it")
	}
	// The link that went is drawn, dashed, for the moment.
	ghost := "ghost|"
	page.Wait("a-b drawn as removed", fmt.Sprintf(`String(ospfMap.cy.edges(".ghost").filter(e => [e.source().id(), e.target().id()].sort().join() === %q).length)`,
		min(ab[0].String(), ab[1].String())+","+max(ab[0].String(), ab[1].String())), "1")
	if got := page.Eval(fmt.Sprintf(`ospfMap.cy.edges(".ghost").map(e => e.id().startsWith(%q) && e.style("line-style")).join()`, ghost)); got != "dashed" {
		t.Errorf("the removed link's style: %q", got)
	}
	page.Press("]")
	page.Wait("g-h's change, made while the page was in the past", `document.getElementById("mode").textContent.slice(0, 30)`, "as at 2024-03-01T10:03:00.000Z")
	page.Press("]")
	page.Wait("no later change", `document.getElementById("mode").textContent.endsWith("no later change in the day after")`, "true")

	st := statsOf(page)
	t.Logf("NYC map at a time T (view at T and the hour of events before it fetched, map drawn, events listed): median %.0f ms, max %.0f ms over %d times",
		quantile(st.Steps, 0.5), quantile(st.Steps, 1), len(st.Steps))

	// Before the archive: the map stays, and the page says where it begins.
	enter("2024-03-01T04:00:00")
	page.Wait("no history", `document.getElementById("mode").textContent.startsWith("no history at 2024-03-01T09:00:00.000Z: ")`, "true")
	if has(edgeKey(gh[0], gh[1])) != "true" || page.Eval(`String(ospfMap.past)`) != fmt.Sprint(t0.Add(3*time.Minute).UnixMilli()) {
		t.Errorf("a failed step changed the map")
	}
	t.Logf("screenshot of the map in the past: %s", page.Screenshot("map-history.png"))

	// Live, by the keyboard: the present map, its recent events, and the
	// changes that come.
	page.Eval(`document.getElementById("live").focus(), ""`)
	page.Press("Enter")
	page.Wait("live again", `document.getElementById("status").className`, "ok")
	if has(edgeKey(ab[0], ab[1])) != "false" || has(edgeKey(cd[0], cd[1])) != "true" || has(edgeKey(gh[0], gh[1])) != "true" {
		t.Errorf("the live map again: a-b %s c-d %s g-h %s, want false true true", has(edgeKey(ab[0], ab[1])), has(edgeKey(cd[0], cd[1])), has(edgeKey(gh[0], gh[1])))
	}
	if got := page.Eval(`document.querySelectorAll("#feed tr.past").length + " " + document.getElementById("side").className + " " + document.getElementById("events-title").textContent`); got != "0  Recent events" {
		t.Errorf("the events list after Live: %q", got)
	}
	if got := page.Eval(`String(ospfMap.cy.edges(".ghost").length + ospfMap.cy.nodes(".at").length)`); got != "0" {
		t.Errorf("%s marks of the past left on the live map", got)
	}
	nyc.at(t0.Add(4 * time.Minute))
	nyc.link(t, gh[0], gh[1], 0)
	page.Wait("the next change, live", fmt.Sprintf(`String(ospfMap.cy.getElementById(%q).hasClass("removed"))`, edgeKey(gh[0], gh[1])), "true")
	if st := statsOf(page); len(st.CSP) > 0 {
		t.Errorf("the page broke its Content-Security-Policy: %v", st.CSP)
	}

	// A server without an archive says so.
	bare := startServer(t, ServerConfig{Source: nyc.db, NonWebSocket: PageHandler()}, nil)
	page.Navigate(bare.http.URL + "/")
	page.Wait("the bare server's map", fmt.Sprintf(`String(location.href === %q && !!(window.ospfMap && ospfMap.stats.firstDraw > 0))`, bare.http.URL+"/"), "true")
	enter("2024-03-01T05:01:40")
	page.Wait("no archive", `document.getElementById("mode").textContent`, "this server keeps no archive")
	if got := page.Eval(`document.getElementById("status").className`); got != "ok" {
		t.Errorf("a failed step stopped following: status %s", got)
	}
}
