package lsdb_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// The LAN of FRR's lab: 10.1.100.0/24, DR r3, members r2, r3 and r4.
const (
	lanR2, lanR3, lanR4 = "10.1.100.2", "10.1.100.3", "10.1.100.4"
	rid2, rid3, rid4    = "10.0.0.2", "10.0.0.3", "10.0.0.4"
)

// lanNetwork is the network of the LAN in the snapshot.
func lanNetwork(t *testing.T, h *harness) *lsdb.NetworkSnapshot {
	t.Helper()
	s, _ := h.db.Snapshot()
	a := s.Areas["0.0.0.0"]
	if a == nil {
		return nil
	}
	return a.Networks["10.1.100.0/24"]
}

// TestSelfElectedNetworkIsNotTheNetwork replays what FRR 8.4.4 does when
// r2 shuts its LAN interface: r2 elects itself DR for a moment and floods
// a Network-LSA of its own for the LAN, newer than the DR's, that the other
// routers' transit links do not name; then r2 leaves the LAN and flushes
// it. Only r2 leaves: r3 and r4 never do, and the DR stays r3.
func TestSelfElectedNetworkIsNotTheNetwork(t *testing.T) {
	for _, tc := range []struct {
		name string
		// listed are the routers r2's own Network-LSA lists.
		listed []string
		// r2Points: r2's Router-LSA names its own LSA during the transient.
		r2Points bool
		// flushFirst: r2's LSA is flushed before r3's reorigination.
		flushFirst bool
		hold       time.Duration
	}{
		{name: "alone", listed: []string{rid2}},
		{name: "alone, r2 points at it", listed: []string{rid2}, r2Points: true},
		{name: "with all", listed: []string{rid2, rid3, rid4}, r2Points: true},
		{name: "with all, flushed first", listed: []string{rid2, rid3, rid4}, r2Points: true, flushFirst: true},
		{name: "alone, hold-down", listed: []string{rid2}, r2Points: true, hold: 10 * time.Second},
		{name: "with all, flushed first, hold-down", listed: []string{rid2, rid3, rid4}, flushFirst: true, hold: 10 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.hold)
			dr := network(lanR3, rid3, 24, rid2, rid3, rid4)
			h.load(area0,
				router(rid2, transit(lanR3, lanR2, 10), stub("10.0.23.0/30", 10)),
				router(rid3, transit(lanR3, lanR3, 10)),
				router(rid4, transit(lanR3, lanR4, 10)),
				dr,
			)
			drIs := func(step, want string, members ...string) {
				t.Helper()
				n := lanNetwork(t, h)
				if n == nil || n.DR != want || !slices.Equal(n.Routers, members) {
					t.Errorf("%s: LAN in the snapshot = %+v, want DR %s with %v", step, n, want, members)
				}
			}
			settle := func() {
				h.clk.Advance(tc.hold + time.Second)
				h.db.Expire()
			}

			// r2's own Network-LSA: newer than r3's, yet nobody else points at it.
			h.clk.Advance(time.Second)
			own := network(lanR2, rid2, 24, tc.listed...)
			h.update(area0, own, 0)
			if tc.r2Points {
				h.update(area0, router(rid2, transit(lanR2, lanR2, 10), stub("10.0.23.0/30", 10)), 0)
			}
			h.expect()
			drIs("r2 self-elected", rid3, rid2, rid3, rid4)

			// r2's interface is down: its Router-LSA has no transit link.
			left := itoa(h.clk.Now().UnixMilli())
			h.update(area0, router(rid2, stub("10.0.23.0/30", 10)), 0)
			h.expect(`{"timestamp": ` + left + `, "entity": {"type": "router", "id": "10.0.0.2"}, "removed": {"link": {"network": {"id": "10.1.100.0/24", "metric": 10}}}}`)
			drIs("r2's transit link gone", rid3, rid2, rid3, rid4)

			flush := func() {
				t.Helper()
				h.update(area0, own, ospf.MaxAge)
				h.expect()
				settle()
				h.expect()
			}
			if tc.flushFirst {
				flush()
				drIs("r2's LSA flushed", rid3, rid2, rid3, rid4)
			}
			// r3 notices r2 is gone and lists only r3 and r4.
			h.clk.Advance(time.Second)
			detached := itoa(h.clk.Now().UnixMilli())
			h.update(area0, network(lanR3, rid3, 24, rid3, rid4), 0)
			h.expect(`{"timestamp": ` + detached + `, "entity": {"type": "network", "id": "10.1.100.0/24"}, "removed": {"router": "10.0.0.2"}}`)
			if !tc.flushFirst {
				flush()
			}
			settle()
			h.expect()
			drIs("end", rid3, rid3, rid4)
		})
	}
}

