package controller

import (
	"container/heap"
	"net/netip"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// ShortestPaths runs Dijkstra's algorithm over the routers and transit
// networks of snap, rooted at root, and returns the cost of the shortest
// path to every router it reaches (0 for root). rootKnown is false when root
// is not a router of the snapshot; the map is then nil.
//
// The graph is the one of RFC 2328 section 16.1, over all areas at once:
//
//   - a router link from R to N of metric m is an edge R->N, used only when
//     N reports a router link back to R in the same area (the two-way
//     check);
//   - a network link from R to a transit network of metric m is an edge
//     R->network, used only when the network lists R; the network reaches
//     each listed router that has a network link to it at cost 0;
//   - an ASBR-summary (xrouter) link from an ABR to an ASBR of metric m is an
//     edge ABR->ASBR: it is how routers outside the root's areas are
//     reached.
//
// A router is a single vertex across all its areas, so paths cross area
// borders through ABRs. Stub networks, summary prefixes and externals do
// not lead to routers and are ignored. Bad IDs in the snapshot are skipped.
func ShortestPaths(snap *lsdb.Snapshot, root netip.Addr) (costs map[netip.Addr]int64, rootKnown bool) {
	g := buildGraph(snap)
	src, ok := g.routers[root]
	if !ok {
		return nil, false
	}
	dist := g.dijkstra(src)
	costs = make(map[netip.Addr]int64, len(g.routers))
	for id, v := range g.routers {
		if d := dist[v]; d >= 0 {
			costs[id] = d
		}
	}
	return costs, true
}

// spfGraph is a directed graph of routers and networks as adjacency lists.
type spfGraph struct {
	routers map[netip.Addr]int
	adj     [][]spfEdge
}

type spfEdge struct {
	to   int
	cost int64
}

func (g *spfGraph) vertex() int {
	g.adj = append(g.adj, nil)
	return len(g.adj) - 1
}

func (g *spfGraph) router(id netip.Addr) int {
	v, ok := g.routers[id]
	if !ok {
		v = g.vertex()
		g.routers[id] = v
	}
	return v
}

func buildGraph(snap *lsdb.Snapshot) *spfGraph {
	g := &spfGraph{routers: map[netip.Addr]int{}}
	if snap == nil {
		return g
	}
	for aidS, a := range snap.Areas {
		if _, err := netip.ParseAddr(aidS); err != nil || a == nil {
			continue
		}
		// Router links by router, for the two-way check, and the routers'
		// network links by network.
		links := map[netip.Addr][]lsdb.SnapshotLink{}
		onNet := map[netip.Prefix]map[netip.Addr]uint32{}
		for rid, r := range a.Routers {
			id, err := netip.ParseAddr(rid)
			if err != nil {
				continue
			}
			g.router(id)
			if r == nil {
				continue
			}
			links[id] = r.Links.Router
			for _, l := range r.Links.Network {
				p, err := netip.ParsePrefix(l.ID)
				if err != nil {
					continue
				}
				if onNet[p] == nil {
					onNet[p] = map[netip.Addr]uint32{}
				}
				if m, ok := onNet[p][id]; !ok || l.Metric < m {
					onNet[p][id] = l.Metric
				}
			}
		}
		for id, ls := range links {
			from := g.routers[id]
			for _, l := range ls {
				to, err := netip.ParseAddr(l.ID)
				if err != nil || !linksBack(links[to], id) {
					continue
				}
				g.adj[from] = append(g.adj[from], spfEdge{to: g.router(to), cost: int64(l.Metric)})
			}
		}
		for ps, n := range a.Networks {
			p, err := netip.ParsePrefix(ps)
			if err != nil || n == nil {
				continue
			}
			nv := g.vertex()
			for _, ms := range n.Routers {
				m, err := netip.ParseAddr(ms)
				if err != nil {
					continue
				}
				metric, ok := onNet[p][m]
				if !ok {
					continue
				}
				rv := g.router(m)
				g.adj[rv] = append(g.adj[rv], spfEdge{to: nv, cost: int64(metric)})
				g.adj[nv] = append(g.adj[nv], spfEdge{to: rv})
			}
		}
		for rid, r := range a.Routers {
			id, err := netip.ParseAddr(rid)
			if err != nil || r == nil {
				continue
			}
			for _, l := range r.Links.XRouter {
				to, err := netip.ParseAddr(l.ID)
				if err != nil {
					continue
				}
				from := g.routers[id]
				g.adj[from] = append(g.adj[from], spfEdge{to: g.router(to), cost: int64(l.Metric)})
			}
		}
	}
	return g
}

// linksBack reports whether a router's links include one to id.
func linksBack(ls []lsdb.SnapshotLink, id netip.Addr) bool {
	for _, l := range ls {
		if to, err := netip.ParseAddr(l.ID); err == nil && to == id {
			return true
		}
	}
	return false
}

// dijkstra returns the distance of every vertex from src, -1 when none.
func (g *spfGraph) dijkstra(src int) []int64 {
	dist := make([]int64, len(g.adj))
	for i := range dist {
		dist[i] = -1
	}
	dist[src] = 0
	q := &spfQueue{{v: src}}
	done := make([]bool, len(g.adj))
	for q.Len() > 0 {
		it := heap.Pop(q).(spfItem)
		if done[it.v] {
			continue
		}
		done[it.v] = true
		for _, e := range g.adj[it.v] {
			d := it.d + e.cost
			if !done[e.to] && (dist[e.to] < 0 || d < dist[e.to]) {
				dist[e.to] = d
				heap.Push(q, spfItem{v: e.to, d: d})
			}
		}
	}
	return dist
}

type spfItem struct {
	v int
	d int64
}

// spfQueue is a min-heap of vertices by distance (lazy deletion).
type spfQueue []spfItem

func (q spfQueue) Len() int           { return len(q) }
func (q spfQueue) Less(i, j int) bool { return q[i].d < q[j].d }
func (q spfQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *spfQueue) Push(x any)        { *q = append(*q, x.(spfItem)) }
func (q *spfQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
