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

// DiffViewsAcrossAreas is DiffViews with each view's areas taken as one:
// a link or member that moved between areas makes no event. It is for an
// old view rebuilt from the seed's events, which carry no area, so that
// where the rebuilding placed a link in another area than the one it is
// in, no event is invented. The events are in the backbone.
func DiffViewsAcrossAreas(old, new *View, now time.Time) []Event {
	return DiffViews(oneArea(old), oneArea(new), now)
}

// DiffViewsAfter returns the seed's events that take old, with the events
// after applied, to new, across areas (DiffViewsAcrossAreas): what a
// relay must add to an archive that holds a view saved earlier (old) and
// the events archived since (after), to reach an upstream's new view.
// The events are counted as multisets, so the order of after does not
// matter. State records in after are ignored.
func DiffViewsAfter(old *View, after []Event, new *View, now time.Time) []Event {
	type key struct {
		entity  EntityType
		router  netip.Addr
		network netip.Prefix
		link    Link
		member  netip.Addr
	}
	var (
		order []key
		count = map[key]int{}
		like  = map[key]Event{}
	)
	tally := func(e *Event, n int) {
		k := key{entity: e.Entity, router: e.Router, network: e.Network, link: e.Link, member: e.Member}
		if _, ok := count[k]; !ok {
			order = append(order, k)
			like[k] = *e
		}
		count[k] += n
	}
	for _, e := range DiffViewsAcrossAreas(old, new, now) {
		tally(&e, sign(e.Added))
	}
	for i := range after {
		if e := &after[i]; !e.IsState() {
			tally(e, -sign(e.Added))
		}
	}
	var rm, add []Event
	for _, k := range order {
		e := like[k]
		e.Seq, e.Time, e.Area = 0, now.UnixMilli(), netip.IPv4Unspecified()
		e.RouterState, e.NetworkState = nil, nil
		for n := count[k]; n != 0; {
			e.Added = n > 0
			if e.Added {
				add = append(add, e)
				n--
			} else {
				rm = append(rm, e)
				n++
			}
		}
	}
	return append(rm, add...)
}

func sign(added bool) int {
	if added {
		return 1
	}
	return -1
}

// oneArea is v with every area's routers and networks in one area, the
// backbone: a router of several areas is one router with the links of
// all, and a network likewise with the members of all. Only what events
// name is kept.
func oneArea(v *View) *View {
	a := AreaView{ID: netip.IPv4Unspecified()}
	routers := map[netip.Addr]int{}
	networks := map[netip.Prefix]int{}
	for i := range v.Areas {
		for j := range v.Areas[i].Routers {
			r := &v.Areas[i].Routers[j]
			k, ok := routers[r.ID]
			if !ok {
				k = len(a.Routers)
				routers[r.ID] = k
				a.Routers = append(a.Routers, RouterView{ID: r.ID})
			}
			m := &a.Routers[k]
			m.Links = append(m.Links, r.Links...)
			m.Summaries = append(m.Summaries, r.Summaries...)
			m.Externals = append(m.Externals, r.Externals...)
			m.NSSA = append(m.NSSA, r.NSSA...)
		}
		for j := range v.Areas[i].Networks {
			n := &v.Areas[i].Networks[j]
			k, ok := networks[n.Prefix]
			if !ok {
				k = len(a.Networks)
				networks[n.Prefix] = k
				a.Networks = append(a.Networks, NetworkView{Prefix: n.Prefix, DR: n.DR})
			}
			a.Networks[k].Routers = append(a.Networks[k].Routers, n.Routers...)
		}
	}
	return &View{Areas: []AreaView{a}}
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
