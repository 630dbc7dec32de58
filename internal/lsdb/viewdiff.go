package lsdb

import (
	"net/netip"
	"slices"
	"time"
)

// DiffViews returns the seed's events that take the view old to new,
// removals first, stamped with now: every link of every router (its
// Router-LSA's links, summaries, externals and NSSA routes) and every
// member of every network that one has and the other lacks, as multisets,
// by area, then router ID or prefix. What no event can say (flags, tags,
// a DR change without a membership change, a router without links) makes
// no event. A relay writes these when it must start over from a new view
// of its upstream; the history command prints them as the net change
// between two times.
func DiffViews(old, new *View, now time.Time) []Event {
	ts := now.UnixMilli()
	var rm, add []Event
	oldAreas, newAreas := areasByID(old), areasByID(new)
	for _, aid := range unionKeys(oldAreas, newAreas) {
		oa, na := oldAreas[aid], newAreas[aid]
		if oa == nil {
			oa = &AreaView{}
		}
		if na == nil {
			na = &AreaView{}
		}
		oldLinks, newLinks := eventLinks(oa), eventLinks(na)
		for _, r := range unionKeys(oldLinks, newLinks) {
			for _, l := range MultisetMinus(oldLinks[r], newLinks[r]) {
				rm = append(rm, Event{Time: ts, Area: aid, Entity: EntityRouter, Router: r, Link: l})
			}
			for _, l := range MultisetMinus(newLinks[r], oldLinks[r]) {
				add = append(add, Event{Time: ts, Area: aid, Entity: EntityRouter, Router: r, Added: true, Link: l})
			}
		}
		oldNets, newNets := networksByPrefix(oa), networksByPrefix(na)
		for _, p := range unionKeys(oldNets, newNets) {
			var om, nm []netip.Addr
			var dr netip.Addr
			if n := oldNets[p]; n != nil {
				om = n.Routers
			}
			if n := newNets[p]; n != nil {
				nm, dr = n.Routers, n.DR
			}
			for _, m := range MultisetMinus(om, nm) {
				rm = append(rm, Event{Time: ts, Area: aid, Entity: EntityNetwork, Network: p, Member: m, DR: dr})
			}
			for _, m := range MultisetMinus(nm, om) {
				add = append(add, Event{Time: ts, Area: aid, Entity: EntityNetwork, Network: p, Added: true, Member: m, DR: dr})
			}
		}
	}
	return append(rm, add...)
}

func areasByID(v *View) map[netip.Addr]*AreaView {
	m := make(map[netip.Addr]*AreaView, len(v.Areas))
	for i := range v.Areas {
		m[v.Areas[i].ID] = &v.Areas[i]
	}
	return m
}

// eventLinks is every link of every router of the area as events name
// them: its Router-LSA's links, its summaries, its externals and NSSA routes.
func eventLinks(a *AreaView) map[netip.Addr][]Link {
	m := make(map[netip.Addr][]Link, len(a.Routers))
	for i := range a.Routers {
		r := &a.Routers[i]
		ls := make([]Link, 0, len(r.Links)+len(r.Summaries)+len(r.Externals)+len(r.NSSA))
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

func networksByPrefix(a *AreaView) map[netip.Prefix]*NetworkView {
	m := make(map[netip.Prefix]*NetworkView, len(a.Networks))
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
