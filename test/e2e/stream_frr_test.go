//go:build e2e

package e2e

// End-to-end tests of the ospf-operator binary against real FRR routers
// (test/frrlab). They need root and FRR: they skip without them, and
// fail under CI=true (frrlab.Start decides).
//
// The binary runs inside a router's network namespace (ip netns exec), so
// that it reaches ospfd's API on the router's address and ospfd can
// connect back to the client's second port, as on a real router.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/buildtest"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

const (
	// e2eHoldDown is the stream's --holddown. It must outlast the time a
	// restarted ospfd takes to become Full again and relearn the LSDB:
	// the resync that follows the restart sees an incomplete dump, and
	// the hold-down is what turns its withdrawals into no event.
	e2eHoldDown = 10 * time.Second
	// e2eQuiet is how long no event may arrive before a step's events are
	// taken as complete, to catch extras after the expected ones.
	e2eQuiet = 3 * time.Second
	// e2eStepTimeout bounds each step's wait for its events.
	e2eStepTimeout = 60 * time.Second
	// e2eClockSlack is how far before a step an event's timestamp may lie:
	// the timestamp is the arrival minus the LS age, and ospfd adds one
	// second of age per hop (InfTransDelay) on top of its 1 s granularity.
	e2eClockSlack = 5 * time.Second
)

// buildOperator builds the ospf-operator binary, its agent beside it, into
// a temporary directory.
func buildOperator(t *testing.T) string {
	t.Helper()
	return buildtest.Binaries(t)
}

// fact is one item of the graph view: a router's link, or a network's DR
// or attached router. An event adds or removes one fact; a snapshot is a
// multiset of facts per area.
type fact struct {
	Entity string // "router" or "network"
	ID     string // router ID or network prefix
	// Kind is the link kind (router, network, stubnet, external,
	// xnetwork, xrouter, nssa-ext) for a router; "router" (an attached
	// router) or "dr" for a network.
	Kind    string
	Link    string // the far end: router ID or prefix
	Metric  uint32
	Metric2 bool // Metric is a type 2 external metric
	Via     string
}

func (f fact) String() string {
	s := fmt.Sprintf("%s %s: %s %s", f.Entity, f.ID, f.Kind, f.Link)
	switch {
	case f.Entity == "network":
	case f.Metric2:
		s += fmt.Sprintf(" metric2 %d", f.Metric)
	default:
		s += fmt.Sprintf(" metric %d", f.Metric)
	}
	if f.Via != "" {
		s += " via " + f.Via
	}
	return s
}

// multiset counts facts; in a change set, + is added and - removed.
type multiset map[fact]int

func (m multiset) add(f fact, n int) {
	if m[f] += n; m[f] == 0 {
		delete(m, f)
	}
}

// minus returns m - o.
func (m multiset) minus(o multiset) multiset {
	d := multiset{}
	for f, n := range m {
		d.add(f, n)
	}
	for f, n := range o {
		d.add(f, -n)
	}
	return d
}

// lines lists the facts with their counts, sorted, for diffs.
func (m multiset) lines() []string {
	out := []string{}
	for f, n := range m {
		out = append(out, fmt.Sprintf("%+d %s", n, f))
	}
	slices.Sort(out)
	return out
}

// graph is a snapshot as facts: area -> facts, and area -> router IDs
// present (a router can be present without any link).
type graph struct {
	facts   map[string]multiset
	routers map[string][]string
}

func newGraph() *graph { return &graph{facts: map[string]multiset{}, routers: map[string][]string{}} }

func (g *graph) put(area string, f fact) {
	if g.facts[area] == nil {
		g.facts[area] = multiset{}
	}
	g.facts[area].add(f, 1)
	if f.Entity == "router" && !slices.Contains(g.routers[area], f.ID) {
		g.routers[area] = append(g.routers[area], f.ID)
		slices.Sort(g.routers[area])
	}
}

// events returns the facts of area an event can carry (not the DRs).
func (g *graph) events(area string) multiset {
	out := multiset{}
	for f, n := range g.facts[area] {
		if f.Kind != "dr" {
			out.add(f, n)
		}
	}
	return out
}

