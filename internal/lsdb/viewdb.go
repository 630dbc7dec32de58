package lsdb

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// View returns the typed view at the sequence number of the last change
// published.
func (db *DB) View() *View {
	db.mu.Lock()
	defer db.mu.Unlock()
	v := &View{Seq: db.feed.LastSeq(), Updated: db.cfg.Now(), Areas: make([]AreaView, 0, len(db.areas))}
	for _, aid := range slices.Sorted(maps.Keys(db.areas)) {
		a := db.areas[aid]
		av := AreaView{
			ID:       addrOf(aid),
			Routers:  make([]RouterView, 0, len(a.routers)),
			Networks: make([]NetworkView, 0, len(a.networks)),
		}
		for _, id := range slices.Sorted(maps.Keys(a.routers)) {
			av.Routers = append(av.Routers, routerView(aid, id, a.routers[id]))
		}
		for _, p := range slices.SortedFunc(maps.Keys(a.networks), comparePrefixes) {
			av.Networks = append(av.Networks, networkView(p, a.networks[p]))
		}
		if len(av.Routers) > 0 || len(av.Networks) > 0 {
			v.Areas = append(v.Areas, av)
		}
	}
	return v
}

// routerView is the typed view of router id of area aid. Its Links share
// the node's slab memory, which is never written again.
func routerView(aid, id uint32, n *routerNode) RouterView {
	r := coreView(id, n)
	for _, e := range n.sum {
		switch e.link.Kind {
		case KindXNetwork, KindXRouter:
			r.Summaries = append(r.Summaries, e.link)
		case KindNSSAExt:
			r.NSSA = append(r.NSSA, routeOf(e, addrOf(aid)))
		}
	}
	slices.SortFunc(r.Summaries, compareLinks)
	slices.SortFunc(r.NSSA, compareRoutes)
	if len(n.ext) > 0 {
		r.Externals = make([]Route, 0, len(n.ext))
		for _, e := range n.ext {
			r.Externals = append(r.Externals, routeOf(e, netip.Addr{}))
		}
		slices.SortFunc(r.Externals, compareRoutes)
	}
	return r
}

// coreView is what a router's own state record carries: its view without
// its routes, which have records of their own.
func coreView(id uint32, n *routerNode) RouterView {
	r := RouterView{ID: addrOf(id), Links: n.links}
	if n.lsa != nil {
		r.HasLSA = true
		r.Flags = n.lsa.viewRaw[ospf.HeaderLen]
		r.LSAOrder = n.lsa.order
	}
	return r
}

// routeView is what a route's state record carries: the router's view
// with route k of LSA e only, or nil when e is not in the router's view
// in area aid, or is but as another route.
func (db *DB) routeView(aid, id uint32, k RouteID, e *entry) *RouterView {
	a := db.areas[aid]
	if a == nil {
		return nil
	}
	n := a.routers[id]
	if n == nil {
		return nil
	}
	list := n.sum
	if e.k.typ() == ospf.ASExternalLSAType {
		list = n.ext
	}
	if e.slot < 0 || int(e.slot) >= len(list) || list[e.slot] != e || routeIDOf(e.k.typ(), e.link) != k {
		return nil
	}
	r := &RouterView{ID: addrOf(id)}
	switch e.link.Kind {
	case KindXNetwork, KindXRouter:
		r.Summaries = []Link{e.link}
	case KindNSSAExt:
		r.NSSA = []Route{routeOf(e, addrOf(aid))}
	default:
		r.Externals = []Route{routeOf(e, netip.Addr{})}
	}
	return r
}

// routeOf is the route of an external or NSSA LSA in the view.
func routeOf(e *entry, nssaArea netip.Addr) Route {
	return Route{
		Prefix:  e.link.ID(),
		Metric:  e.link.Metric,
		Type2:   e.link.Type2,
		Forward: e.link.Via(),
		Tag:     be32(e.viewRaw[ospf.HeaderLen+12:]),
		Area:    nssaArea,
		Order:   e.order,
	}
}

func networkView(p netip.Prefix, n *netNode) NetworkView {
	return NetworkView{Prefix: p, DR: n.dr, DRAddr: addrOf(n.chosen.k.lsid), Routers: n.members, Order: n.order}
}

// areaRouter, areaNetwork and areaRoute name what a commit touched.
type areaRouter struct{ area, id uint32 }

type areaRoute struct {
	area, id uint32
	route    RouteID
	e        *entry
}

type areaNetwork struct {
	area uint32
	p    netip.Prefix
}

func (db *DB) touchRouter(a *area, id uint32) {
	if !db.mute {
		db.touchedR = append(db.touchedR, areaRouter{a.id, id})
	}
}

// touchRoute notes route l of router id in area a: e is a summary,
// ASBR-summary, external or NSSA LSA whose route l may have joined or
// left the router's view there, or changed.
func (db *DB) touchRoute(a *area, id uint32, e *entry, l Link) {
	if !db.mute {
		db.touchedRoute = append(db.touchedRoute, areaRoute{a.id, id, routeIDOf(e.k.typ(), l), e})
	}
}

func (db *DB) touchNetwork(a *area, p netip.Prefix) {
	if !db.mute {
		db.touchedN = append(db.touchedN, areaNetwork{a.id, p})
	}
}

// appendStates appends to db.out the state records of what the commit
// touched: the whole state, after the commit, of each router and network
// whose view may have changed, in area then ID order. A replica that
// applies them holds the same view as the database.
func (db *DB) appendStates(ts int64) {
	slices.SortFunc(db.touchedR, func(x, y areaRouter) int { return cmp.Or(cmp.Compare(x.area, y.area), cmp.Compare(x.id, y.id)) })
	db.touchedR = slices.Compact(db.touchedR)
	for _, t := range db.touchedR {
		ev := Event{Time: ts, Area: addrOf(t.area), Entity: EntityRouterState, Router: addrOf(t.id)}
		if a := db.areas[t.area]; a != nil {
			if n := a.routers[t.id]; n != nil {
				rv := coreView(t.id, n)
				ev.RouterState = &rv
			}
		}
		db.out = append(db.out, ev)
	}
	slices.SortFunc(db.touchedN, func(x, y areaNetwork) int {
		return cmp.Or(cmp.Compare(x.area, y.area), comparePrefixes(x.p, y.p))
	})
	db.touchedN = slices.Compact(db.touchedN)
	for _, t := range db.touchedN {
		ev := Event{Time: ts, Area: addrOf(t.area), Entity: EntityNetworkState, Network: t.p}
		if a := db.areas[t.area]; a != nil {
			if n := a.networks[t.p]; n != nil {
				nv := networkView(t.p, n)
				ev.NetworkState = &nv
			}
		}
		db.out = append(db.out, ev)
	}
	slices.SortFunc(db.touchedRoute, func(x, y areaRoute) int {
		return cmp.Or(cmp.Compare(x.area, y.area), cmp.Compare(x.id, y.id), x.e.k.compare(y.e.k),
			cmp.Compare(x.route.Type, y.route.Type), comparePrefixes(x.route.Prefix, y.route.Prefix))
	})
	db.touchedRoute = slices.Compact(db.touchedRoute)
	for _, t := range db.touchedRoute {
		db.out = append(db.out, Event{Time: ts, Area: addrOf(t.area), Entity: EntityRouteState, Router: addrOf(t.id),
			RouteID: t.route, RouterState: db.routeView(t.area, t.id, t.route, t.e)})
	}
	db.touchedR = db.touchedR[:0]
	db.touchedN = db.touchedN[:0]
	clear(db.touchedRoute)
	db.touchedRoute = db.touchedRoute[:0]
}
