package controller

import (
	"net/netip"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// ShortestPaths runs Dijkstra's algorithm (package topo) over the routers and transit
// networks of v, rooted at root, and returns the cost of the shortest path
// to every router it reaches (0 for root). rootKnown is false when root is
// not a router of the view; the map is then nil.
//
// The graph is the one of RFC 2328 section 16.1, over all areas at once:
//
//   - a router link (point-to-point or virtual) from R to N of metric m is
//     an edge R->N, used only when N reports a router link back to R in
//     the same area (the two-way check);
//   - a network link from R to a transit network of metric m is an edge
//     R->network, used only when the network lists R; the network reaches
//     each listed router that has a network link to it at cost 0;
//   - an ASBR-summary (xrouter) link from an ABR to an ASBR of metric m is an
//     edge ABR->ASBR: it is how routers outside the root's areas are
//     reached.
//
// A router is a single vertex across all its areas, so paths cross area
// borders through ABRs. Stub networks, summary prefixes and externals do
// not lead to routers and are ignored.
func ShortestPaths(v *lsdb.View, root netip.Addr) (costs map[netip.Addr]int64, rootKnown bool) {
	g := topo.Build(v)
	src, ok := g.Router(root)
	if !ok {
		return nil, false
	}
	t := g.SPF(src, false, topo.NoFailure)
	costs = make(map[netip.Addr]int64, len(g.Vertices))
	for i := range g.Vertices {
		if x := &g.Vertices[i]; x.Kind == topo.RouterVertex && t.Dist[i] != topo.Unreachable {
			costs[x.Router] = t.Dist[i]
		}
	}
	return costs, true
}