// snapshotGraph reads our snapshot.
func snapshotGraph(s *lsdb.Snapshot) *graph {
	g := newGraph()
	links := func(area, id, kind string, ls []lsdb.SnapshotLink) {
		for _, l := range ls {
			g.put(area, fact{Entity: "router", ID: id, Kind: kind, Link: l.ID, Metric: l.Metric})
		}
	}
	exts := func(area, id, kind string, xs []lsdb.SnapshotExternal) {
		for _, x := range xs {
			f := fact{Entity: "router", ID: id, Kind: kind, Link: x.ID, Via: x.Via}
			if x.Metric2 != nil {
				f.Metric, f.Metric2 = *x.Metric2, true
			} else if x.Metric != nil {
				f.Metric = *x.Metric
			}
			g.put(area, f)
		}
	}
	for aid, a := range s.Areas {
		for id, r := range a.Routers {
			if !slices.Contains(g.routers[aid], id) {
				g.routers[aid] = append(g.routers[aid], id)
				slices.Sort(g.routers[aid])
			}
			links(aid, id, "router", r.Links.Router)
			links(aid, id, "network", r.Links.Network)
			links(aid, id, "stubnet", r.Links.Stubnet)
			exts(aid, id, "external", r.Links.External)
			links(aid, id, "xnetwork", r.Links.XNetwork)
			links(aid, id, "xrouter", r.Links.XRouter)
			exts(aid, id, "nssa-ext", r.Links.NSSAExt)
		}
		for p, n := range a.Networks {
			g.put(aid, fact{Entity: "network", ID: p, Kind: "dr", Link: n.DR})
			for _, r := range n.Routers {
				g.put(aid, fact{Entity: "network", ID: p, Kind: "router", Link: r})
			}
		}
	}
	return g
}

// ospfdGraph is what ospfd's own `show ip ospf database ... json` says the
// graph is, by the seed's rules: transit links resolved to the prefix of
// the Network-LSA they name, summaries under the ABR that originates them,
// AS-external routes under their ASBR in the backbone, or in the lowest
// area where it has a Router-LSA if it has none in the backbone. LSAs at
// MaxAge are being flushed and are not part of it.
func ospfdGraph(db *frrlab.Database) *graph {
	const maxAge = 3600
	g := newGraph()
	inArea := map[netip.Addr][]netip.Addr{} // router -> areas with its Router-LSA
	for aid, a := range db.Areas {
		area := aid.String()
		nets := map[netip.Addr]netip.Prefix{}
		for _, n := range a.Network {
			if n.Age >= maxAge {
				continue
			}
			nets[n.LSID] = n.Prefix
			g.put(area, fact{Entity: "network", ID: n.Prefix.String(), Kind: "dr", Link: n.AdvRouter.String()})
			for _, r := range n.AttachedRouters {
				g.put(area, fact{Entity: "network", ID: n.Prefix.String(), Kind: "router", Link: r.String()})
			}
		}
		for _, r := range a.Router {
			if r.Age >= maxAge {
				continue
			}
			inArea[r.AdvRouter] = append(inArea[r.AdvRouter], aid)
			id := r.AdvRouter.String()
			if !slices.Contains(g.routers[area], id) {
				g.routers[area] = append(g.routers[area], id)
				slices.Sort(g.routers[area])
			}
			for _, l := range r.Links {
				f := fact{Entity: "router", ID: id, Metric: uint32(l.Metric)}
				switch l.Type {
				case frrlab.LinkPointToPoint, frrlab.LinkVirtual:
					f.Kind, f.Link = "router", l.ID.String()
				case frrlab.LinkTransit:
					p, ok := nets[l.ID]
					if !ok {
						continue
					}
					f.Kind, f.Link = "network", p.String()
				case frrlab.LinkStub:
					m := l.Data.As4()
					ones := bits.OnesCount32(uint32(m[0])<<24 | uint32(m[1])<<16 | uint32(m[2])<<8 | uint32(m[3]))
					f.Kind, f.Link = "stubnet", netip.PrefixFrom(l.ID, ones).Masked().String()
				}
				g.put(area, f)
			}
		}
		for _, s := range a.Summary {
			if s.Age < maxAge {
				g.put(area, fact{Entity: "router", ID: s.AdvRouter.String(), Kind: "xnetwork",
					Link: netip.PrefixFrom(s.LSID, s.Bits).Masked().String(), Metric: s.Metric})
			}
		}
		for _, s := range a.ASBRSummary {
			if s.Age < maxAge {
				g.put(area, fact{Entity: "router", ID: s.AdvRouter.String(), Kind: "xrouter", Link: s.LSID.String(), Metric: s.Metric})
			}
		}
		for _, e := range a.NSSAExternal {
			if e.Age < maxAge {
				g.put(area, externalFact(e, "nssa-ext"))
			}
		}
	}
	for _, e := range db.External {
		if e.Age >= maxAge {
			continue
		}
		area := frrlab.Backbone
		if as := inArea[e.AdvRouter]; len(as) > 0 && !slices.Contains(as, frrlab.Backbone) {
			area = slices.MinFunc(as, netip.Addr.Compare)
		}
		g.put(area.String(), externalFact(e, "external"))
	}
	return g
}

