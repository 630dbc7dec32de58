package controller

import (
	"container/heap"
	"net/netip"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// ShortestPaths runs Dijkstra's algorithm over the routers and transit
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
	g := buildGraph(v)
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

func buildGraph(v *lsdb.View) *spfGraph {
	g := &spfGraph{routers: map[netip.Addr]int{}}
	if v == nil {
		return g
	}
	for i := range v.Areas {
		a := &v.Areas[i]
		// The cheapest network link of each router to each network, by
		// network and then router.
		onNet := map[netip.Prefix]map[netip.Addr]uint32{}
		for j := range a.Routers {
			r := &a.Routers[j]
			from := g.router(r.ID)
			for _, l := range r.Links {
				switch l.Kind {
				case lsdb.KindRouter:
					to := l.ID().Addr()
					if n := a.Router(to); n == nil || !linksBack(n, r.ID) {
						continue
					}
					g.adj[from] = append(g.adj[from], spfEdge{to: g.router(to), cost: int64(l.Metric)})
				case lsdb.KindNetwork:
					p := l.ID()
					if onNet[p] == nil {
						onNet[p] = map[netip.Addr]uint32{}
					}
					if m, ok := onNet[p][r.ID]; !ok || l.Metric < m {
						onNet[p][r.ID] = l.Metric
					}
				}
			}
			for _, l := range r.Summaries {
				if l.Kind == lsdb.KindXRouter {
					g.adj[from] = append(g.adj[from], spfEdge{to: g.router(l.ID().Addr()), cost: int64(l.Metric)})
				}
			}
		}
		for j := range a.Networks {
			n := &a.Networks[j]
			nv := g.vertex()
			for _, m := range n.Routers {
				metric, ok := onNet[n.Prefix][m]
				if !ok {
					continue
				}
				rv := g.router(m)
				g.adj[rv] = append(g.adj[rv], spfEdge{to: nv, cost: int64(metric)})
				g.adj[nv] = append(g.adj[nv], spfEdge{to: rv})
			}
		}
	}
	return g
}

// linksBack reports whether r has a router link to id.
func linksBack(r *lsdb.RouterView, id netip.Addr) bool {
	for _, l := range r.Links {
		if l.Kind == lsdb.KindRouter && l.ID().Addr() == id {
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
