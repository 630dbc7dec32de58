package history

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// state is a view being replayed: a snapshot's, with the seed's events
// after it applied one by one.
//
// An event says what changed, not what the whole state became, and the
// seed's format leaves things out. So a replayed state is the snapshot's
// plus what the events say, with these rules where they say too little:
//
//   - A router is in the state while it has a link or a route. One whose
//     last link and route an event removes leaves it: that is what a
//     withdrawn router looks like. A router that keeps a Router-LSA with
//     no links looks the same in the stream; it is back at the next
//     snapshot.
//   - A network is in the state while it has members. The stream never
//     names a designated router: a network keeps the snapshot's DR, and
//     one that events bring in takes the first router they attach (as
//     FRR lists the DR first). A DR change that moves no member is not
//     in the stream at all.
//   - Events carry no area. An event goes to the first area, in ID order,
//     that holds the router (or network) and, for a link, the link's far
//     end or, for a removal, the link; else to the first that holds the
//     router; else to the backbone. In a single-area archive (the seed's
//     only kind) this is exact.
//   - A removal of a link or member the state does not hold is counted
//     (unmatched) and changes nothing: a gap in the archive, or an event
//     the snapshot already reflected.
type state struct {
	areas     map[netip.Addr]*areaState
	order     []netip.Addr // areas' keys in ID order
	unmatched int
}

type areaState struct {
	id       netip.Addr
	routers  map[netip.Addr]*lsdb.RouterView
	networks map[netip.Prefix]*lsdb.NetworkView
}

// newState copies v, so that replaying never writes to it.
func newState(v *lsdb.View) *state {
	s := &state{areas: make(map[netip.Addr]*areaState, len(v.Areas))}
	for i := range v.Areas {
		av := &v.Areas[i]
		a := s.area(av.ID)
		for j := range av.Routers {
			r := av.Routers[j]
			r.Links = slices.Clone(r.Links)
			r.Summaries = slices.Clone(r.Summaries)
			r.Externals = slices.Clone(r.Externals)
			r.NSSA = slices.Clone(r.NSSA)
			a.routers[r.ID] = &r
		}
		for j := range av.Networks {
			n := av.Networks[j]
			n.Routers = slices.Clone(n.Routers)
			a.networks[n.Prefix] = &n
		}
	}
	return s
}

func (s *state) area(id netip.Addr) *areaState {
	a := s.areas[id]
	if a == nil {
		a = &areaState{id: id, routers: map[netip.Addr]*lsdb.RouterView{}, networks: map[netip.Prefix]*lsdb.NetworkView{}}
		s.areas[id] = a
		s.order = append(s.order, id)
		slices.SortFunc(s.order, netip.Addr.Compare)
	}
	return a
}

// apply applies one of the seed's events.
func (s *state) apply(ev *lsdb.Event) {
	switch ev.Entity {
	case lsdb.EntityRouter:
		s.applyRouter(ev)
	case lsdb.EntityNetwork:
		s.applyNetwork(ev)
	}
}

// pick is the first area, in ID order, for which good holds, then the
// first for which fallback holds, then the backbone.
func (s *state) pick(good, fallback func(*areaState) bool) *areaState {
	for _, f := range []func(*areaState) bool{good, fallback} {
		if f == nil {
			continue
		}
		for _, id := range s.order {
			if a := s.areas[id]; f(a) {
				return a
			}
		}
	}
	return s.area(netip.IPv4Unspecified())
}

func (s *state) applyRouter(ev *lsdb.Event) {
	id, l := ev.Router, ev.Link
	if !ev.Added {
		for _, aid := range s.order {
			a := s.areas[aid]
			if r := a.routers[id]; r != nil && removeLink(r, l) {
				if routerEmpty(r) {
					delete(a.routers, id)
				}
				return
			}
		}
		s.unmatched++
		return
	}
	has := func(a *areaState) bool { return a.routers[id] != nil }
	a := s.pick(func(a *areaState) bool {
		if !has(a) {
			return false
		}
		switch l.Kind {
		case lsdb.KindRouter:
			return a.routers[l.ID().Addr()] != nil
		case lsdb.KindNetwork:
			return a.networks[l.ID()] != nil
		case lsdb.KindExternal:
			return len(a.routers[id].Links) > 0 // externals go under an area with the router's Router-LSA
		default:
			return !hasLink(a.routers[id], l) // a summary goes into each area once
		}
	}, has)
	r := a.routers[id]
	if r == nil {
		r = &lsdb.RouterView{ID: id}
		a.routers[id] = r
	}
	addLink(r, l, a.id)
}

