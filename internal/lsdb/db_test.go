package lsdb_test

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

var (
	area0 = netip.MustParseAddr("0.0.0.0")
	area1 = netip.MustParseAddr("0.0.0.1")
	t0    = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// clock is a settable test clock.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// harness drives a DB the way the mirror does, with LSAs built in tests.
type harness struct {
	t     *testing.T
	db    *lsdb.DB
	clk   *clock
	seqs  map[ospf.Key]int32
	sub   *lsdb.Subscription
	areaO map[ospf.Key]netip.Addr
	// rep follows the feed, state records included, from the first load.
	rep *lsdb.Replica
	all *lsdb.Subscription
}

func newHarness(t *testing.T, hold time.Duration) *harness {
	t.Helper()
	clk := &clock{now: t0}
	db := lsdb.New(lsdb.Config{HoldDown: hold, Now: clk.Now})
	return &harness{t: t, db: db, clk: clk, seqs: map[ospf.Key]int32{}, areaO: map[ospf.Key]netip.Addr{}}
}

// load applies a first dump and subscribes to the feed after it.
func (h *harness) load(area netip.Addr, lsas ...ospf.LSA) {
	h.t.Helper()
	h.db.BeginSync()
	for _, l := range lsas {
		h.update(area, l, 0)
	}
	h.db.EndSync()
	sub, err := h.db.Feed().Subscribe(h.db.Feed().LastSeq())
	if err != nil {
		h.t.Fatal(err)
	}
	h.sub = sub
	v := h.db.View()
	if h.all, err = h.db.Feed().SubscribeAll(v.Seq); err != nil {
		h.t.Fatal(err)
	}
	h.rep = lsdb.NewReplica(v)
}

// replicaView applies to the replica what the feed published since the
// last call, state records included, and returns its view.
func (h *harness) replicaView() *lsdb.View {
	h.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		evs, err := h.all.Read(ctx, nil)
		cancel()
		if err != nil {
			break
		}
		if err := h.rep.Apply(evs...); err != nil {
			h.t.Fatal(err)
		}
	}
	return h.rep.View(h.clk.Now())
}

// raw encodes l with the next sequence number for its key (or the one set).
func (h *harness) raw(l ospf.LSA, age uint16) []byte {
	h.t.Helper()
	hd := l.Hdr()
	k := hd.Key()
	if hd.SeqNum == 0 {
		s, ok := h.seqs[k]
		if !ok {
			s = ospf.InitialSeqNum
		} else {
			s++
		}
		h.seqs[k] = s
		hd.SeqNum = s
	}
	hd.Age = age
	b, err := ospf.Marshal(l)
	if err != nil {
		h.t.Fatal(err)
	}
	hd.SeqNum = 0
	return b
}

func (h *harness) update(area netip.Addr, l ospf.LSA, age uint16) {
	h.t.Helper()
	if err := h.db.Update(area, h.raw(l, age), h.clk.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// del sends a DELETE for the instance currently held under l's key.
func (h *harness) del(area netip.Addr, l ospf.LSA) {
	h.t.Helper()
	hd := l.Hdr()
	hd.SeqNum = h.seqs[hd.Key()]
	b, err := ospf.Marshal(l)
	if err != nil {
		h.t.Fatal(err)
	}
	hd.SeqNum = 0
	if err := h.db.Delete(area, b, h.clk.Now()); err != nil {
		h.t.Fatal(err)
	}
}

// events commits and returns the JSON lines published since the last call.
func (h *harness) events() []string {
	h.t.Helper()
	h.db.Commit()
	return h.drain()
}

func (h *harness) drain() []string {
	h.t.Helper()
	var out []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		evs, err := h.sub.Read(ctx, nil)
		cancel()
		if err != nil {
			return out
		}
		for _, e := range evs {
			out = append(out, string(e.AppendJSON(nil)))
		}
	}
}

func (h *harness) expect(want ...string) {
	h.t.Helper()
	got := h.events()
	if diff := cmp.Diff(want, got, cmp.Transformer("empty", func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	})); diff != "" {
		h.t.Errorf("events (-want +got):\n%s", diff)
	}
}

