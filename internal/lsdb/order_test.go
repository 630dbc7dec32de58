package lsdb_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// TestEventOrderIsDeterministic replays the same input into fresh
// databases: changes that touch many routers at once (a LAN's mask, a
// resync that no longer carries many LSAs, many hold-downs ending
// together) must come out as the same events in the same order every
// time, whatever the order in which Go's maps happen to iterate.
func TestEventOrderIsDeterministic(t *testing.T) {
	const n = 30
	id := func(i int) string { return fmt.Sprintf("10.0.0.%d", i+1) }
	lan := func(bits int) *ospf.NetworkLSA {
		var members []string
		for i := range n {
			members = append(members, id(i))
		}
		return network("10.1.0.1", id(0), bits, members...)
	}
	routers := func() []ospf.LSA {
		var out []ospf.LSA
		for i := range n {
			out = append(out, router(id(i), transit("10.1.0.1", fmt.Sprintf("10.1.0.%d", i+1), 10)))
		}
		return out
	}
	externals := func() []ospf.LSA {
		var out []ospf.LSA
		for i := range n {
			out = append(out, external(id(i), fmt.Sprintf("198.51.100.%d/32", i), 20, true, ""))
		}
		return out
	}
	type scenario struct {
		hold time.Duration
		run  func(h *harness) []string
	}
	scenarios := map[string]scenario{
		"LAN mask changes": {0, func(h *harness) []string {
			h.load(area0, append(routers(), lan(24))...)
			h.update(area0, lan(25), 0)
			return h.events()
		}},
		"resync without the externals": {0, func(h *harness) []string {
			h.load(area0, append(append(routers(), lan(24)), externals()...)...)
			h.db.BeginSync()
			for _, l := range append(routers(), lan(24)) {
				h.update(area0, l, 0)
			}
			h.db.EndSync()
			return h.drain()
		}},
		"hold-downs end together": {10 * time.Second, func(h *harness) []string {
			h.load(area0, append(append(routers(), lan(24)), externals()...)...)
			for _, l := range externals() {
				h.update(area0, l, ospf.MaxAge)
			}
			if evs := h.events(); len(evs) != 0 {
				t.Fatalf("events before the hold-down ended: %v", evs)
			}
			h.clk.Advance(11 * time.Second)
			h.db.Expire()
			return h.drain()
		}},
	}
	for name, sc := range scenarios {
		t.Run(name, func(t *testing.T) {
			first := sc.run(newHarness(t, sc.hold))
			if len(first) < n {
				t.Fatalf("%d events, want at least %d:\n%v", len(first), n, first)
			}
			for range 10 {
				if got := sc.run(newHarness(t, sc.hold)); !slices.Equal(got, first) {
					t.Fatalf("events differ between runs:\n%v\nfirst run:\n%v", got, first)
				}
			}
		})
	}
}
