package lsdb

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// View is the typed, read-only graph view of the database at one sequence
// number: what the snapshot shows, and what the snapshot's strings leave
// out (Router-LSA flags, designated routers' interface addresses, route
// tags, NSSA areas). DB.View takes one; a Replica rebuilds one from the
// state records of the change feed. A View is never modified after it is
// made and shares memory with nothing that is: callers may keep it and
// read it from any goroutine, and must not modify it.
//
// # Arrival order
//
// Routers, networks and routes are kept sorted by ID; what order the seed's
// snapshot lists them in travels beside, as arrival indexes: Route.Order,
// NetworkView.Order and RouterView.LSAOrder are the position of the LSA
// behind them in the order the database first received each LSA (the
// seed's lsa_dict, a Python dict in insertion order). An index is kept
// while the LSA is updated, and across a withdrawal it comes back from
// while the database still holds it (the reinstall window, the hold-down);
// an LSA that comes back after it was dropped gets a new, last index. 0
// means unknown (a view built by hand); the snapshot then falls back to
// numeric order. The indexes are one database's own: two agents on the
// same LSDB hold the same content in different orders, so digests leave
// them out (AppendContentJSON).
type View struct {
	// Seq is the sequence number of the last change (event or state
	// record) the view reflects: following the feed after Seq sees every
	// later change exactly once.
	Seq uint64
	// Updated is when the view was taken.
	Updated time.Time
	// Areas are the areas with at least one router or network, by ID.
	Areas []AreaView
}

// AreaView is one area of a View.
type AreaView struct {
	ID netip.Addr
	// Routers are the routers of the area by router ID: those with a
	// Router-LSA in the area, those a Network-LSA lists, and those that
	// originate summaries or NSSA routes into it or whose AS-external
	// routes are published under it.
	Routers []RouterView
	// Networks are the area's transit networks by prefix.
	Networks []NetworkView
}

// RouterView is one router of an area.
type RouterView struct {
	ID netip.Addr
	// HasLSA says whether the router's own Router-LSA is in the area's
	// view; Flags are its flag bits (ospf.RouterFlagB, E, V, Nt).
	HasLSA bool
	Flags  uint8
	// LSAOrder is the arrival index of its Router-LSA; 0 when it has none
	// or it is unknown. Order gives the router's own position.
	LSAOrder uint64
	// Links are the links of its Router-LSA in LSA order (KindRouter for
	// point-to-point and virtual links, KindNetwork for transit links
	// resolved to their network's prefix, KindStubnet), as the snapshot
	// lists them.
	Links []Link
	// Summaries are the summary (KindXNetwork) and ASBR-summary
	// (KindXRouter) routes it originates into the area, ordered as the
	// snapshot orders them.
	Summaries []Link
	// Externals are its AS-external routes, published under the
	// lowest-numbered area it has a Router-LSA in (the backbone when it
	// is in it, or when it has none); NSSA are the type-7 routes it
	// originates into this area. Both ordered as the snapshot orders them.
	Externals []Route
	NSSA      []Route
}

// Route is an AS-external (type 5) or NSSA (type 7) route.
type Route struct {
	Prefix netip.Prefix
	Metric uint32
	// Type2 is set for a type 2 (external) metric.
	Type2 bool
	// Forward is the forwarding address; invalid when 0.0.0.0.
	Forward netip.Addr
	Tag     uint32
	// Area is the NSSA area of a type-7 route; invalid for a type-5 route.
	Area netip.Addr
	// Order is the arrival index of its LSA; 0 when unknown.
	Order uint64
}

// NetworkView is a transit network: the Network-LSA chosen for its prefix.
type NetworkView struct {
	Prefix netip.Prefix
	// DR is the designated router's router ID (the Network-LSA's
	// advertising router); DRAddr its interface address on the network
	// (the Network-LSA's link-state ID).
	DR     netip.Addr
	DRAddr netip.Addr
	// Routers are the attached routers in LSA order.
	Routers []netip.Addr
	// Order is the smallest arrival index among the Network-LSAs of its
	// prefix (the seed keys networks by prefix: the first LSA of a prefix
	// places it, the last one fills it); 0 when unknown.
	Order uint64
}

// Area returns the area with the given ID, nil when the view has none.
func (v *View) Area(id netip.Addr) *AreaView {
	i, ok := slices.BinarySearchFunc(v.Areas, id, func(a AreaView, id netip.Addr) int { return a.ID.Compare(id) })
	if !ok {
		return nil
	}
	return &v.Areas[i]
}

// Router returns the router with the given ID, nil when the area has none.
func (a *AreaView) Router(id netip.Addr) *RouterView {
	i, ok := slices.BinarySearchFunc(a.Routers, id, func(r RouterView, id netip.Addr) int { return r.ID.Compare(id) })
	if !ok {
		return nil
	}
	return &a.Routers[i]
}

// Network returns the network with the given prefix, nil when the area has none.
func (a *AreaView) Network(p netip.Prefix) *NetworkView {
	i, ok := slices.BinarySearchFunc(a.Networks, p, func(n NetworkView, p netip.Prefix) int { return comparePrefixes(n.Prefix, p) })
	if !ok {
		return nil
	}
	return &a.Networks[i]
}

// Order is the router's position in the seed's snapshot: the smallest
// arrival index among its Router-LSA and its AS-external and NSSA routes
// (summaries, which the seed never had, do not count); 0 when none is
// known.
func (r *RouterView) Order() uint64 {
	o := r.LSAOrder
	for i := range r.Externals {
		o = minOrder(o, r.Externals[i].Order)
	}
	for i := range r.NSSA {
		o = minOrder(o, r.NSSA[i].Order)
	}
	return o
}

// minOrder is the smaller of two arrival indexes, 0 standing for unknown.
func minOrder(a, b uint64) uint64 {
	if a == 0 || b != 0 && b < a {
		return b
	}
	return a
}

// Link returns the route as the Link that events carry for it.
func (r Route) Link() Link {
	kind := KindExternal
	if r.Area.IsValid() {
		kind = KindNSSAExt
	}
	return NewLink(kind, r.Prefix, r.Metric, r.Type2, r.Forward)
}

// compareRoutes orders routes as the snapshot does: by destination
// (address, then length), then the rest.
func compareRoutes(a, b Route) int {
	return cmp.Or(compareLinks(a.Link(), b.Link()), cmp.Compare(a.Tag, b.Tag))
}