// expectUnordered is expect for changes of several routers in one commit,
// whose order is not defined.
func (h *harness) expectUnordered(want ...string) {
	h.t.Helper()
	got := h.events()
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if diff := cmp.Diff(want, got, cmpEmpty); diff != "" {
		h.t.Errorf("events, sorted (-want +got):\n%s", diff)
	}
}

func hdr(t ospf.LSType, id, adv string) ospf.Header {
	return ospf.Header{Type: t, LSID: ip(id), AdvRouter: ip(adv), Options: 0x02}
}

func p2p(to string, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: ip(to), Data: ip("192.0.2.1"), Type: ospf.LinkPointToPoint, Metric: metric}
}

func stub(prefix string, metric uint16) ospf.RouterLink {
	p := netip.MustParsePrefix(prefix)
	mask := netip.AddrFrom4([4]byte(net4mask(p.Bits())))
	return ospf.RouterLink{ID: p.Addr(), Data: mask, Type: ospf.LinkStub, Metric: metric}
}

func transit(dr, self string, metric uint16) ospf.RouterLink {
	return ospf.RouterLink{ID: ip(dr), Data: ip(self), Type: ospf.LinkTransit, Metric: metric}
}

func net4mask(bits int) []byte {
	m := uint32(0)
	if bits > 0 {
		m = ^uint32(0) << (32 - bits)
	}
	return []byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}

func router(id string, links ...ospf.RouterLink) *ospf.RouterLSA {
	return &ospf.RouterLSA{Header: hdr(ospf.RouterLSAType, id, id), Links: links}
}

func network(drIf, dr string, bits int, attached ...string) *ospf.NetworkLSA {
	n := &ospf.NetworkLSA{Header: hdr(ospf.NetworkLSAType, drIf, dr), Mask: netip.AddrFrom4([4]byte(net4mask(bits)))}
	for _, a := range attached {
		n.Attached = append(n.Attached, ip(a))
	}
	return n
}

func external(adv, prefix string, metric uint32, type2 bool, via string) *ospf.ExternalLSA {
	p := netip.MustParsePrefix(prefix)
	x := &ospf.ExternalLSA{Header: hdr(ospf.ASExternalLSAType, p.Addr().String(), adv),
		Mask: netip.AddrFrom4([4]byte(net4mask(p.Bits()))), Metric: metric, Type2: type2, Forward: ip("0.0.0.0")}
	if via != "" {
		x.Forward = ip(via)
	}
	return x
}

func TestFirstLoadEmitsNothingAndSnapshots(t *testing.T) {
	h := newHarness(t, 10*time.Second)
	h.load(area0,
		router("10.0.0.1", p2p("10.0.0.2", 10), stub("10.0.0.1/32", 0)),
		router("10.0.0.2", p2p("10.0.0.1", 10)),
	)
	if got := h.events(); len(got) != 0 {
		t.Fatalf("first load published %d events: %v", len(got), got)
	}
	s, seq := h.db.Snapshot()
	if seq != 0 {
		t.Errorf("snapshot seq = %d, want 0", seq)
	}
	r1 := s.Areas["0.0.0.0"].Routers["10.0.0.1"]
	want := lsdb.Links{
		Router:  []lsdb.SnapshotLink{{ID: "10.0.0.2", Metric: 10}},
		Stubnet: []lsdb.SnapshotLink{{ID: "10.0.0.1/32", Metric: 0}},
	}
	if diff := cmp.Diff(want, r1.Links, cmpopts.IgnoreUnexported(lsdb.Links{})); diff != "" {
		t.Errorf("router 10.0.0.1 links (-want +got):\n%s", diff)
	}
}

func TestRouterLinkChanges(t *testing.T) {
	h := newHarness(t, 10*time.Second)
	h.load(area0, router("10.0.0.1", p2p("10.0.0.2", 10), p2p("10.0.0.2", 10)), router("10.0.0.2"))

	// A refresh: same content, next sequence number, other age: nothing.
	h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 10), p2p("10.0.0.2", 10)), 0)
	h.expect()

	// One of two identical parallel links goes away: a multiset change.
	h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 10)), 0)
	h.expect(`{"timestamp": 1795521600000, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"router": {"id": "10.0.0.2", "metric": 10}}}}`)

	// A metric change: removed, then added.
	h.clk.Advance(time.Second)
	h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 20)), 3)
	h.expect(
		`{"timestamp": 1795521598000, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"router": {"id": "10.0.0.2", "metric": 10}}}}`,
		`{"timestamp": 1795521598000, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"router": {"id": "10.0.0.2", "metric": 20}}}}`,
	)
}