func externalFact(e frrlab.ExternalLSA, kind string) fact {
	f := fact{Entity: "router", ID: e.AdvRouter.String(), Kind: kind, Link: e.Prefix.String(),
		Metric: e.Metric, Metric2: e.MetricType == 2}
	if e.Forwarding.IsValid() && !e.Forwarding.IsUnspecified() {
		f.Via = e.Forwarding.String()
	}
	return f
}

// seedKinds are the link kinds of the seed's event schema; the others need
// its multi-area variant.
var seedKinds = []string{"router", "network", "stubnet", "external"}

// event is a parsed, validated line of the stream.
type event struct {
	line string
	at   time.Time // when the test read it
	ts   time.Time // its timestamp
	f    fact
	sign int // +1 added, -1 removed
}

// parseEvent reads one line as the library does (lsdb.ParseEvent),
// validates it against the event schema (the seed's schema for the seed's
// kinds) and turns it into a fact.
func parseEvent(line string) (event, error) {
	ev := event{line: line, at: time.Now()}
	e, err := lsdb.ParseEvent([]byte(line))
	if err != nil {
		return ev, err
	}
	ev.ts = time.UnixMilli(e.Time)
	ev.sign = 1
	if !e.Added {
		ev.sign = -1
	}
	ev.f = fact{Entity: e.Entity.String(), ID: e.EntityID()}
	validate := schemavalidate.ValidateEvent
	if e.Entity == lsdb.EntityNetwork {
		ev.f.Kind, ev.f.Link = "router", e.Member.String()
	} else {
		l := e.Link
		ev.f.Kind, ev.f.Link, ev.f.Metric, ev.f.Metric2 = l.Kind.String(), l.IDString(), l.Metric, l.Type2
		if via := l.Via(); via.IsValid() {
			ev.f.Via = via.String()
		}
		if !slices.Contains(seedKinds, ev.f.Kind) {
			validate = schemavalidate.ValidateMultiAreaEvent
		}
	}
	return ev, validate([]byte(line))
}

// streamProc is `ospf-operator stream` running in a router's namespace.
type streamProc struct {
	cmd    *exec.Cmd
	stderr streamtest.LockedBuffer
	done   chan struct{} // closed when stdout is drained

	mu     sync.Mutex
	events []event
	errs   []string // lines that failed to parse or validate
}

