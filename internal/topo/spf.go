package topo

import (
	"container/heap"
	"slices"
)

// Unreachable is the distance of a vertex that no path reaches.
const Unreachable = -1

// Failure removes a router, or the edges between two vertices, from the
// graph for one computation: what-ifs run SPF with one.
type Failure struct {
	// Vertex fails as a whole when B is negative; otherwise the edges
	// between Vertex and B, both ways, fail.
	Vertex, B int32
}

// NoFailure fails nothing.
var NoFailure = Failure{Vertex: -1, B: -1}

func (f Failure) blocks(from int32, e *Edge) bool {
	if f.Vertex < 0 {
		return false
	}
	if f.B < 0 {
		return from == f.Vertex || e.To == f.Vertex
	}
	return from == f.Vertex && e.To == f.B || from == f.B && e.To == f.Vertex
}

// Tree is the result of Dijkstra's algorithm from (or, reversed, towards)
// one vertex: each vertex's distance and its equal-cost predecessors.
type Tree struct {
	g       *Graph
	Root    int32
	Reverse bool
	Dist    []int64
	// Pred are, for each vertex, the vertices before it on its shortest
	// paths (after it, for a reversed tree): every one of equal cost.
	Pred [][]int32
}

// SPF computes the shortest paths from root over the out edges or, with
// reverse set, towards root over the in edges, with f failed.
func (g *Graph) SPF(root int32, reverse bool, f Failure) *Tree {
	n := len(g.Vertices)
	t := &Tree{g: g, Root: root, Reverse: reverse, Dist: make([]int64, n), Pred: make([][]int32, n)}
	for i := range t.Dist {
		t.Dist[i] = Unreachable
	}
	if f.B < 0 && f.Vertex == root {
		return t
	}
	adj := g.Out
	if reverse {
		adj = g.In
	}
	t.Dist[root] = 0
	done := make([]bool, n)
	q := &pq{{root, 0}}
	for q.Len() > 0 {
		it := heap.Pop(q).(item)
		if done[it.v] {
			continue
		}
		done[it.v] = true
		for i := range adj[it.v] {
			e := &adj[it.v][i]
			blocked := f.blocks(it.v, e)
			if reverse {
				blocked = f.blocks(e.To, &Edge{To: it.v})
			}
			if blocked {
				continue
			}
			d := it.d + int64(e.Cost)
			switch cur := t.Dist[e.To]; {
			case done[e.To]:
				// Settled, but an equal-cost way in still counts: a router
				// reached at the same cost through a LAN (whose edges to
				// its routers cost 0) may be settled before the LAN is.
				if d == cur && !slices.Contains(t.Pred[e.To], it.v) {
					t.Pred[e.To] = append(t.Pred[e.To], it.v)
				}
			case cur == Unreachable || d < cur:
				t.Dist[e.To] = d
				t.Pred[e.To] = append(t.Pred[e.To][:0], it.v)
				heap.Push(q, item{e.To, d})
			case d == cur && !slices.Contains(t.Pred[e.To], it.v): // parallel links: one predecessor
				t.Pred[e.To] = append(t.Pred[e.To], it.v)
			}
		}
	}
	return t
}

// Paths returns up to max shortest paths between the tree's root and v,
// each as vertices from the root's side: root first for a forward tree,
// v first for a reversed one. None when v is unreachable.
func (t *Tree) Paths(v int32, max int) [][]int32 {
	if t.Dist[v] == Unreachable {
		return nil
	}
	var out [][]int32
	var walk func(v int32, suffix []int32)
	walk = func(v int32, suffix []int32) {
		if len(out) >= max {
			return
		}
		suffix = append(suffix, v)
		if v == t.Root {
			p := make([]int32, len(suffix))
			for i := range suffix {
				if t.Reverse {
					p[i] = suffix[i]
				} else {
					p[i] = suffix[len(suffix)-1-i]
				}
			}
			out = append(out, p)
			return
		}
		for _, u := range t.Pred[v] {
			if !slices.Contains(suffix, u) { // a loop of zero-cost links
				walk(u, suffix)
			}
		}
	}
	walk(v, make([]int32, 0, 16))
	return out
}

// Cost returns the cost of the cheapest edge from u to v not failed.
func (g *Graph) Cost(u, v int32) (uint32, bool) {
	best, found := uint32(0), false
	for _, e := range g.Out[u] {
		if e.To == v && (!found || e.Cost < best) {
			best, found = e.Cost, true
		}
	}
	return best, found
}

type item struct {
	v int32
	d int64
}

type pq []item

func (q pq) Len() int { return len(q) }
func (q pq) Less(i, j int) bool {
	return q[i].d < q[j].d || q[i].d == q[j].d && q[i].v < q[j].v
}
func (q pq) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *pq) Push(x any)   { *q = append(*q, x.(item)) }
func (q *pq) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