func TestStaleUpdateIsIgnored(t *testing.T) {
	h := newHarness(t, 0)
	r := router("10.0.0.1", p2p("10.0.0.2", 10))
	r.SeqNum = 5
	h.load(area0, r)
	old := router("10.0.0.1", p2p("10.0.0.2", 99))
	old.SeqNum = 4
	h.update(area0, old, 0)
	h.expect()
	if st := h.db.Stats(); st.Stale != 1 {
		t.Errorf("Stale = %d, want 1", st.Stale)
	}
	// Same sequence number, larger checksum (unsigned): newer by RFC 2328 13.1.
	// Find a metric whose checksum is larger than the held one's.
	held := router("10.0.0.1", p2p("10.0.0.2", 10))
	held.SeqNum = 5
	hb, _ := ospf.Marshal(held)
	var newer *ospf.RouterLSA
	for m := uint16(11); m < 2000; m++ {
		c := router("10.0.0.1", p2p("10.0.0.2", m))
		c.SeqNum = 5
		cb, _ := ospf.Marshal(c)
		if c.Checksum > held.Checksum && cb != nil && hb != nil {
			newer = router("10.0.0.1", p2p("10.0.0.2", m))
			newer.SeqNum = 5
			break
		}
	}
	if newer == nil {
		t.Fatal("no metric gives a larger checksum")
	}
	h.update(area0, newer, 0)
	if got := h.events(); len(got) != 2 {
		t.Errorf("same seq, larger checksum: %d events, want 2 (it is the newer instance): %v", len(got), got)
	}
}

func TestDeleteThenUpdateReinstall(t *testing.T) {
	for _, hold := range []time.Duration{0, 10 * time.Second} {
		t.Run(hold.String(), func(t *testing.T) {
			h := newHarness(t, hold)
			h.load(area0, router("10.0.0.1", p2p("10.0.0.2", 10)), router("10.0.0.2", p2p("10.0.0.1", 10)))
			// ospfd's reinstall of an unchanged LSA (the 30-minute refresh).
			h.del(area0, router("10.0.0.1", p2p("10.0.0.2", 10)))
			h.expect()
			h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 10)), 0)
			h.expect()
			h.clk.Advance(time.Minute)
			h.db.Expire()
			h.expect()
			// A reinstall that changes the metric: only the real change.
			h.del(area0, router("10.0.0.1", p2p("10.0.0.2", 10)))
			h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 30)), 0)
			got := h.events()
			h.clk.Advance(time.Minute)
			h.db.Expire()
			got = append(got, h.drain()...)
			if len(got) != 2 || !strings.Contains(got[0], `"removed"`) || !strings.Contains(got[1], `"metric": 30`) {
				t.Errorf("events = %v, want removed metric 10 then added metric 30", got)
			}
		})
	}
}

func TestWithdrawalHoldDown(t *testing.T) {
	h := newHarness(t, 10*time.Second)
	h.load(area0, router("10.0.0.1", p2p("10.0.0.2", 10)), router("10.0.0.2", p2p("10.0.0.1", 10)))
	// Flushed, and back unchanged within the hold-down: nothing at all.
	h.del(area0, router("10.0.0.2", p2p("10.0.0.1", 10)))
	h.expect()
	h.clk.Advance(5 * time.Second)
	h.db.Expire()
	h.expect()
	h.update(area0, router("10.0.0.2", p2p("10.0.0.1", 10)), 0)
	h.clk.Advance(20 * time.Second)
	h.db.Expire()
	h.expect()

	// Flushed for good: the removal comes at the deadline, stamped with
	// the time of the withdrawal.
	withdrawn := h.clk.Now()
	h.del(area0, router("10.0.0.2", p2p("10.0.0.1", 10)))
	h.expect()
	if d, ok := h.db.NextDeadline(); !ok || !d.Equal(withdrawn.Add(10*time.Second)) {
		t.Errorf("NextDeadline = %v, %v; want %v", d, ok, withdrawn.Add(10*time.Second))
	}
	h.clk.Advance(9 * time.Second)
	h.db.Expire()
	h.expect()
	h.clk.Advance(time.Second)
	h.db.Expire()
	h.expect(`{"timestamp": ` + itoa(withdrawn.UnixMilli()) + `, "entity": {"type": "router", "id": "10.0.0.2"}, "removed": {"link": {"router": {"id": "10.0.0.1", "metric": 10}}}}`)
	if s, _ := h.db.Snapshot(); s.Areas["0.0.0.0"].Routers["10.0.0.2"] != nil {
		t.Error("withdrawn router still in the snapshot")
	}
}