func startStream(t *testing.T, l *frrlab.Lab, bin, router string, args ...string) *streamProc {
	t.Helper()
	r, err := l.Router(router)
	if err != nil {
		t.Fatal(err)
	}
	p := &streamProc{done: make(chan struct{})}
	p.cmd = l.Exec(router, append([]string{bin, "stream", "--server", r.ID.String()}, args...)...)
	p.cmd.Stderr = &p.stderr
	startLines(t, p.cmd, p.done, func(line string) {
		ev, err := parseEvent(line)
		p.mu.Lock()
		if err != nil {
			p.errs = append(p.errs, fmt.Sprintf("%q: %v", line, err))
		} else {
			p.events = append(p.events, ev)
		}
		p.mu.Unlock()
	})
	t.Cleanup(func() {
		// `ip netns exec` execs the command: the signal reaches ours.
		if err := stopLines(p.cmd, syscall.SIGTERM, p.done); err != nil {
			t.Errorf("stream exited with %v after SIGTERM", err)
		}
		if t.Failed() {
			t.Logf("stream's stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

// since returns the events from index i on, and any invalid lines.
func (p *streamProc) since(i int) ([]event, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.events[i:]), slices.Clone(p.errs)
}

func (p *streamProc) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.events)
}

func (p *streamProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitUntil waits until cond holds, for at most timeout; then it fails
// the test with what and diag's output.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool, diag func() string) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(timeout).WithPolling(50*time.Millisecond).
		Should(gomega.BeTrue(), func() string { return "waiting for " + what + "\n" + diag() })
}

// e2e is the state of one end-to-end run.
type e2e struct {
	t      *testing.T
	l      *frrlab.Lab
	router string // the router the stream is attached to
	s      *streamProc
	// diagRouters are asked for their LSDB and neighbours when a step fails.
	diagRouters []string
}

// ospfd returns the graph of the attached router's ospfd.
func (e *e2e) ospfd() *graph {
	e.t.Helper()
	db, err := e.l.OSPFDatabaseJSON(e.router)
	if err != nil {
		e.t.Fatal(err)
	}
	return ospfdGraph(db)
}

// diag is what a failing step prints: the client's stderr and vtysh's view.
func (e *e2e) diag() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stream's stderr:\n%s\n", e.s.stderr.String())
	for _, r := range e.diagRouters {
		out, err := e.l.Vtysh(r, "show ip ospf neighbor", "show ip ospf database")
		fmt.Fprintf(&b, "--- vtysh on %s (err %v):\n%s\n", r, err, out)
	}
	return b.String()
}

// tally is the per-fact count of additions and removals of some events.
type tally struct{ added, removed int }

func tallies(evs []event) map[fact]tally {
	m := map[fact]tally{}
	for _, ev := range evs {
		c := m[ev.f]
		if ev.sign > 0 {
			c.added++
		} else {
			c.removed++
		}
		m[ev.f] = c
	}
	return m
}

func netChange(evs []event) multiset {
	m := multiset{}
	for _, ev := range evs {
		m.add(ev.f, ev.sign)
	}
	return m
}

// mismatch says how evs differ from want: the net change must be want,
// and every fact not in transient must appear exactly as often as want
// says (one addition or one removal). A transient fact may also come and
// go any number of times, as long as its net change is want's.
func mismatch(evs []event, want multiset, transient []fact) string {
	var p []string
	if d := netChange(evs).minus(want); len(d) > 0 {
		p = append(p, fmt.Sprintf("net change differs from the expected one (+ extra, - missing):\n  %s", strings.Join(d.lines(), "\n  ")))
	}
	for f, c := range tallies(evs) {
		if slices.Contains(transient, f) {
			continue
		}
		w := want[f]
		if c.added != max(w, 0) || c.removed != max(-w, 0) {
			p = append(p, fmt.Sprintf("%s: added %d and removed %d times, want net %+d once", f, c.added, c.removed, w))
		}
	}
	slices.Sort(p)
	return strings.Join(p, "\n")
}

func formatEvents(evs []event) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "  %s\n", ev.line)
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}

// step changes the network with do and checks that the stream emits
// exactly want (net + added, - removed), with the facts in transient
// allowed to come and go on the way. ready, when set, must also hold
// before the events are judged complete; it returns when the quiet period
// may start. It returns the step's events.
type step struct {
	name      string
	do        func() error
	want      multiset
	transient []fact
	ready     func() (bool, time.Time)
}

func (e *e2e) run(st step) []event {
	t := e.t
	t.Helper()
	before := e.ospfd()
	mark := e.s.count()
	start := time.Now()
	if err := st.do(); err != nil {
		t.Fatalf("%s: %v", st.name, err)
	}
	var evs []event
	done := func() bool {
		var errs []string
		evs, errs = e.s.since(mark)
		if len(errs) > 0 {
			t.Fatalf("%s: invalid lines on stdout:\n%s", st.name, strings.Join(errs, "\n"))
		}
		if e.s.exited() {
			t.Fatalf("%s: the stream exited\n%s", st.name, e.diag())
		}
		if len(netChange(evs).minus(st.want)) != 0 {
			return false
		}
		after := time.Now()
		if st.ready != nil {
			ok, from := st.ready()
			if !ok {
				return false
			}
			after = from
		}
		last := start
		if len(evs) > 0 {
			last = evs[len(evs)-1].at
		}
		return time.Since(last) >= e2eQuiet && time.Now().After(after)
	}
	waitUntil(t, e2eStepTimeout, st.name+": its events", done, func() string {
		return fmt.Sprintf("want (net):\n  %s\ngot:\n%s%s\n%s", strings.Join(st.want.lines(), "\n  "),
			formatEvents(evs), mismatch(evs, st.want, st.transient), e.diag())
	})
	if m := mismatch(evs, st.want, st.transient); m != "" {
		t.Fatalf("%s: %s\nevents:\n%s%s", st.name, m, formatEvents(evs), e.diag())
	}
	for _, ev := range evs {
		if ev.ts.Before(start.Add(-e2eClockSlack)) || ev.ts.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: timestamp %v of %s is not within the step (started %v)", st.name, ev.ts, ev.f, start)
		}
	}
	// ospfd itself must agree that this is what changed.
	got := e.ospfd().events(frrlab.Backbone.String()).minus(before.events(frrlab.Backbone.String()))
	if d := got.minus(st.want); len(d) > 0 {
		t.Errorf("%s: ospfd's own LSDB changed differently from the expected events (+ ospfd only, - expected only):\n  %s",
			st.name, strings.Join(d.lines(), "\n  "))
	}
	t.Logf("%s: %d events in %v:\n%s", st.name, len(evs), time.Since(start).Round(time.Millisecond), formatEvents(evs))
	return evs
}

