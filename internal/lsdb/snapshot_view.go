package lsdb

import (
	"fmt"
	"net/netip"
	"slices"
)

// ViewFromSnapshot reads a snapshot in the seed's format (a file of an
// archive, another tool's output) as a View. The seed's format has no
// flags, tags, DR interface addresses or link-state IDs: the view has
// none either, and a router has a Router-LSA (HasLSA) when it has router,
// network or stubnet links, or nothing at all (a router is in a snapshot
// for its Router-LSA or its routes). It fails on IDs that do not parse.
//
// The snapshot's order becomes the view's arrival indexes (see View):
// per area, networks are numbered in the order the snapshot lists them,
// and routers, then within each router its Router-LSA and its externals,
// in the order the snapshot lists them, "external" before or after the
// Router-LSA's kinds as the router's links have it. So the view's
// Snapshot is written as s is, and what is added to the view later (with
// larger indexes) comes after.
func ViewFromSnapshot(s *Snapshot) (*View, error) {
	v := &View{Updated: s.SnapshotTime()}
	for _, aid := range sortedKeys(s.Areas) {
		area, err := netip.ParseAddr(aid)
		if err != nil || !area.Is4() {
			return nil, fmt.Errorf("snapshot: area %q is not a dotted quad", aid)
		}
		a := s.Areas[aid]
		av := AreaView{ID: area, Routers: make([]RouterView, 0, len(a.Routers)), Networks: make([]NetworkView, 0, len(a.Networks))}
		var order uint64
		for _, rid := range orderedKeys(a.Routers, a.routerOrder) {
			id, err := netip.ParseAddr(rid)
			if err != nil || !id.Is4() {
				return nil, fmt.Errorf("snapshot: area %s: router %q is not a dotted quad", aid, rid)
			}
			rv, err := routerFromSnapshot(id, area, a.Routers[rid], &order)
			if err != nil {
				return nil, fmt.Errorf("snapshot: area %s: router %s: %w", aid, rid, err)
			}
			av.Routers = append(av.Routers, rv)
		}
		for i, pk := range orderedKeys(a.Networks, a.networkOrder) {
			p, err := parsePrefix(pk)
			if err != nil {
				return nil, fmt.Errorf("snapshot: area %s: network %q: %w", aid, pk, err)
			}
			n := a.Networks[pk]
			if n == nil {
				return nil, fmt.Errorf("snapshot: area %s: network %s is null", aid, pk)
			}
			nv := NetworkView{Prefix: p, Routers: make([]netip.Addr, 0, len(n.Routers)), Order: uint64(i + 1)}
			if nv.DR, err = parseAddr(n.DR); err != nil {
				return nil, fmt.Errorf("snapshot: area %s: network %s: dr: %w", aid, pk, err)
			}
			for _, m := range n.Routers {
				r, err := parseAddr(m)
				if err != nil {
					return nil, fmt.Errorf("snapshot: area %s: network %s: router: %w", aid, pk, err)
				}
				nv.Routers = append(nv.Routers, r)
			}
			av.Networks = append(av.Networks, nv)
		}
		// sortedKeys sorts IPv4 keys as numbers, so the order is the view's.
		slices.SortFunc(av.Routers, func(x, y RouterView) int { return x.ID.Compare(y.ID) })
		slices.SortFunc(av.Networks, func(x, y NetworkView) int { return comparePrefixes(x.Prefix, y.Prefix) })
		if len(av.Routers) > 0 || len(av.Networks) > 0 {
			v.Areas = append(v.Areas, av)
		}
	}
	return v, nil
}

