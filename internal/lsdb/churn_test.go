package lsdb_test

import (
	"bytes"
	"fmt"
	"maps"
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// TestChurnMatchesRebuild drives every kind of LSA through a long run of
// random arrivals, changes, withdrawals and resyncs in two areas: routers that join
// and leave either area (so that their externals move between areas),
// externals, summaries, ASBR-summaries and LANs. After each commit the
// incrementally maintained view must equal one built from scratch from the
// LSAs held. Withdrawn LSAs leave the database and their memory is used
// again for later ones, so a slot that is handed out while still in use
// shows up here as a view that differs from the rebuild. The view's
// arrival indexes must follow a model of the seed's lsa_dict: a key keeps
// its index while it is updated or withdrawn and back before the commit
// drops it, and gets a new, last one after.
func TestChurnMatchesRebuild(t *testing.T) {
	area1 := ip("0.0.0.1")
	routers := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}
	randomLSA := func(rng *rand.Rand) (netip.Addr, ospf.LSA) {
		r := routers[rng.IntN(len(routers))]
		switch rng.IntN(6) {
		case 0, 1:
			var links []ospf.RouterLink
			for _, o := range routers {
				if o != r && rng.IntN(3) == 0 {
					links = append(links, p2p(o, uint16(1+rng.IntN(3))))
				}
			}
			if rng.IntN(2) == 0 {
				links = append(links, stub(fmt.Sprintf("172.16.%d.0/24", rng.IntN(4)), 10))
			}
			if rng.IntN(2) == 0 {
				links = append(links, transit("10.1.0."+r[len(r)-1:], "10.1.0."+r[len(r)-1:], 10))
			}
			area := area0
			if rng.IntN(3) == 0 {
				area = area1
			}
			rl := router(r, links...)
			// Flags change alone, without a link changing: only the
			// typed view and the state records show it.
			rl.Flags = []uint8{0, ospf.RouterFlagB, ospf.RouterFlagE, ospf.RouterFlagV}[rng.IntN(4)]
			return area, rl
		case 2:
			x := external(r, fmt.Sprintf("198.51.%d.0/24", rng.IntN(3)), uint32(rng.IntN(3)), rng.IntN(2) == 0, "")
			x.Tag = uint32(rng.IntN(3)) // a tag change alone makes no event
			return area0, x
		case 3:
			s := &ospf.SummaryLSA{Header: hdr(ospf.SummaryLSAType, fmt.Sprintf("10.9.%d.0", rng.IntN(3)), r),
				Mask: ip("255.255.255.0"), Metric: uint32(rng.IntN(3))}
			return area1, s
		case 4:
			s := &ospf.SummaryLSA{Header: hdr(ospf.ASBRSummaryLSAType, routers[rng.IntN(len(routers))], r),
				Mask: ip("0.0.0.0"), Metric: uint32(rng.IntN(3))}
			return area1, s
		default:
			var members []string
			for _, m := range routers {
				if rng.IntN(2) == 0 {
					members = append(members, m)
				}
			}
			return area0, network("10.1.0."+r[len(r)-1:], r, 24, members...)
		}
	}
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 2))
		h := newHarness(t, 0)
		h.load(area0)
		// keyed by area and LSA: a router's LSA in area 1 is another LSA than its LSA in area 0
		type akey struct {
			area netip.Addr
			key  ospf.Key
		}
		lsas, committed := map[akey]heldLSA{}, map[akey]heldLSA{}
		ord := orderModel[akey]{orders: map[akey]uint64{}, flushed: map[akey]bool{}}
		checkOrders := func(where string) {
			t.Helper()
			orderOf := func(area netip.Addr, typ ospf.LSType, lsid, adv netip.Addr) uint64 {
				return ord.orders[akey{area, ospf.Key{Type: typ, LSID: lsid, AdvRouter: adv}}]
			}
			for _, a := range h.db.View().Areas {
				for _, r := range a.Routers {
					want := uint64(0)
					if r.HasLSA {
						want = orderOf(a.ID, ospf.RouterLSAType, r.ID, r.ID)
					}
					if r.LSAOrder != want || r.HasLSA && want == 0 {
						t.Fatalf("%s: area %s, router %s: Router-LSA's arrival index %d, want %d", where, a.ID, r.ID, r.LSAOrder, want)
					}
					for _, x := range r.Externals {
						if want := orderOf(area0, ospf.ASExternalLSAType, x.Prefix.Addr(), r.ID); x.Order != want || want == 0 {
							t.Fatalf("%s: area %s, router %s, external %s: arrival index %d, want %d", where, a.ID, r.ID, x.Prefix, x.Order, want)
						}
					}
				}
				for _, n := range a.Networks {
					want := uint64(0)
					for k, x := range committed {
						if nl, ok := x.lsa.(*ospf.NetworkLSA); ok && k.area == a.ID && netip.PrefixFrom(k.key.LSID, maskBits(nl.Mask)).Masked() == n.Prefix {
							if o := ord.orders[k]; want == 0 || o < want {
								want = o
							}
						}
					}
					if n.Order != want || want == 0 {
						t.Fatalf("%s: area %s, network %s: arrival index %d, want %d", where, a.ID, n.Prefix, n.Order, want)
					}
				}
			}
		}
		for step := range 600 {
			h.clk.Advance(time.Second)
			if rng.IntN(25) == 0 {
				// A resync: ospfd dumps what it holds again, less some
				// LSAs it lost while the session was down.
				h.db.BeginSync()
				dumped := map[akey]bool{}
				for _, k := range slices.SortedFunc(maps.Keys(lsas), func(a, b akey) int {
					return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
				}) {
					if rng.IntN(6) == 0 {
						delete(lsas, k)
						continue
					}
					x := lsas[k]
					h.update(x.area, x.lsa, uint16(h.clk.Now().Sub(x.origin)/time.Second))
					ord.arrive(k)
					dumped[k] = true
				}
				h.db.EndSync()
				ord.keepOnly(dumped)
				h.drain()
				committed = afterCommit(lsas, committed)
				where := fmt.Sprintf("seed %d, step %d (resync)", seed, step)
				matchesRebuild(h, committed, where)
				checkOrders(where)
				continue
			}
			if len(lsas) > 0 && rng.IntN(3) == 0 {
				keys := slices.SortedFunc(maps.Keys(lsas), func(a, b akey) int {
					return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
				})
				k := keys[rng.IntN(len(keys))]
				h.update(k.area, lsas[k].lsa, ospf.MaxAge)
				ord.flush(k)
				delete(lsas, k)
			} else {
				area, l := randomLSA(rng)
				k := akey{area, l.Hdr().Key()}
				if l.Hdr().Type == ospf.ASExternalLSAType {
					k.area = area0
				}
				h.update(area, l, 0)
				ord.arrive(k)
				lsas[k] = h.held(area, l)
			}
			if rng.IntN(3) > 0 {
				continue // several changes in one commit
			}
			h.events()
			ord.commit()
			committed = afterCommit(lsas, committed)
			where := fmt.Sprintf("seed %d, step %d", seed, step)
			matchesRebuild(h, committed, where)
			checkOrders(where)
		}
	}
}

