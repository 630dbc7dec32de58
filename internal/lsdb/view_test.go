package lsdb_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// TestViewCarriesWhatTheSnapshotCannot checks the fields that the seed's
// snapshot format has no place for: flags, the DR's interface address,
// tags, forwarding addresses and NSSA areas, each read from the LSAs.
func TestViewCarriesWhatTheSnapshotCannot(t *testing.T) {
	h := newHarness(t, 0)
	abr := router("10.0.0.1", p2p("10.0.0.2", 10), transit("10.1.0.5", "10.1.0.1", 5))
	abr.Flags = ospf.RouterFlagB | ospf.RouterFlagE | ospf.RouterFlagV
	x := external("10.0.0.1", "198.51.100.0/24", 20, true, "10.1.0.9")
	x.Tag = 4242
	nssa := external("10.0.0.3", "203.0.113.0/25", 7, false, "")
	nssa.Type, nssa.Tag = ospf.NSSAExternalLSAType, 99
	h.load(area0, abr, router("10.0.0.2", p2p("10.0.0.1", 10), transit("10.1.0.5", "10.1.0.2", 5)),
		network("10.1.0.5", "10.0.0.2", 24, "10.0.0.1", "10.0.0.2"), x)
	h.update(area1, router("10.0.0.3", stub("10.3.0.0/16", 1)), 0)
	h.update(area1, nssa, 0)
	h.events()

	v := h.db.View()
	a0, a1 := v.Area(area0), v.Area(area1)
	if a0 == nil || a1 == nil || v.Area(ip("0.0.0.9")) != nil {
		t.Fatalf("areas: %+v", v.Areas)
	}
	r1 := a0.Router(ip("10.0.0.1"))
	if r1 == nil || !r1.HasLSA || r1.Flags != ospf.RouterFlagB|ospf.RouterFlagE|ospf.RouterFlagV {
		t.Fatalf("router 10.0.0.1: %+v", r1)
	}
	if r2 := a0.Router(ip("10.0.0.2")); r2 == nil || r2.Flags != 0 || len(r2.Links) != 2 {
		t.Fatalf("router 10.0.0.2: %+v", r2)
	}
	n := a0.Network(netip.MustParsePrefix("10.1.0.0/24"))
	if n == nil || n.DR != ip("10.0.0.2") || n.DRAddr != ip("10.1.0.5") || len(n.Routers) != 2 {
		t.Fatalf("network: %+v", n)
	}
	// Arrival indexes: the LSAs in the order they came.
	if r1.LSAOrder != 1 || n.Order != 3 {
		t.Errorf("arrival indexes: router 10.0.0.1's LSA %d, network %d; want 1 and 3", r1.LSAOrder, n.Order)
	}
	want := lsdb.Route{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Metric: 20, Type2: true, Forward: ip("10.1.0.9"), Tag: 4242, Order: 4}
	if len(r1.Externals) != 1 || r1.Externals[0] != want {
		t.Fatalf("externals: %+v, want %+v", r1.Externals, want)
	}
	r3 := a1.Router(ip("10.0.0.3"))
	wantN := lsdb.Route{Prefix: netip.MustParsePrefix("203.0.113.0/25"), Metric: 7, Tag: 99, Area: area1, Order: 6}
	if r3 == nil || len(r3.NSSA) != 1 || r3.NSSA[0] != wantN {
		t.Fatalf("router 10.0.0.3: %+v, want NSSA %+v", r3, wantN)
	}
	// The snapshot is a rendering of the view.
	s := v.Snapshot()
	if got := s.Areas["0.0.0.0"].Networks["10.1.0.0/24"].DR; got != "10.0.0.2" {
		t.Errorf("snapshot DR %q", got)
	}
	if got := s.Areas["0.0.0.0"].Routers["10.0.0.1"].Links.External[0].Via; got != "10.1.0.9" {
		t.Errorf("snapshot via %q", got)
	}
}

// TestStateRecordsCarryWhatNoEventShows changes only what the seed's events
// cannot describe: a router's flags, an external's tag, a router whose
// Router-LSA has no links, a DR that moves to another interface address
// with the same members. The seed's stream sees nothing; a replica that
// follows the state records ends with the database's view.
func TestStateRecordsCarryWhatNoEventShows(t *testing.T) {
	h := newHarness(t, 0)
	r1 := router("10.0.0.1", p2p("10.0.0.2", 10), transit("10.1.0.1", "10.1.0.1", 5))
	x := external("10.0.0.1", "198.51.100.0/24", 20, false, "")
	h.load(area0, r1, router("10.0.0.2", p2p("10.0.0.1", 10), transit("10.1.0.1", "10.1.0.2", 5)),
		network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"), x)

	r1.Flags = ospf.RouterFlagE
	x.Tag = 7
	h.update(area0, r1, 0)
	h.update(area0, x, 0)
	h.update(area0, router("10.0.0.9"), 0)
	if evs := h.events(); len(evs) != 0 {
		t.Fatalf("the seed's stream got %q", evs)
	}
	last := h.db.Feed().LastSeq()
	if last == 0 {
		t.Fatal("no state records were published")
	}
	v := h.db.View()
	if v.Seq != last {
		t.Fatalf("view at %d, feed at %d", v.Seq, last)
	}
	if r := v.Area(area0).Router(ip("10.0.0.9")); r == nil || !r.HasLSA || len(r.Links) != 0 {
		t.Fatalf("router without links: %+v", r)
	}
	if d := viewDiff(h.replicaView(), v); d != "" {
		t.Fatalf("replica (-) differs from the database (+):\n%s", d)
	}

	// The DR moves to 10.0.0.2's interface; the network's prefix and
	// members stay, so its events are only the DR's, which the seed's
	// format does not carry.
	h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 10), transit("10.1.0.2", "10.1.0.1", 5)), 0)
	h.update(area0, router("10.0.0.2", p2p("10.0.0.1", 10), transit("10.1.0.2", "10.1.0.2", 5)), 0)
	h.update(area0, network("10.1.0.2", "10.0.0.2", 24, "10.0.0.1", "10.0.0.2"), 0)
	h.update(area0, network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"), ospf.MaxAge)
	h.events()
	v = h.db.View()
	if n := v.Area(area0).Network(netip.MustParsePrefix("10.1.0.0/24")); n == nil || n.DR != ip("10.0.0.2") || n.DRAddr != ip("10.1.0.2") {
		t.Fatalf("network after the DR change: %+v", n)
	}
	if d := viewDiff(h.replicaView(), v); d != "" {
		t.Fatalf("replica (-) differs from the database (+) after the DR change:\n%s", d)
	}
}