// only returns the facts of g's backbone that match keep.
func only(g *graph, keep func(fact) bool) []fact {
	var out []fact
	for f := range g.events(frrlab.Backbone.String()) {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

func changes(sign int, fs ...fact) multiset {
	m := multiset{}
	for _, f := range fs {
		m.add(f, sign)
	}
	return m
}

func withMetric(fs []fact, metric uint32) []fact {
	out := slices.Clone(fs)
	for i := range out {
		out[i].Metric = metric
	}
	return out
}

// snapshotOf runs `ospf-operator snapshot` against router's ospfd from
// inside its namespace and returns the parsed, validated snapshot and the
// command's stderr.
func snapshotOf(t *testing.T, l *frrlab.Lab, bin, router string) (*lsdb.Snapshot, string) {
	t.Helper()
	r, err := l.Router(router)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := l.ExecContext(ctx, router, bin, "snapshot", "--server", r.ID.String())
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("snapshot of %s: %v\n%s", router, err, stderr.String())
	}
	if err := schemavalidate.ValidateMultiAreaSnapshot(stdout.Bytes()); err != nil {
		t.Errorf("snapshot of %s: %v", router, err)
	}
	s, err := lsdb.ParseSnapshot(stdout.Bytes())
	if err != nil {
		t.Fatalf("snapshot of %s: %v", router, err)
	}
	return s, stderr.String()
}

// compareWithOSPFD checks that our snapshot of router and ospfd's own
// `show ip ospf database ... json` describe the same graph, link by link.
// ospfd is asked before and after the snapshot; it must not have changed
// in between.
func compareWithOSPFD(t *testing.T, l *frrlab.Lab, bin, router string) *graph {
	t.Helper()
	db1, err := l.OSPFDatabaseJSON(router)
	if err != nil {
		t.Fatal(err)
	}
	snap, stderr := snapshotOf(t, l, bin, router)
	db2, err := l.OSPFDatabaseJSON(router)
	if err != nil {
		t.Fatal(err)
	}
	want, again := ospfdGraph(db1), ospfdGraph(db2)
	if !cmp.Equal(want, again, cmp.AllowUnexported(graph{})) {
		t.Fatalf("%s's LSDB changed while the snapshot ran", router)
	}
	if strings.Contains(stderr, "did not deliver") {
		t.Errorf("snapshot of %s reports missing Router-LSAs:\n%s", router, stderr)
	}
	got := snapshotGraph(snap)
	if diff := cmp.Diff(want.routers, got.routers); diff != "" {
		t.Errorf("routers per area of the snapshot of %s (-ospfd +ours):\n%s", router, diff)
	}
	areas := map[string]bool{}
	for a := range want.facts {
		areas[a] = true
	}
	for a := range got.facts {
		areas[a] = true
	}
	for a := range areas {
		if d := got.facts[a].minus(want.facts[a]); len(d) > 0 {
			t.Errorf("area %s of the snapshot of %s differs from ospfd's LSDB (+ ours only, - ospfd only):\n  %s",
				a, router, strings.Join(d.lines(), "\n  "))
		}
	}
	return got
}

// TestE2EStreamFRR attaches `ospf-operator stream` to r1 of the FRR lab,
// changes the network through vtysh and checks that exactly the events each
// change implies come out, then that `snapshot` agrees with ospfd.
func TestE2EStreamFRR(t *testing.T) {
	l := frrlab.Start(t, frrlab.Options{})
	bin := buildOperator(t)
	topo := l.Topology()
	id := func(name string) string {
		r, err := l.Router(name)
		if err != nil {
			t.Fatal(err)
		}
		return r.ID.String()
	}
	r1, r2, r3, r4 := id("r1"), id("r2"), id("r3"), id("r4")

	initial := compareWithOSPFD(t, l, bin, "r1")
	if t.Failed() {
		t.FailNow()
	}

	s := startStream(t, l, bin, "r1", "--holddown", e2eHoldDown.String())
	e := &e2e{t: t, l: l, router: "r1", s: s, diagRouters: []string{"r1", "r2", "r3"}}
	waitUntil(t, 30*time.Second, "LSDB loaded", func() bool { return strings.Contains(s.stderr.String(), "LSDB loaded") }, e.diag)
	if evs, _ := s.since(0); len(evs) > 0 {
		t.Fatalf("events for the first load:\n%s", formatEvents(evs))
	}
	for _, bad := range []string{"level=WARN", "level=ERROR"} {
		if strings.Contains(s.stderr.String(), bad) {
			t.Errorf("stream logged %s on the first load:\n%s", bad, s.stderr.String())
		}
	}
	var all []event

	// a. A cost change on r2's point-to-point link to r3 (a /30, so also
	// a stub): r2's two links over it are replaced with the new metric.
	p2p, _ := topo.Link("r2-r3")
	ifR2R3, _ := topo.Interface("r2", "r2-r3")
	const cost = 47
	onLink := func(router, peer string) func(fact) bool {
		return func(f fact) bool {
			return f.Entity == "router" && f.ID == router &&
				(f.Kind == "router" && f.Link == peer || f.Kind == "stubnet" && f.Link == p2p.Prefix.String())
		}
	}
	g := e.ospfd()
	r2Old := only(g, onLink(r2, r3))
	if len(r2Old) != 2 {
		t.Fatalf("r2's links over r2-r3 in ospfd's LSDB: %v, want a router and a stub link", r2Old)
	}
	r3Link := only(g, onLink(r3, r2))
	all = append(all, e.run(step{
		name: "a. cost of r2-r3 on r2 set to 47",
		do:   func() error { return l.Configure("r2", "interface "+ifR2R3, fmt.Sprintf("ip ospf cost %d", cost)) },
		want: changes(-1, r2Old...).minus(changes(-1, withMetric(r2Old, cost)...)),
	})...)
	r2Link := withMetric(r2Old, cost)

	// b. A static route on the ASBR r4, which redistributes statics: an
	// external route of r4 with the metric and type of its others; then
	// removed, after the hold-down.
	static := netip.MustParsePrefix("192.168.43.0/24")
	if slices.Contains(topo.Statics["r4"], static) {
		t.Fatalf("%s is already one of r4's statics", static)
	}
	r4Ext := only(g, func(f fact) bool { return f.ID == r4 && f.Kind == "external" })
	if len(r4Ext) == 0 {
		t.Fatal("r4 has no external route in ospfd's LSDB")
	}
	ext := r4Ext[0]
	ext.Link = static.String()
	all = append(all, e.run(step{
		name: "b1. static route added on r4",
		do:   func() error { return l.Configure("r4", "ip route "+static.String()+" Null0") },
		want: changes(1, ext),
	})...)
	all = append(all, e.run(step{
		name: "b2. static route removed on r4",
		do:   func() error { return l.Configure("r4", "no ip route "+static.String()+" Null0") },
		want: changes(-1, ext),
	})...)

	// c. Interfaces down and up. A veth end that goes down takes its
	// peer's carrier with it: both routers lose their links over r2-r3.
	p2pLinks := append(slices.Clone(r2Link), r3Link...)
	all = append(all, e.run(step{
		name: "c1. r2's interface to r3 shut down",
		do:   func() error { return l.Configure("r2", "interface "+ifR2R3, "shutdown") },
		want: changes(-1, p2pLinks...),
	})...)
	all = append(all, e.run(step{
		name: "c2. r2's interface to r3 up again",
		do:   func() error { return l.Configure("r2", "interface "+ifR2R3, "no shutdown") },
		want: changes(1, p2pLinks...),
	})...)

	// On the LAN, r2 leaves: its transit link goes and the DR's
	// Network-LSA no longer lists it. When it comes back its interface is
	// first in the Waiting state, where a router describes the LAN as a
	// stub (RFC 2328 12.4.1.2), until it is adjacent to the DR.
	lan, _ := topo.Link("lan")
	ifLAN, _ := topo.Interface("r2", "lan")
	g = e.ospfd()
	r2LAN := only(g, func(f fact) bool {
		return f.Entity == "router" && f.ID == r2 && f.Kind == "network" && f.Link == lan.Prefix.String() ||
			f.Entity == "network" && f.ID == lan.Prefix.String() && f.Link == r2
	})
	if len(r2LAN) != 2 {
		t.Fatalf("r2 on the LAN in ospfd's LSDB: %v, want its transit link and its membership", r2LAN)
	}
	var lanStub []fact
	for _, f := range r2LAN {
		if f.Entity == "router" {
			f.Kind = "stubnet"
			lanStub = append(lanStub, f)
		}
	}
	// FRR 8.4 surprises here: as r2's interface goes down, ospfd drops
	// its neighbours, elects itself DR of what is left and floods a
	// Network-LSA of its own for the LAN (over its other links) before it
	// flushes it. That LSA is newer than the DR's, but no other router's
	// transit link names it, so it is not the LAN's network: the other
	// members stay, and only r2 leaves.
	all = append(all, e.run(step{
		name: "c3. r2's LAN interface shut down",
		do:   func() error { return l.Configure("r2", "interface "+ifLAN, "shutdown") },
		want: changes(-1, r2LAN...),
	})...)
	all = append(all, e.run(step{
		name:      "c4. r2's LAN interface up again",
		do:        func() error { return l.Configure("r2", "interface "+ifLAN, "no shutdown") },
		want:      changes(1, r2LAN...),
		transient: lanStub,
	})...)

	// d. Restart of the ospfd the stream is attached to. The client loses
	// the session, reconnects and resyncs; the network ends as it was, so
	// the net change is nothing. The restarted ospfd re-originates its
	// LSAs with new sequence numbers (no event), and until its adjacency
	// with r2 is Full again r1 and r2 describe each other without their
	// point-to-point links: only those links (and r1's own LSA, which may
	// be missing from a dump taken right after the start) may come and go.
	g = e.ospfd()
	restartTransient := only(g, func(f fact) bool {
		return f.Entity == "router" && (f.ID == r1 || f.Kind == "router" && f.Link == r1)
	})
	sessionsEnded := strings.Count(s.stderr.String(), "OSPF API session ended")
	var resyncedAt time.Time
	evs := e.run(step{
		name: "d. r1's ospfd restarted",
		do: func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := l.RestartDaemon(ctx, "r1", "ospfd"); err != nil {
				return err
			}
			return l.WaitConverged(ctx)
		},
		want:      multiset{},
		transient: restartTransient,
		ready: func() (bool, time.Time) {
			log := s.stderr.String()
			if strings.Count(log, "OSPF API session ended") <= sessionsEnded ||
				!strings.Contains(log[strings.LastIndex(log, "OSPF API session ended"):], "LSDB resynced") {
				return false, time.Time{}
			}
			if resyncedAt.IsZero() {
				resyncedAt = time.Now()
			}
			// Withdrawals the resync held down are published after the
			// hold-down: wait past it for any that would not be cancelled.
			return true, resyncedAt.Add(e2eHoldDown + time.Second)
		},
	})
	all = append(all, evs...)
	t.Logf("d: %d transient events while r1 and r2 became adjacent again", len(evs))
	resync := regexp.MustCompile(`msg="LSDB resynced".* events=(\d+)`).FindStringSubmatch(s.stderr.String())
	if resync == nil {
		t.Errorf("no resync line with its event count:\n%s", s.stderr.String())
	}

	// The stream's whole output, applied to the first snapshot, gives the
	// last one; and that one is ospfd's LSDB.
	final := compareWithOSPFD(t, l, bin, "r1")
	bb := frrlab.Backbone.String()
	if d := final.facts[bb].minus(initial.facts[bb]).minus(netChange(all)); len(d) > 0 {
		t.Errorf("first snapshot + all events != last snapshot (+ unexplained by the events):\n  %s", strings.Join(d.lines(), "\n  "))
	}
	if log := s.stderr.String(); strings.Contains(log, "LSA rejected") || strings.Contains(log, "did not deliver") {
		t.Errorf("stream logged rejected or missing LSAs:\n%s", log)
	}
}