var timestamp = regexp.MustCompile(`"timestamp": -?[0-9]+, `)

// untimed returns the events without their timestamps, sorted: the
// order in which one commit emits the changes of several routers is not
// defined, and timestamps follow the arrival order.
func untimed(evs []string) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = timestamp.ReplaceAllString(e, "")
	}
	slices.Sort(out)
	return out
}

// snapshotJSON is the snapshot without its time of writing.
func snapshotJSON(db *lsdb.DB) string {
	s, _ := db.Snapshot()
	s.Updated = 0
	return string(s.AppendJSON(nil))
}

// TestDRChangeInEveryOrder moves a LAN from DR r1 (LSID 10.1.0.1) to DR r2
// (LSID 10.1.0.2): r2's Network-LSA, the routers' Router-LSAs that move
// their transit links to it and r1's that drops its own arrive in every
// order, one commit each or all in one, before r1's Network-LSA is
// flushed. Only the real changes come out, and the view ends as the one
// built from the final LSDB alone.
func TestDRChangeInEveryOrder(t *testing.T) {
	const (
		r1, r2, r3, r4 = "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"
		old, dr        = "10.1.0.1", "10.1.0.2"
	)
	initial := []ospf.LSA{
		router(r1, transit(old, old, 5)),
		router(r2, transit(old, dr, 5)),
		router(r3, transit(old, "10.1.0.3", 5)),
		network(old, r1, 24, r1, r2, r3),
	}
	link := func(r string, added bool) string {
		return `{"entity": {"type": "router", "id": "` + r + `"}, "` + verb(added) + `": {"link": {"network": {"id": "10.1.0.0/24", "metric": 5}}}}`
	}
	member := func(r string, added bool) string {
		return `{"entity": {"type": "network", "id": "10.1.0.0/24"}, "` + verb(added) + `": {"router": "` + r + `"}}`
	}
	for _, tc := range []struct {
		name    string
		changes []ospf.LSA
		want    []string
	}{
		{
			name: "r1 leaves",
			changes: []ospf.LSA{
				network(dr, r2, 24, r2, r3),
				router(r2, transit(dr, dr, 5)),
				router(r3, transit(dr, "10.1.0.3", 5)),
				router(r1),
			},
			want: []string{link(r1, false), member(r1, false)},
		},
		{
			name: "r1 leaves, r4 joins",
			changes: []ospf.LSA{
				network(dr, r2, 24, r2, r3, r4),
				router(r2, transit(dr, dr, 5)),
				router(r3, transit(dr, "10.1.0.3", 5)),
				router(r1),
				router(r4, transit(dr, "10.1.0.4", 5)),
			},
			want: []string{link(r1, false), link(r4, true), member(r1, false), member(r4, true)},
		},
		{
			name: "r1 flaps and stays",
			changes: []ospf.LSA{
				network(dr, r2, 24, r1, r2, r3),
				router(r2, transit(dr, dr, 5)),
				router(r3, transit(dr, "10.1.0.3", 5)),
				router(r1, transit(dr, old, 5)),
			},
		},
	} {
		final := newHarness(t, 0)
		final.load(area0, append(slices.Clone(tc.changes), initial[3])...)
		final.update(area0, initial[3], ospf.MaxAge)
		final.events()
		// Its content: the order in which the LSAs came differs.
		wantSnap := contentSnapshotJSON(final.db)
		slices.Sort(tc.want)

		for _, order := range permutations(len(tc.changes)) {
			for _, oneCommit := range []bool{false, true} {
				name := tc.name
				if oneCommit {
					name += ", one commit"
				}
				t.Run(name+" "+orderName(order), func(t *testing.T) {
					h := newHarness(t, 10*time.Second)
					h.load(area0, initial...)
					var got []string
					for _, i := range order {
						h.clk.Advance(100 * time.Millisecond)
						h.update(area0, tc.changes[i], 0)
						if !oneCommit {
							got = append(got, h.events()...)
						}
					}
					got = append(got, h.events()...)
					if diff := cmp.Diff(tc.want, untimed(got), cmpEmpty); diff != "" {
						t.Errorf("events (-want +got):\n%s", diff)
					}
					// The routers have moved: r1's LSA, still there, is no
					// longer the network, and its flush changes nothing.
					if s := contentSnapshotJSON(h.db); s != wantSnap {
						t.Errorf("snapshot before the flush differs from the one of the final LSDB:\n%s\nwant:\n%s", s, wantSnap)
					}
					h.update(area0, initial[3], ospf.MaxAge)
					got = h.events()
					h.clk.Advance(time.Minute)
					h.db.Expire()
					got = append(got, h.drain()...)
					if len(got) > 0 {
						t.Errorf("events of the old DR's flush: %v, want none", got)
					}
					if s := contentSnapshotJSON(h.db); s != wantSnap {
						t.Errorf("snapshot differs from the one of the final LSDB:\n%s\nwant:\n%s", s, wantSnap)
					}
					if again := snapshotJSON(h.db); again != snapshotJSON(h.db) {
						t.Error("two snapshots of one view differ")
					}
				})
			}
		}
	}
}