// TestReplicaRefusesAGap checks that a replica never applies a change after
// a lost one, and says which are missing.
func TestReplicaRefusesAGap(t *testing.T) {
	h := newHarness(t, 0)
	h.load(area0, router("10.0.0.1", p2p("10.0.0.2", 10)))
	rep := lsdb.NewReplica(h.db.View())
	sub, err := h.db.Feed().SubscribeAll(rep.Seq())
	if err != nil {
		t.Fatal(err)
	}
	h.update(area0, router("10.0.0.1", p2p("10.0.0.2", 20)), 0)
	h.events()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	evs, err := sub.Read(ctx, nil)
	if err != nil || len(evs) < 2 {
		t.Fatalf("read %d changes: %v", len(evs), err)
	}
	err = rep.Apply(evs[1:]...)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("applying after a gap: %v", err)
	}
	if rep.Seq() != h.db.View().Seq-uint64(len(evs)) {
		t.Fatalf("the replica moved to %d", rep.Seq())
	}
	if err := rep.Apply(evs...); err != nil {
		t.Fatal(err)
	}
	if d := viewDiff(rep.View(time.Time{}), h.db.View()); d != "" {
		t.Fatalf("replica (-) differs from the database (+):\n%s", d)
	}
}

// TestOneRouteChangeIsOneSmallRecord: a change of one of an ASBR's many
// externals publishes one record of that route, not the router's whole
// state, and a replica still ends with the database's view.
func TestOneRouteChangeIsOneSmallRecord(t *testing.T) {
	h := newHarness(t, 0)
	var lsas []ospf.LSA
	lsas = append(lsas, router("10.0.0.1", stub("10.1.0.0/24", 1)))
	for i := range 2000 {
		lsas = append(lsas, external("10.0.0.1", netip.PrefixFrom(netip.AddrFrom4([4]byte{172, 16 + byte(i/256), byte(i), 0}), 24).String(), 10, true, ""))
	}
	h.load(area0, lsas...)
	before := h.db.Feed().LastSeq()
	x := external("10.0.0.1", "172.16.7.0/24", 11, true, "")
	h.update(area0, x, 0)
	h.events()
	sub, err := h.db.Feed().SubscribeAll(before)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	evs, err := sub.Read(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var records []lsdb.Event
	for _, ev := range evs {
		if ev.IsState() {
			records = append(records, ev)
		}
	}
	if len(records) != 1 || records[0].Entity != lsdb.EntityRouteState ||
		records[0].RouteID != (lsdb.RouteID{Type: ospf.ASExternalLSAType, Prefix: netip.MustParsePrefix("172.16.7.0/24")}) {
		t.Fatalf("records %+v, want one of the route 172.16.7.0/24", records)
	}
	if n := len(records[0].AppendEnvelope(nil)); n > 300 {
		t.Fatalf("the record takes %d bytes", n)
	}
	if d := viewDiff(h.replicaView(), h.db.View()); d != "" {
		t.Fatalf("replica (-) differs from the database (+):\n%s", d)
	}
}

// TestViewFromSnapshot reads the snapshot of a view back as a view: the
// same but for what the seed's format has no place for.
func TestViewFromSnapshot(t *testing.T) {
	h := richDB(t)
	want := h.db.View()
	got, err := lsdb.ViewFromSnapshot(want.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	// What the snapshot cannot say.
	strip := func(v *lsdb.View) {
		for i := range v.Areas {
			a := &v.Areas[i]
			for j := range a.Routers {
				r := &a.Routers[j]
				r.Flags = 0
				r.HasLSA = len(r.Links) > 0 || len(r.Externals)+len(r.NSSA)+len(r.Summaries) == 0
				for k := range r.Externals {
					r.Externals[k].Tag = 0
				}
				for k := range r.NSSA {
					r.NSSA[k].Tag = 0
				}
			}
			for j := range a.Networks {
				a.Networks[j].DRAddr = netip.Addr{}
			}
		}
	}
	strip(want)
	if d := viewDiff(withoutOrders(got), withoutOrders(want)); d != "" {
		t.Fatalf("(-read +view)\n%s", d)
	}
	// The arrival indexes are numbered anew, in the snapshot's order.
	s1, s2 := got.Snapshot(), want.Snapshot()
	s1.Updated, s2.Updated = 0, 0
	if a, b := string(s1.AppendJSON(nil)), string(s2.AppendJSON(nil)); a != b {
		t.Fatalf("the view read from a snapshot writes another one:\n%s\nwant:\n%s", a, b)
	}
	bad := want.Snapshot()
	bad.Areas["0.0.0.0"].Routers["10.0.0.1"].Links.Router[0].ID = "10.0.0"
	if _, err := lsdb.ViewFromSnapshot(bad); err == nil || !strings.Contains(err.Error(), "router 10.0.0.1") {
		t.Fatalf("a bad router link: %v", err)
	}
}