// TestE2EOversizedRouterLSA reproduces FRR's 1,500-byte limit: r2 with 130
// more stub networks has a Router-LSA ospfd never sends to an API client.
// `snapshot` against r1 warns on stderr naming r2 as missing, and the
// stream's metric counts it.
func TestE2EOversizedRouterLSA(t *testing.T) {
	const big, stubs = "r2", 130
	l := frrlab.Start(t, frrlab.Options{ExtraStubs: map[string]int{big: stubs}})
	bin := buildOperator(t)
	rb, _ := l.Router(big)

	// The premise, from ospfd itself: r2's Router-LSA is in r1's LSDB and
	// too large for an API message.
	db, err := l.OSPFDatabaseJSON("r1")
	if err != nil {
		t.Fatal(err)
	}
	var lsa *frrlab.RouterLSA
	for i, r := range db.Areas[frrlab.Backbone].Router {
		if r.AdvRouter == rb.ID {
			lsa = &db.Areas[frrlab.Backbone].Router[i]
		}
	}
	if lsa == nil || len(lsa.Links) < stubs || lsa.Length <= 1500 {
		t.Fatalf("r1's copy of r2's Router-LSA: %+v, want more than %d links and 1,500 bytes", lsa, stubs)
	}

	snap, stderr := snapshotOf(t, l, bin, "r1")
	warn := regexp.MustCompile(`level=WARN msg="ospfd did not deliver the Router-LSA[^"]*" count=(\d+) missing="([^"]*)"`).FindStringSubmatch(stderr)
	if warn == nil {
		t.Fatalf("snapshot's stderr has no missing Router-LSA warning:\n%s", stderr)
	}
	named := rb.ID.String() + " (area 0.0.0.0, "
	if !strings.Contains(warn[2], named) {
		t.Errorf("the warning names %q, want %s among them", warn[2], named)
	}
	// Those said to reference r2 must do so in ospfd's own LSDB: a
	// point-to-point link to it, or the DR of a network it is on. (Which of
	// them are named depends on which other LSAs FRR lost with r2's.)
	g := ospfdGraph(db).facts[frrlab.Backbone.String()]
	var refs []string
	for f := range g {
		switch {
		case f.Entity == "router" && f.Kind == "router" && f.Link == rb.ID.String():
			refs = append(refs, f.ID)
		case f.Entity == "network" && f.Kind == "router" && f.Link == rb.ID.String():
			for d := range g {
				if d.Entity == "network" && d.ID == f.ID && d.Kind == "dr" {
					refs = append(refs, d.Link)
				}
			}
		}
	}
	if m := regexp.MustCompile(regexp.QuoteMeta(named) + `referenced by ([0-9.,]+)\)`).FindStringSubmatch(warn[2]); m == nil {
		t.Errorf("the warning does not say who references %s: %s", big, warn[2])
	} else {
		for _, r := range strings.Split(m[1], ",") {
			if !slices.Contains(refs, r) {
				t.Errorf("the warning says %s references %s; in ospfd's LSDB only %v do", r, big, refs)
			}
		}
	}
	if a := snap.Areas[frrlab.Backbone.String()]; a != nil {
		if r := a.Routers[rb.ID.String()]; r != nil && (len(r.Links.Stubnet) > 0 || len(r.Links.Router) > 0) {
			t.Errorf("the snapshot has links of %s, whose Router-LSA cannot have arrived: %+v", big, r.Links)
		}
	}
	n, _ := strconv.Atoi(warn[1])
	if got := len(strings.Split(warn[2], "; ")); got != n {
		t.Errorf("warning count=%d but %d routers listed: %s", n, got, warn[2])
	}
	t.Logf("missing: %s", warn[2])

	// The stream reports the same routers in its metric.
	const metricsAddr = "127.0.0.1:9679"
	s := startStream(t, l, bin, "r1", "--metrics-listen", metricsAddr)
	waitUntil(t, 30*time.Second, "LSDB loaded", func() bool { return strings.Contains(s.stderr.String(), "LSDB loaded") },
		func() string { return s.stderr.String() })
	if !strings.Contains(s.stderr.String(), named) {
		t.Errorf("stream's log does not name %s as missing:\n%s", named, s.stderr.String())
	}
	var body string
	waitUntil(t, 10*time.Second, "the metrics", func() bool {
		body, err = getInNamespace(l, "r1", "http://"+metricsAddr+"/metrics")
		return err == nil
	}, func() string { return fmt.Sprintf("%v\n%s", err, s.stderr.String()) })
	m := regexp.MustCompile(`(?m)^ospf_operator_lsdb_missing_router_lsas (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no ospf_operator_lsdb_missing_router_lsas in /metrics:\n%s", body)
	}
	if m[1] != warn[1] {
		t.Errorf("ospf_operator_lsdb_missing_router_lsas %s, want %s as snapshot reported", m[1], warn[1])
	}
}

// getInNamespace fetches url from inside router's network namespace.
func getInNamespace(l *frrlab.Lab, router, url string) (string, error) {
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := l.InNamespace(router, func() error {
			var err error
			c, err = (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}
