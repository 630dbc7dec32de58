package lsdb

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// Replica rebuilds another database's view from a View of it and the
// changes that follow it on its feed (Feed.SubscribeAll, or a relay's
// /v1/stream). The seed's events only move its position; the state records
// carry the state of what changed, so its view equals the database's at the
// end of every commit, including what no event shows (a router without
// links, a DR change, flags, tags), and the arrival order the seed's
// snapshot is written in: a router's record carries its Router-LSA's
// arrival index, a route's record its LSA's, a network's record the
// network's, so that a replica's snapshot is the database's byte for byte.
// It is not safe for concurrent use.
type Replica struct {
	seq   uint64
	areas map[netip.Addr]*replicaArea
}

type replicaArea struct {
	routers  map[netip.Addr]*replicaRouter
	networks map[netip.Prefix]*NetworkView
}

// replicaRouter is a router of an area: its own record (nil when none
// came, as for a router that only originates routes) and its routes, each
// a RouterView holding that route only.
type replicaRouter struct {
	core   *RouterView
	routes map[RouteID]*RouterView
}

// NewReplica returns a replica holding v, at v.Seq.
func NewReplica(v *View) *Replica {
	r := &Replica{seq: v.Seq, areas: make(map[netip.Addr]*replicaArea, len(v.Areas))}
	for i := range v.Areas {
		a := &v.Areas[i]
		ra := r.area(a.ID)
		for j := range a.Routers {
			rv := &a.Routers[j]
			rr := &replicaRouter{
				core:   &RouterView{ID: rv.ID, HasLSA: rv.HasLSA, Flags: rv.Flags, Links: rv.Links, LSAOrder: rv.LSAOrder},
				routes: make(map[RouteID]*RouterView, len(rv.Summaries)+len(rv.Externals)+len(rv.NSSA)),
			}
			for _, l := range rv.Summaries {
				t := ospf.SummaryLSAType
				if l.Kind == KindXRouter {
					t = ospf.ASBRSummaryLSAType
				}
				rr.routes[routeIDOf(t, l)] = &RouterView{ID: rv.ID, Summaries: []Link{l}}
			}
			for _, x := range rv.Externals {
				rr.routes[routeIDOf(ospf.ASExternalLSAType, x.Link())] = &RouterView{ID: rv.ID, Externals: []Route{x}}
			}
			for _, x := range rv.NSSA {
				rr.routes[routeIDOf(ospf.NSSAExternalLSAType, x.Link())] = &RouterView{ID: rv.ID, NSSA: []Route{x}}
			}
			ra.routers[rv.ID] = rr
		}
		for j := range a.Networks {
			ra.networks[a.Networks[j].Prefix] = &a.Networks[j]
		}
	}
	return r
}

func (r *Replica) area(id netip.Addr) *replicaArea {
	a := r.areas[id]
	if a == nil {
		a = &replicaArea{routers: map[netip.Addr]*replicaRouter{}, networks: map[netip.Prefix]*NetworkView{}}
		r.areas[id] = a
	}
	return a
}

// Seq is the sequence number of the last change applied.
func (r *Replica) Seq() uint64 { return r.seq }

// Apply applies changes in order. Each must carry the sequence number
// after the previous one: a gap means changes were lost, and Apply fails
// without applying that change or any after it (the replica must start
// again from a View).
func (r *Replica) Apply(evs ...Event) error {
	for i := range evs {
		ev := &evs[i]
		if ev.Seq != r.seq+1 {
			return fmt.Errorf("lsdb: replica at %d cannot apply change %d: changes %d..%d are missing",
				r.seq, ev.Seq, r.seq+1, ev.Seq-1)
		}
		switch ev.Entity {
		case EntityRouterState:
			if !ev.Area.Is4() || !ev.Router.Is4() || ev.RouterState != nil && ev.RouterState.ID != ev.Router {
				return fmt.Errorf("lsdb: replica: change %d: malformed router state", ev.Seq)
			}
			if ev.RouterState != nil && (ev.RouterState.Summaries != nil || ev.RouterState.Externals != nil || ev.RouterState.NSSA != nil) {
				return fmt.Errorf("lsdb: replica: change %d: a router's record with routes", ev.Seq)
			}
			rr := r.router(ev.Area, ev.Router)
			rr.core = ev.RouterState
			r.dropIfEmpty(ev.Area, ev.Router, rr)
		case EntityRouteState:
			if !ev.Area.Is4() || !ev.Router.Is4() || !ev.RouteID.Prefix.IsValid() ||
				ev.RouterState != nil && !oneRoute(ev.RouterState, ev.Router, ev.RouteID) {
				return fmt.Errorf("lsdb: replica: change %d: malformed route state", ev.Seq)
			}
			rr := r.router(ev.Area, ev.Router)
			if ev.RouterState == nil {
				delete(rr.routes, ev.RouteID)
			} else {
				rr.routes[ev.RouteID] = ev.RouterState
			}
			r.dropIfEmpty(ev.Area, ev.Router, rr)
		case EntityNetworkState:
			if !ev.Area.Is4() || !ev.Network.IsValid() || ev.NetworkState != nil && ev.NetworkState.Prefix != ev.Network {
				return fmt.Errorf("lsdb: replica: change %d: malformed network state", ev.Seq)
			}
			if ev.NetworkState == nil {
				if a := r.areas[ev.Area]; a != nil {
					delete(a.networks, ev.Network)
					r.dropAreaIfEmpty(ev.Area, a)
				}
			} else {
				r.area(ev.Area).networks[ev.Network] = ev.NetworkState
			}
		}
		r.seq = ev.Seq
	}
	return nil
}