// TestNetworkChoiceFollowsRouterLinks checks that a Router-LSA alone,
// by moving its transit link, moves the choice between two Network-LSAs of
// one prefix, and that the snapshot follows.
func TestNetworkChoiceFollowsRouterLinks(t *testing.T) {
	const r1, r2, r3 = "10.0.0.1", "10.0.0.2", "10.0.0.3"
	h := newHarness(t, 0)
	h.load(area0,
		router(r1, transit("10.1.0.1", "10.1.0.1", 5)),
		router(r2, transit("10.1.0.1", "10.1.0.2", 5)),
		router(r3, transit("10.1.0.2", "10.1.0.3", 5)),
		network("10.1.0.1", r1, 24, r1, r2),
	)
	dr := func(step, want string, members ...string) {
		t.Helper()
		s, _ := h.db.Snapshot()
		n := s.Areas["0.0.0.0"].Networks["10.1.0.0/24"]
		if n == nil || n.DR != want || !slices.Equal(n.Routers, members) {
			t.Errorf("%s: network = %+v, want DR %s with %v", step, n, want, members)
		}
	}
	h.clk.Advance(time.Second)
	ts := itoa(h.clk.Now().UnixMilli())
	// A newer Network-LSA for the prefix: r2's, with r1, r2 and r3. Only
	// r3 points at it (one two-way edge), r1 and r2 at r1's (two).
	h.update(area0, network("10.1.0.2", r2, 24, r1, r2, r3), 0)
	h.expect()
	dr("newer LSA", r1, r1, r2)
	// r1 moves to r2's: two edges against one.
	h.update(area0, router(r1, transit("10.1.0.2", "10.1.0.1", 5)), 0)
	h.expect(`{"timestamp": ` + ts + `, "entity": {"type": "network", "id": "10.1.0.0/24"}, "added": {"router": "10.0.0.3"}}`)
	dr("r1 moved", r2, r1, r2, r3)
	// And back.
	h.update(area0, router(r1, transit("10.1.0.1", "10.1.0.1", 5)), 0)
	h.expect(`{"timestamp": ` + ts + `, "entity": {"type": "network", "id": "10.1.0.0/24"}, "removed": {"router": "10.0.0.3"}}`)
	dr("r1 back", r1, r1, r2)
	// r1's Router-LSA is flushed: one edge each, and the newer wins.
	h.update(area0, router(r1, transit("10.1.0.1", "10.1.0.1", 5)), ospf.MaxAge)
	h.expect(
		`{"timestamp": `+ts+`, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"network": {"id": "10.1.0.0/24", "metric": 5}}}}`,
		`{"timestamp": `+ts+`, "entity": {"type": "network", "id": "10.1.0.0/24"}, "added": {"router": "10.0.0.3"}}`,
	)
	dr("r1 gone", r2, r1, r2, r3)
}