// routerFromSnapshot reads one router; order is the last arrival index
// given in its area.
func routerFromSnapshot(id, area netip.Addr, rs *RouterSnapshot, order *uint64) (RouterView, error) {
	rv := RouterView{ID: id}
	next := func() uint64 { *order++; return *order }
	if rs == nil {
		rv.HasLSA, rv.LSAOrder = true, next()
		return rv, nil
	}
	L := &rs.Links
	// The Router-LSA's kinds in the order they are written, and whether
	// "external" comes before them.
	var kinds []LinkKind
	extFirst := false
	for _, k := range append(rs.Links.kinds[:], defaultKinds[:]...) {
		switch {
		case k == KindExternal && len(kinds) == 0 && len(L.External) > 0:
			extFirst = true
		case (k == KindRouter || k == KindNetwork || k == KindStubnet) && !slices.Contains(kinds, k):
			kinds = append(kinds, k)
		}
	}
	for _, k := range kinds {
		for i, sl := range L.kind(k) {
			l, err := snapshotLink(k, sl)
			if err != nil {
				return rv, fmt.Errorf("%s link %d: %w", k, i, err)
			}
			rv.Links = append(rv.Links, l)
		}
	}
	rv.HasLSA = len(rv.Links) > 0 || len(L.External) == 0 && len(L.NSSAExt) == 0 && len(L.XNetwork) == 0 && len(L.XRouter) == 0
	for _, kl := range []struct {
		kind LinkKind
		ls   []SnapshotLink
	}{{KindXNetwork, L.XNetwork}, {KindXRouter, L.XRouter}} {
		for i, sl := range kl.ls {
			l, err := snapshotLink(kl.kind, sl)
			if err != nil {
				return rv, fmt.Errorf("%s link %d: %w", kl.kind, i, err)
			}
			rv.Summaries = append(rv.Summaries, l)
		}
	}
	var err error
	if rv.HasLSA && !extFirst {
		rv.LSAOrder = next()
	}
	if rv.Externals, err = snapshotRoutes(L.External, netip.Addr{}, next); err != nil {
		return rv, fmt.Errorf("external: %w", err)
	}
	if rv.HasLSA && extFirst {
		rv.LSAOrder = next()
	}
	if rv.NSSA, err = snapshotRoutes(L.NSSAExt, area, next); err != nil {
		return rv, fmt.Errorf("nssa-ext: %w", err)
	}
	slices.SortFunc(rv.Summaries, compareLinks)
	slices.SortFunc(rv.Externals, compareRoutes)
	slices.SortFunc(rv.NSSA, compareRoutes)
	return rv, nil
}

func snapshotLink(k LinkKind, sl SnapshotLink) (Link, error) {
	id, err := parseLinkID(k, sl.ID)
	if err != nil {
		return Link{}, err
	}
	return NewLink(k, id, sl.Metric, false, netip.Addr{}), nil
}

func snapshotRoutes(xs []SnapshotExternal, nssaArea netip.Addr, next func() uint64) ([]Route, error) {
	var out []Route
	for i, x := range xs {
		p, err := parsePrefix(x.ID)
		if err != nil {
			return nil, fmt.Errorf("route %d: %w", i, err)
		}
		r := Route{Prefix: p, Area: nssaArea, Order: next()}
		switch {
		case x.Metric != nil && x.Metric2 == nil:
			r.Metric = *x.Metric
		case x.Metric2 != nil && x.Metric == nil:
			r.Metric, r.Type2 = *x.Metric2, true
		default:
			return nil, fmt.Errorf("route %d (%s): want exactly one of metric and metric2", i, x.ID)
		}
		if r.Forward, err = parseVia(KindExternal, x.ID, x.Via); err != nil {
			return nil, fmt.Errorf("route %d: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// kind returns the links of a router, network, stubnet, xnetwork or
// xrouter kind.
func (L *Links) kind(k LinkKind) []SnapshotLink {
	switch k {
	case KindRouter:
		return L.Router
	case KindNetwork:
		return L.Network
	case KindStubnet:
		return L.Stubnet
	case KindXNetwork:
		return L.XNetwork
	case KindXRouter:
		return L.XRouter
	}
	return nil
}