func TestRouterBeforeNetworkLosesNoEvent(t *testing.T) {
	h := newHarness(t, 0)
	h.load(area0, router("10.0.0.1", p2p("10.0.0.2", 10)), router("10.0.0.2", p2p("10.0.0.1", 10)))
	// The router points at a network whose Network-LSA is not there yet.
	h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 10), transit("10.1.0.1", "10.1.0.1", 5)), 0)
	h.expect()
	h.update(area0, router("10.0.0.2", p2p("10.0.0.1", 10), transit("10.1.0.1", "10.1.0.2", 7)), 0)
	h.expect()
	h.update(area0, network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"), 0)
	h.expectUnordered(
		`{"timestamp": 1795521600000, "entity": {"type": "network", "id": "10.1.0.0/24"}, "added": {"router": "10.0.0.1"}}`,
		`{"timestamp": 1795521600000, "entity": {"type": "network", "id": "10.1.0.0/24"}, "added": {"router": "10.0.0.2"}}`,
		`{"timestamp": 1795521600000, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"network": {"id": "10.1.0.0/24", "metric": 5}}}}`,
		`{"timestamp": 1795521600000, "entity": {"type": "router", "id": "10.0.0.2"}, "added": {"link": {"network": {"id": "10.1.0.0/24", "metric": 7}}}}`,
	)
}