func (r *Replica) router(area, id netip.Addr) *replicaRouter {
	a := r.area(area)
	rr := a.routers[id]
	if rr == nil {
		rr = &replicaRouter{routes: map[RouteID]*RouterView{}}
		a.routers[id] = rr
	}
	return rr
}

// dropIfEmpty removes a router that has neither its own record nor routes.
func (r *Replica) dropIfEmpty(area, id netip.Addr, rr *replicaRouter) {
	if rr.core == nil && len(rr.routes) == 0 {
		a := r.areas[area]
		delete(a.routers, id)
		r.dropAreaIfEmpty(area, a)
	}
}

func (r *Replica) dropAreaIfEmpty(id netip.Addr, a *replicaArea) {
	if len(a.routers) == 0 && len(a.networks) == 0 {
		delete(r.areas, id)
	}
}

// oneRoute reports whether rv is router's view with just the route k.
func oneRoute(rv *RouterView, router netip.Addr, k RouteID) bool {
	if rv.ID != router || rv.HasLSA || rv.Flags != 0 || rv.Links != nil || rv.LSAOrder != 0 {
		return false
	}
	switch {
	case len(rv.Summaries) == 1 && rv.Externals == nil && rv.NSSA == nil:
		l := rv.Summaries[0]
		return (k.Type == ospf.SummaryLSAType && l.Kind == KindXNetwork || k.Type == ospf.ASBRSummaryLSAType && l.Kind == KindXRouter) &&
			routeIDOf(k.Type, l) == k
	case len(rv.Externals) == 1 && rv.Summaries == nil && rv.NSSA == nil:
		x := rv.Externals[0]
		return k.Type == ospf.ASExternalLSAType && !x.Area.IsValid() && routeIDOf(k.Type, x.Link()) == k
	case len(rv.NSSA) == 1 && rv.Summaries == nil && rv.Externals == nil:
		x := rv.NSSA[0]
		return k.Type == ospf.NSSAExternalLSAType && x.Area.IsValid() && routeIDOf(k.Type, x.Link()) == k
	}
	return false
}

// view is the router's view: its own record's, with its routes in the
// order a database's view has them.
func (rr *replicaRouter) view(id netip.Addr) RouterView {
	var v RouterView
	if rr.core != nil {
		v = *rr.core
	} else {
		v.ID = id
	}
	for _, x := range rr.routes {
		v.Summaries = append(v.Summaries, x.Summaries...)
		v.Externals = append(v.Externals, x.Externals...)
		v.NSSA = append(v.NSSA, x.NSSA...)
	}
	slices.SortFunc(v.Summaries, compareLinks)
	slices.SortFunc(v.Externals, compareRoutes)
	slices.SortFunc(v.NSSA, compareRoutes)
	return v
}

// View returns the replica's view, taken at now.
func (r *Replica) View(now time.Time) *View {
	v := &View{Seq: r.seq, Updated: now, Areas: make([]AreaView, 0, len(r.areas))}
	for _, aid := range slices.SortedFunc(maps.Keys(r.areas), netip.Addr.Compare) {
		a := r.areas[aid]
		av := AreaView{ID: aid, Routers: make([]RouterView, 0, len(a.routers)), Networks: make([]NetworkView, 0, len(a.networks))}
		for _, id := range slices.SortedFunc(maps.Keys(a.routers), netip.Addr.Compare) {
			av.Routers = append(av.Routers, a.routers[id].view(id))
		}
		for _, p := range slices.SortedFunc(maps.Keys(a.networks), comparePrefixes) {
			av.Networks = append(av.Networks, *a.networks[p])
		}
		v.Areas = append(v.Areas, av)
	}
	return v
}
