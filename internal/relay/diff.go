package relay

import (
	"net/netip"
	"slices"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// diffViews returns the seed's events that take the view old to new,
// removals first, stamped with now: what a relay writes to its archive and
// stdout when it has to start over from a new view of its upstream.
func diffViews(old, new *lsdb.View, now time.Time) []lsdb.Event {
	ts := now.UnixMilli()
	var rm, add []lsdb.Event
	oldAreas, newAreas := areasOf(old), areasOf(new)
	for _, aid := range unionKeys(oldAreas, newAreas) {
		oa, na := oldAreas[aid], newAreas[aid]
		if oa == nil {
			oa = &lsdb.AreaView{}
		}
		if na == nil {
			na = &lsdb.AreaView{}
		}
		oldLinks, newLinks := routerLinks(oa), routerLinks(na)
		for _, r := range unionKeys(oldLinks, newLinks) {
			for _, l := range lsdb.MultisetMinus(oldLinks[r], newLinks[r]) {
				rm = append(rm, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityRouter, Router: r, Link: l})
			}
			for _, l := range lsdb.MultisetMinus(newLinks[r], oldLinks[r]) {
				add = append(add, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityRouter, Router: r, Added: true, Link: l})
			}
		}
		oldNets, newNets := networksOf(oa), networksOf(na)
		for _, p := range unionKeys(oldNets, newNets) {
			var om, nm []netip.Addr
			var dr netip.Addr
			if n := oldNets[p]; n != nil {
				om = n.Routers
			}
			if n := newNets[p]; n != nil {
				nm, dr = n.Routers, n.DR
			}
			for _, m := range lsdb.MultisetMinus(om, nm) {
				rm = append(rm, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityNetwork, Network: p, Member: m, DR: dr})
			}
			for _, m := range lsdb.MultisetMinus(nm, om) {
				add = append(add, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityNetwork, Network: p, Added: true, Member: m, DR: dr})
			}
		}
	}
	return append(rm, add...)
}

func areasOf(v *lsdb.View) map[netip.Addr]*lsdb.AreaView {
	m := make(map[netip.Addr]*lsdb.AreaView, len(v.Areas))
	for i := range v.Areas {
		m[v.Areas[i].ID] = &v.Areas[i]
	}
	return m
}

// routerLinks is every link of every router of the area as events name
// them: its Router-LSA's links, its summaries, its externals and NSSA routes.
func routerLinks(a *lsdb.AreaView) map[netip.Addr][]lsdb.Link {
	m := make(map[netip.Addr][]lsdb.Link, len(a.Routers))
	for i := range a.Routers {
		r := &a.Routers[i]
		ls := make([]lsdb.Link, 0, len(r.Links)+len(r.Summaries)+len(r.Externals)+len(r.NSSA))
		ls = append(append(ls, r.Links...), r.Summaries...)
		for _, x := range r.Externals {
			ls = append(ls, x.Link())
		}
		for _, x := range r.NSSA {
			ls = append(ls, x.Link())
		}
		m[r.ID] = ls
	}
	return m
}

func networksOf(a *lsdb.AreaView) map[netip.Prefix]*lsdb.NetworkView {
	m := make(map[netip.Prefix]*lsdb.NetworkView, len(a.Networks))
	for i := range a.Networks {
		m[a.Networks[i].Prefix] = &a.Networks[i]
	}
	return m
}

// unionKeys returns the keys of a and b in order.
func unionKeys[K interface {
	comparable
	Compare(K) int
}, V any](a, b map[K]V) []K {
	ks := make([]K, 0, len(a)+len(b))
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(x, y K) int { return x.Compare(y) })
	return ks
}