func (s *state) applyNetwork(ev *lsdb.Event) {
	p, m := ev.Network, ev.Member
	if !ev.Added {
		for _, aid := range s.order {
			a := s.areas[aid]
			if n := a.networks[p]; n != nil {
				if i := slices.Index(n.Routers, m); i >= 0 {
					n.Routers = slices.Delete(n.Routers, i, i+1)
					if len(n.Routers) == 0 {
						delete(a.networks, p)
					}
					return
				}
			}
		}
		s.unmatched++
		return
	}
	a := s.pick(func(a *areaState) bool { return a.networks[p] != nil }, func(a *areaState) bool { return a.routers[m] != nil })
	n := a.networks[p]
	if n == nil {
		n = &lsdb.NetworkView{Prefix: p, DR: m}
		a.networks[p] = n
	}
	n.Routers = append(n.Routers, m)
}

// The lists of a router that events of each kind of link change.
func linkList(r *lsdb.RouterView, k lsdb.LinkKind) *[]lsdb.Link {
	switch k {
	case lsdb.KindRouter, lsdb.KindNetwork, lsdb.KindStubnet:
		return &r.Links
	case lsdb.KindXNetwork, lsdb.KindXRouter:
		return &r.Summaries
	}
	return nil
}

func routeList(r *lsdb.RouterView, k lsdb.LinkKind) *[]lsdb.Route {
	if k == lsdb.KindNSSAExt {
		return &r.NSSA
	}
	return &r.Externals
}

func hasLink(r *lsdb.RouterView, l lsdb.Link) bool {
	if ls := linkList(r, l.Kind); ls != nil {
		return slices.Contains(*ls, l)
	}
	return slices.ContainsFunc(*routeList(r, l.Kind), func(x lsdb.Route) bool { return x.Link() == l })
}

// addLink adds l to r, a router of area aid.
func addLink(r *lsdb.RouterView, l lsdb.Link, aid netip.Addr) {
	if ls := linkList(r, l.Kind); ls != nil {
		*ls = append(*ls, l)
		r.HasLSA = len(r.Links) > 0
		return
	}
	route := lsdb.Route{Prefix: l.ID(), Metric: l.Metric, Type2: l.Type2, Forward: l.Via()}
	if l.Kind == lsdb.KindNSSAExt {
		route.Area = aid // what makes it an NSSA route rather than an AS-external one
	}
	rs := routeList(r, l.Kind)
	*rs = append(*rs, route)
}

// removeLink removes one link equal to l, and reports whether it had one.
func removeLink(r *lsdb.RouterView, l lsdb.Link) bool {
	if ls := linkList(r, l.Kind); ls != nil {
		i := slices.Index(*ls, l)
		if i < 0 {
			return false
		}
		*ls = slices.Delete(*ls, i, i+1)
		r.HasLSA = len(r.Links) > 0
		return true
	}
	rs := routeList(r, l.Kind)
	i := slices.IndexFunc(*rs, func(x lsdb.Route) bool { return x.Link() == l })
	if i < 0 {
		return false
	}
	*rs = slices.Delete(*rs, i, i+1)
	return true
}

func routerEmpty(r *lsdb.RouterView) bool {
	return len(r.Links) == 0 && len(r.Summaries) == 0 && len(r.Externals) == 0 && len(r.NSSA) == 0
}

// view is the state as a View taken at t, ordered as a database's: areas,
// routers and networks by ID, summaries and routes by destination.
func (s *state) view(t time.Time) *lsdb.View {
	v := &lsdb.View{Updated: t}
	for _, id := range s.order {
		a := s.areas[id]
		av := lsdb.AreaView{ID: id}
		for _, rid := range slices.SortedFunc(maps.Keys(a.routers), netip.Addr.Compare) {
			r := *a.routers[rid]
			slices.SortFunc(r.Summaries, compareLinks)
			slices.SortFunc(r.Externals, compareRoutes)
			slices.SortFunc(r.NSSA, compareRoutes)
			av.Routers = append(av.Routers, r)
		}
		for _, p := range slices.SortedFunc(maps.Keys(a.networks), comparePrefixes) {
			av.Networks = append(av.Networks, *a.networks[p])
		}
		if len(av.Routers) > 0 || len(av.Networks) > 0 {
			v.Areas = append(v.Areas, av)
		}
	}
	return v
}

func comparePrefixes(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// compareLinks orders links by kind, then destination, then the rest, as
// a database's view orders summaries and routes.
func compareLinks(a, b lsdb.Link) int {
	return cmp.Or(
		cmp.Compare(a.Kind, b.Kind),
		a.ID().Addr().Compare(b.ID().Addr()),
		cmp.Compare(a.Bits, b.Bits),
		cmp.Compare(b2i(a.Type2), b2i(b.Type2)),
		cmp.Compare(a.Metric, b.Metric),
		a.Via().Compare(b.Via()),
	)
}

func compareRoutes(a, b lsdb.Route) int {
	return cmp.Or(compareLinks(a.Link(), b.Link()), cmp.Compare(a.Tag, b.Tag))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