func TestDRChangeEmitsOnlyMembershipChanges(t *testing.T) {
	h := newHarness(t, 10*time.Second)
	h.load(area0,
		router("10.0.0.1", transit("10.1.0.1", "10.1.0.1", 5)),
		router("10.0.0.2", transit("10.1.0.1", "10.1.0.2", 5)),
		router("10.0.0.3", transit("10.1.0.1", "10.1.0.3", 5)),
		network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2", "10.0.0.3"),
	)
	// 10.0.0.1 leaves; 10.0.0.2 becomes DR with its own interface address
	// as the new LSID. The routers point at the new DR before its
	// Network-LSA arrives, and the old one is flushed later.
	h.clk.Advance(time.Second)
	h.update(area0, router("10.0.0.2", transit("10.1.0.2", "10.1.0.2", 5)), 0)
	h.update(area0, router("10.0.0.3", transit("10.1.0.2", "10.1.0.3", 5)), 0)
	h.expect()
	h.update(area0, network("10.1.0.2", "10.0.0.2", 24, "10.0.0.2", "10.0.0.3"), 0)
	h.del(area0, network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2", "10.0.0.3"))
	h.update(area0, router("10.0.0.1"), 0)
	h.clk.Advance(time.Minute)
	h.db.Expire()
	got := h.events()
	want := []string{
		`{"timestamp": 1795521601000, "entity": {"type": "network", "id": "10.1.0.0/24"}, "removed": {"router": "10.0.0.1"}}`,
		`{"timestamp": 1795521601000, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"network": {"id": "10.1.0.0/24", "metric": 5}}}}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	s, _ := h.db.Snapshot()
	if n := s.Areas["0.0.0.0"].Networks["10.1.0.0/24"]; n == nil || n.DR != "10.0.0.2" || len(n.Routers) != 2 {
		t.Errorf("network after DR change = %+v", n)
	}
}

func TestExternalChanges(t *testing.T) {
	h := newHarness(t, 0)
	h.load(area0, router("10.0.0.4"), external("10.0.0.4", "192.168.0.0/16", 20, false, ""))
	// A metric type change (E1 -> E2) with the same value is a change.
	h.update(area0, external("10.0.0.4", "192.168.0.0/16", 20, true, ""), 0)
	h.expect(
		`{"timestamp": 1795521600000, "entity": {"type": "router", "id": "10.0.0.4"}, "removed": {"link": {"external": {"id": "192.168.0.0/16", "metric": 20}}}}`,
		`{"timestamp": 1795521600000, "entity": {"type": "router", "id": "10.0.0.4"}, "added": {"link": {"external": {"id": "192.168.0.0/16", "metric2": 20}}}}`,
	)
	// So is a new forwarding address.
	h.update(area0, external("10.0.0.4", "192.168.0.0/16", 20, true, "10.9.9.9"), 0)
	h.expect(
		`{"timestamp": 1795521600000, "entity": {"type": "router", "id": "10.0.0.4"}, "removed": {"link": {"external": {"id": "192.168.0.0/16", "metric2": 20}}}}`,
		`{"timestamp": 1795521600000, "entity": {"type": "router", "id": "10.0.0.4"}, "added": {"link": {"external": {"id": "192.168.0.0/16", "metric2": 20, "via": "10.9.9.9"}}}}`,
	)
	// A route tag change alone is not in the graph: nothing.
	x := external("10.0.0.4", "192.168.0.0/16", 20, true, "10.9.9.9")
	x.Tag = 77
	h.update(area0, x, 0)
	h.expect()
}

func TestResyncEmitsOnlyRealDifferences(t *testing.T) {
	h := newHarness(t, 10*time.Second)
	lsas := []ospf.LSA{
		router("10.0.0.1", p2p("10.0.0.2", 10)),
		router("10.0.0.2", p2p("10.0.0.1", 10), p2p("10.0.0.3", 10)),
		router("10.0.0.3", p2p("10.0.0.2", 10)),
		external("10.0.0.3", "192.168.3.0/24", 20, false, ""),
	}
	h.load(area0, lsas...)
	// Reconnect: the dump has everything again with fresh ages and
	// sequence numbers, one metric changed, and 10.0.0.3's external gone.
	h.clk.Advance(time.Minute)
	h.db.BeginSync()
	h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 10)), 100)
	h.update(area0, router("10.0.0.2", p2p("10.0.0.1", 10), p2p("10.0.0.3", 15)), 100)
	h.update(area0, router("10.0.0.3", p2p("10.0.0.2", 10)), 100)
	h.expect() // nothing while the dump is in progress
	res := h.db.EndSync()
	if res.Withdrawn != 1 || res.Events != 2 {
		t.Errorf("EndSync = %+v, want 1 withdrawn, 2 events", res)
	}
	got := h.drain()
	if len(got) != 2 || !strings.Contains(got[0], `"removed": {"link": {"router": {"id": "10.0.0.3", "metric": 10}}}`) ||
		!strings.Contains(got[1], `"added": {"link": {"router": {"id": "10.0.0.3", "metric": 15}}}`) {
		t.Errorf("resync events = %v", got)
	}
	h.clk.Advance(10 * time.Second)
	h.db.Expire()
	h.expect(`{"timestamp": 1795521660000, "entity": {"type": "router", "id": "10.0.0.3"}, "removed": {"link": {"external": {"id": "192.168.3.0/24", "metric": 20}}}}`)
}

func TestMultiAreaKinds(t *testing.T) {
	h := newHarness(t, 0)
	h.db.BeginSync()
	h.update(area0, router("10.0.0.3", p2p("10.0.0.2", 10)), 0)
	h.update(area1, router("10.0.0.3", p2p("10.0.0.5", 10)), 0)
	h.update(area1, router("10.0.0.5", p2p("10.0.0.3", 10)), 0)
	h.update(area1, &ospf.SummaryLSA{Header: hdr(ospf.SummaryLSAType, "10.2.0.0", "10.0.0.3"), Mask: ip("255.255.0.0"), Metric: 30}, 0)
	h.update(area1, &ospf.SummaryLSA{Header: hdr(ospf.ASBRSummaryLSAType, "10.0.0.4", "10.0.0.3"), Mask: ip("0.0.0.0"), Metric: 20}, 0)
	h.update(area0, external("10.0.0.3", "172.16.0.0/12", 1, true, ""), 0)
	h.db.EndSync()
	s, _ := h.db.Snapshot()
	r3a1 := s.Areas["0.0.0.1"].Routers["10.0.0.3"].Links
	if diff := cmp.Diff([]lsdb.SnapshotLink{{ID: "10.2.0.0/16", Metric: 30}}, r3a1.XNetwork); diff != "" {
		t.Errorf("xnetwork (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]lsdb.SnapshotLink{{ID: "10.0.0.4", Metric: 20}}, r3a1.XRouter); diff != "" {
		t.Errorf("xrouter (-want +got):\n%s", diff)
	}
	// Externals are published once, under the lowest area the ASBR is in.
	if len(r3a1.External) != 0 || len(s.Areas["0.0.0.0"].Routers["10.0.0.3"].Links.External) != 1 {
		t.Errorf("external placement wrong: area1 %v, area0 %v", r3a1.External, s.Areas["0.0.0.0"].Routers["10.0.0.3"].Links.External)
	}
}

func TestMalformedLSAIsRejected(t *testing.T) {
	h := newHarness(t, 0)
	h.load(area0, router("10.0.0.1"))
	b := h.raw(router("10.0.0.1", p2p("10.0.0.2", 1)), 0)
	b[len(b)-1] ^= 0xff // checksum no longer matches
	if err := h.db.Update(area0, b, t0); err == nil {
		t.Fatal("Update accepted an LSA with a bad checksum")
	}
	if err := h.db.Update(area0, b[:10], t0); err == nil {
		t.Fatal("Update accepted a truncated LSA")
	}
	h.expect()
	if st := h.db.Stats(); st.Malformed != 2 {
		t.Errorf("Malformed = %d, want 2", st.Malformed)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestMissingRouters(t *testing.T) {
	h := newHarness(t, 0)
	h.load(area0,
		router("10.0.0.1", p2p("10.0.0.2", 10), p2p("10.0.0.9", 10)),
		router("10.0.0.2", p2p("10.0.0.1", 10), p2p("10.0.0.9", 10)),
		network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.8"),
	)
	got := h.db.MissingRouters(ip("10.0.0.7"))
	var strs []string
	for _, m := range got {
		strs = append(strs, m.String())
	}
	want := []string{
		"10.0.0.7 (area 0.0.0.0, the local router)",
		"10.0.0.8 (area 0.0.0.0, referenced by 10.0.0.1)",
		"10.0.0.9 (area 0.0.0.0, referenced by 10.0.0.1,10.0.0.2)",
	}
	if diff := cmp.Diff(want, strs); diff != "" {
		t.Errorf("MissingRouters (-want +got):\n%s", diff)
	}
	h.update(area0, router("10.0.0.9", p2p("10.0.0.1", 10)), 0)
	h.update(area0, router("10.0.0.8"), 0)
	h.update(area0, router("10.0.0.7"), 0)
	h.db.Commit()
	if got := h.db.MissingRouters(ip("10.0.0.7")); len(got) != 0 {
		t.Errorf("MissingRouters after the LSAs arrived = %v, want none", got)
	}
}

func TestNetworkEventsCarryTheDR(t *testing.T) {
	h := newHarness(t, 0)
	h.load(area0,
		router("10.0.0.1", transit("10.1.0.1", "10.1.0.1", 5)),
		router("10.0.0.2", transit("10.1.0.1", "10.1.0.2", 5)),
	)
	h.update(area0, network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"), 0)
	h.db.Commit()
	drs := func() map[string]string {
		got := map[string]string{}
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			evs, err := h.sub.Read(ctx, nil)
			cancel()
			if err != nil {
				return got
			}
			for _, e := range evs {
				if e.Entity == lsdb.EntityNetwork {
					got[e.Member.String()] = e.DR.String()
				}
			}
		}
	}
	if diff := cmp.Diff(map[string]string{"10.0.0.1": "10.0.0.1", "10.0.0.2": "10.0.0.1"}, drs()); diff != "" {
		t.Errorf("DR of the attach events (-want +got):\n%s", diff)
	}
	h.del(area0, network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"))
	h.clk.Advance(2 * time.Second)
	h.db.Expire()
	h.db.Commit()
	if diff := cmp.Diff(map[string]string{"10.0.0.1": "invalid IP", "10.0.0.2": "invalid IP"}, drs()); diff != "" {
		t.Errorf("DR of the detach events of a network that left (-want +got):\n%s", diff)
	}
}