var cmpEmpty = cmp.Transformer("empty", func(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
})

func verb(added bool) string {
	if added {
		return "added"
	}
	return "removed"
}

// permutations returns every order of 0..n-1.
func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for i := 0; i <= len(p); i++ {
			q := slices.Insert(slices.Clone(p), i, n-1)
			out = append(out, q)
		}
	}
	return out
}

func orderName(order []int) string {
	b := make([]byte, len(order))
	for i, o := range order {
		b[i] = byte('a' + o)
	}
	return string(b)
}

// TestViewMatchesRebuild drives two LANs through random Router-LSA and
// Network-LSA changes and flushes (DR changes, competing Network-LSAs,
// routers pointing at LSAs that are not there) and checks after each
// commit that the view maintained change by change is the one built at
// once from the LSAs held at that moment. Their ages in the rebuild are
// those of the first instance with their content: a refresh is no change.
func TestViewMatchesRebuild(t *testing.T) {
	routers := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}
	lans := []string{"10.1.0.", "10.2.0."}
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 1))
		h := newHarness(t, 0)
		h.load(area0)
		lsas, committed := map[ospf.Key]heldLSA{}, map[ospf.Key]heldLSA{}
		for step := range 400 {
			h.clk.Advance(time.Second)
			var l ospf.LSA
			switch rng.IntN(5) {
			case 0, 1:
				r := rng.IntN(len(routers))
				var links []ospf.RouterLink
				for _, lan := range lans {
					if rng.IntN(3) > 0 {
						links = append(links, transit(lan+strconv.Itoa(rng.IntN(4)+1), lan+strconv.Itoa(r+1), 10))
					}
				}
				l = router(routers[r], links...)
			case 2, 3:
				dr := rng.IntN(len(routers))
				var members []string
				for _, m := range routers {
					if rng.IntN(2) == 0 {
						members = append(members, m)
					}
				}
				l = network(lans[rng.IntN(len(lans))]+strconv.Itoa(dr+1), routers[dr], 24, members...)
			default:
				if len(lsas) == 0 {
					continue
				}
				keys := slices.SortedFunc(maps.Keys(lsas), func(a, b ospf.Key) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
				k := keys[rng.IntN(len(keys))]
				h.update(area0, lsas[k].lsa, ospf.MaxAge)
				delete(lsas, k)
			}
			if l != nil {
				h.update(area0, l, 0)
				lsas[l.Hdr().Key()] = h.held(area0, l)
			}
			if rng.IntN(3) > 0 {
				continue // several changes in one commit
			}
			h.events()
			committed = afterCommit(lsas, committed)
			matchesRebuild(h, committed, fmt.Sprintf("seed %d, step %d", seed, step))
		}
	}
}

// heldLSA is an LSA a test has put in the database: its area, its content
// (all but the header) and when that content was first originated.
type heldLSA struct {
	area    netip.Addr
	lsa     ospf.LSA
	content string
	origin  time.Time
}

// held is l as just sent in area.
func (h *harness) held(area netip.Addr, l ospf.LSA) heldLSA {
	h.t.Helper()
	b, err := ospf.Marshal(l)
	if err != nil {
		h.t.Fatal(err)
	}
	return heldLSA{area, l, string(b[ospf.HeaderLen:]), h.clk.Now()}
}