// orderModel is the seed's lsa_dict as far as order goes, for a database
// without hold-down: a key gets the next index when it arrives and keeps
// it until a commit drops it, flushed.
type orderModel[K comparable] struct {
	n       uint64
	orders  map[K]uint64
	flushed map[K]bool
}

func (m *orderModel[K]) arrive(k K) {
	if _, ok := m.orders[k]; !ok {
		m.n++
		m.orders[k] = m.n
	}
	delete(m.flushed, k)
}

func (m *orderModel[K]) flush(k K) { m.flushed[k] = true }

func (m *orderModel[K]) commit() {
	for k := range m.flushed {
		delete(m.orders, k)
	}
	clear(m.flushed)
}

// keepOnly is the end of a dump: what it did not carry is gone.
func (m *orderModel[K]) keepOnly(dumped map[K]bool) {
	for k := range m.orders {
		if !dumped[k] {
			delete(m.orders, k)
		}
	}
	clear(m.flushed)
}

// maskBits is the length of a contiguous mask.
func maskBits(mask netip.Addr) int {
	b := mask.As4()
	return bits.LeadingZeros32(^(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])))
}

// TestLinksAreNotShared checks that a router's links in the view, which
// are kept in shared blocks, are its own: changing one router's links many
// times, interleaved with others', never changes what the others show.
func TestLinksAreNotShared(t *testing.T) {
	h := newHarness(t, 0)
	h.load(area0,
		router("10.0.0.1", p2p("10.0.0.2", 1)),
		router("10.0.0.2", p2p("10.0.0.1", 1)),
	)
	want := snapshotJSON(h.db)
	for i := range 300 {
		links := []ospf.RouterLink{p2p("10.0.0.2", uint16(1+i%7))}
		for j := range i % 5 {
			links = append(links, stub(fmt.Sprintf("172.16.%d.0/24", j), 1))
		}
		h.update(area0, router("10.0.0.3", links...), 0)
		h.events()
	}
	got := snapshotJSON(h.db)
	if !bytes.Contains([]byte(got), []byte(`"10.0.0.3"`)) {
		t.Fatalf("router 10.0.0.3 missing from the view:\n%s", got)
	}
	h.update(area0, router("10.0.0.3"), ospf.MaxAge)
	h.events()
	if got := snapshotJSON(h.db); got != want {
		t.Fatalf("the other routers changed:\n%s\nwant:\n%s", got, want)
	}
}