// afterCommit is what the view reflects once lsas are committed on top of
// committed: an LSA whose content did not change keeps its origin, as a
// refresh does not move the time of its links.
func afterCommit[K comparable](lsas, committed map[K]heldLSA) map[K]heldLSA {
	next := make(map[K]heldLSA, len(lsas))
	for k, x := range lsas {
		if c, ok := committed[k]; ok && c.content == x.content {
			x.origin = c.origin
		}
		next[k] = x
	}
	return next
}

// matchesRebuild checks h's view and counts against those of a database
// loaded from nothing with committed, each LSA with the age it has now.
func matchesRebuild[K comparable](h *harness, committed map[K]heldLSA, where string) {
	h.t.Helper()
	fresh := newHarness(h.t, 0)
	fresh.clk.now = h.clk.Now()
	fresh.db.BeginSync()
	for _, x := range committed {
		fresh.update(x.area, x.lsa, uint16(h.clk.Now().Sub(x.origin)/time.Second))
	}
	fresh.db.EndSync()
	// The rebuild received the LSAs in another order: content only.
	if got, want := contentSnapshotJSON(h.db), contentSnapshotJSON(fresh.db); got != want {
		h.t.Fatalf("%s: view differs from the rebuilt one:\n%s\nrebuilt:\n%s", where, got, want)
	}
	got, want := h.db.View(), fresh.db.View()
	if a, b := string(got.AppendSnapshotJSON(nil)), string(got.Snapshot().AppendJSON(nil)); a != b {
		h.t.Fatalf("%s: the view's snapshot written directly differs:\n%s\nfrom the Snapshot's:\n%s", where, a, b)
	}
	if d := viewDiff(withoutOrders(got), withoutOrders(want)); d != "" {
		h.t.Fatalf("%s: typed view differs from the rebuilt one (-got +rebuilt):\n%s", where, d)
	}
	if h.rep != nil {
		if d := viewDiff(h.replicaView(), got); d != "" {
			h.t.Fatalf("%s: the replica's view differs from the database's (-replica +database):\n%s", where, d)
		}
	}
	if got, want := h.db.Counts(), fresh.db.Counts(); !slices.Equal(got, want) {
		h.t.Fatalf("%s: counts %v, rebuilt %v", where, got, want)
	}
}

// withoutOrders returns a copy of v without its arrival indexes.
func withoutOrders(v *lsdb.View) *lsdb.View {
	c := *v
	c.Areas = slices.Clone(v.Areas)
	for i := range c.Areas {
		a := &c.Areas[i]
		a.Routers = slices.Clone(a.Routers)
		for j := range a.Routers {
			r := &a.Routers[j]
			r.LSAOrder = 0
			r.Externals = slices.Clone(r.Externals)
			for k := range r.Externals {
				r.Externals[k].Order = 0
			}
			r.NSSA = slices.Clone(r.NSSA)
			for k := range r.NSSA {
				r.NSSA[k].Order = 0
			}
		}
		a.Networks = slices.Clone(a.Networks)
		for j := range a.Networks {
			a.Networks[j].Order = 0
		}
	}
	return &c
}

// contentSnapshotJSON is the database's snapshot without its order: keys
// in numeric order, "updated" 0.
func contentSnapshotJSON(db *lsdb.DB) string {
	s := withoutOrders(db.View()).Snapshot()
	s.Updated = 0
	return string(s.AppendJSON(nil))
}

// viewDiff compares two views, their sequence numbers and times aside.
func viewDiff(a, b *lsdb.View) string {
	x, y := *a, *b
	x.Seq, y.Seq = 0, 0
	x.Updated, y.Updated = time.Time{}, time.Time{}
	if reflect.DeepEqual(x, y) {
		return ""
	}
	return cmp.Diff(x, y, cmp.AllowUnexported(lsdb.Link{}),
		cmp.Comparer(func(p, q netip.Addr) bool { return p == q }),
		cmp.Comparer(func(p, q netip.Prefix) bool { return p == q }))
}
