package topo

import (
	"hash/fnv"
	"math"
	"slices"
)

// Point is a vertex's place on the map, in the map's units (about
// EdgeLength between linked vertices).
type Point struct{ X, Y float64 }

// EdgeLength is the length a layout aims at for a link.
const EdgeLength = 60

// Key names a vertex on the map: a router ID, or a transit network as
// prefix@area (always with its area, so that the name stays the same when
// another area comes to use the same prefix).
func (g *Graph) Key(v int32) string {
	x := &g.Vertices[v]
	if x.Kind == RouterVertex {
		return x.Router.String()
	}
	return x.Prefix.String() + "@" + x.Area.String()
}

// Layout places every vertex of the graph and returns the places by Key.
// The vertices that prev places keep their places exactly; the others go
// near the vertices they link to (or, with none placed, just outside the
// map), so that a map drawn from an earlier layout changes only where the
// network did. With no vertex of the graph in prev, the whole graph is
// laid out by a force-directed layout (Fruchterman and Reingold's, with
// the Barnes-Hut approximation of the repulsion) from places derived from
// the vertices' keys: the same graph always gets the same layout. prev is
// not modified.
func (g *Graph) Layout(prev map[string]Point) map[string]Point {
	n := len(g.Vertices)
	out := make(map[string]Point, n)
	keys := make([]string, n)
	placed := make([]bool, n)
	pos := make([]Point, n)
	some := false
	for v := range n {
		keys[v] = g.Key(int32(v))
		if p, ok := prev[keys[v]]; ok {
			pos[v], placed[v], some = p, true, true
		}
	}
	adj := g.neighbours()
	if !some {
		forceLayout(keys, adj, pos)
	} else {
		placeNear(keys, adj, pos, placed)
	}
	for v := range n {
		out[keys[v]] = pos[v]
	}
	return out
}

// neighbours are the vertices each vertex links to, either way, each once.
func (g *Graph) neighbours() [][]int32 {
	adj := make([][]int32, len(g.Vertices))
	for u := range g.Out {
		for _, e := range g.Out[u] {
			if e.To == int32(u) {
				continue
			}
			adj[u] = append(adj[u], e.To)
			adj[e.To] = append(adj[e.To], int32(u))
		}
	}
	for v := range adj {
		slices.Sort(adj[v])
		adj[v] = slices.Compact(adj[v])
	}
	return adj
}

// hash01 maps a key and a salt to [0, 1).
func hash01(key string, salt byte) float64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte{salt})
	_, _ = h.Write([]byte(key))
	return float64(h.Sum64()>>11) / (1 << 53)
}

// placeNear places the vertices not placed yet: each at the centre of its
// placed neighbours, shifted by a little less than a link in a direction
// derived from its key, in rounds so that a chain of new vertices grows
// from the placed end; those that reach no placed vertex go on a ring
// around the map.
func placeNear(keys []string, adj [][]int32, pos []Point, placed []bool) {
	for {
		var round []int32
		for v := range pos {
			if placed[v] {
				continue
			}
			for _, u := range adj[v] {
				if placed[u] {
					round = append(round, int32(v))
					break
				}
			}
		}
		if len(round) == 0 {
			break
		}
		next := make([]Point, len(round))
		for i, v := range round {
			var c Point
			k := 0
			for _, u := range adj[v] {
				if placed[u] {
					c.X += pos[u].X
					c.Y += pos[u].Y
					k++
				}
			}
			a := 2 * math.Pi * hash01(keys[v], 1)
			r := EdgeLength * (0.6 + 0.3*hash01(keys[v], 2))
			next[i] = Point{c.X/float64(k) + r*math.Cos(a), c.Y/float64(k) + r*math.Sin(a)}
		}
		for i, v := range round {
			pos[v], placed[v] = next[i], true
		}
	}
	// The rest reach nothing placed: a ring outside the map.
	var cx, cy, radius float64
	k := 0
	for v := range pos {
		if placed[v] {
			cx += pos[v].X
			cy += pos[v].Y
			k++
		}
	}
	if k > 0 {
		cx, cy = cx/float64(k), cy/float64(k)
	}
	for v := range pos {
		if placed[v] {
			radius = max(radius, math.Hypot(pos[v].X-cx, pos[v].Y-cy))
		}
	}
	radius += 2 * EdgeLength
	for v := range pos {
		if !placed[v] {
			a := 2 * math.Pi * hash01(keys[v], 1)
			pos[v] = Point{cx + radius*math.Cos(a), cy + radius*math.Sin(a)}
			placed[v] = true
		}
	}
}

// forceLayout lays the graph out from scratch.
func forceLayout(keys []string, adj [][]int32, pos []Point) {
	n := len(pos)
	if n == 0 {
		return
	}
	const k = EdgeLength
	side := k * math.Sqrt(float64(n)) * 1.5
	for v := range pos {
		pos[v] = Point{(hash01(keys[v], 3) - 0.5) * side, (hash01(keys[v], 4) - 0.5) * side}
	}
	var edges [][2]int32
	for u := range adj {
		for _, v := range adj[u] {
			if int32(u) < v {
				edges = append(edges, [2]int32{int32(u), v})
			}
		}
	}
	iters := 300
	if n > 3000 {
		iters = 150
	}
	disp := make([]Point, n)
	var qt quadTree
	temp := side / 10
	cool := temp / float64(iters+1)
	for range iters {
		clear(disp)
		qt.build(pos)
		for v := range pos {
			fx, fy := qt.repulse(pos[v], k*k)
			disp[v].X += fx
			disp[v].Y += fy
		}
		for _, e := range edges {
			u, v := e[0], e[1]
			dx, dy := pos[u].X-pos[v].X, pos[u].Y-pos[v].Y
			d := math.Hypot(dx, dy)
			if d < 1e-9 {
				continue
			}
			f := d / k // d²/k along the unit vector
			disp[u].X -= dx * f
			disp[u].Y -= dy * f
			disp[v].X += dx * f
			disp[v].Y += dy * f
		}
		for v := range pos {
			// Gravity keeps the pieces of a disconnected graph together.
			disp[v].X -= pos[v].X * 0.02 * float64(len(adj[v])+1)
			disp[v].Y -= pos[v].Y * 0.02 * float64(len(adj[v])+1)
			d := math.Hypot(disp[v].X, disp[v].Y)
			if d < 1e-9 {
				continue
			}
			s := math.Min(d, temp) / d
			pos[v].X += disp[v].X * s
			pos[v].Y += disp[v].Y * s
		}
		temp -= cool
	}
	gather(adj, pos)
	for v := range pos {
		pos[v] = Point{math.Round(pos[v].X*10) / 10, math.Round(pos[v].Y*10) / 10}
	}
}

// gather brings the pieces of a disconnected graph that the repulsion
// pushed far out (a router without links, a pair of routers linked to
// nothing else) next to the largest piece: each moves as a whole, along
// the line from the centre, to just outside the largest piece's radius.
func gather(adj [][]int32, pos []Point) {
	comp := make([]int32, len(pos))
	for v := range comp {
		comp[v] = -1
	}
	var sizes []int
	for v := range pos {
		if comp[v] >= 0 {
			continue
		}
		c := int32(len(sizes))
		stack := []int32{int32(v)}
		comp[v] = c
		n := 0
		for len(stack) > 0 {
			u := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			for _, w := range adj[u] {
				if comp[w] < 0 {
					comp[w] = c
					stack = append(stack, w)
				}
			}
		}
		sizes = append(sizes, n)
	}
	if len(sizes) < 2 {
		return
	}
	main := int32(0)
	for c, n := range sizes {
		if n > sizes[main] {
			main = int32(c)
		}
	}
	centre := func(c int32) (Point, float64) {
		var p Point
		n := 0
		for v := range pos {
			if comp[v] == c {
				p.X += pos[v].X
				p.Y += pos[v].Y
				n++
			}
		}
		p.X, p.Y = p.X/float64(n), p.Y/float64(n)
		r := 0.0
		for v := range pos {
			if comp[v] == c {
				r = max(r, math.Hypot(pos[v].X-p.X, pos[v].Y-p.Y))
			}
		}
		return p, r
	}
	mc, mr := centre(main)
	for c := range int32(len(sizes)) {
		if c == main {
			continue
		}
		cc, cr := centre(c)
		d := math.Hypot(cc.X-mc.X, cc.Y-mc.Y)
		want := mr + cr + EdgeLength
		if d <= want {
			continue
		}
		ux, uy := 1.0, 0.0
		if d > 1e-9 {
			ux, uy = (cc.X-mc.X)/d, (cc.Y-mc.Y)/d
		}
		dx, dy := mc.X+ux*want-cc.X, mc.Y+uy*want-cc.Y
		for v := range pos {
			if comp[v] == c {
				pos[v].X += dx
				pos[v].Y += dy
			}
		}
	}
}

// quadTree is a Barnes-Hut tree of points: the repulsion of a far cell is
// that of its mass at its centre.
type quadTree struct {
	cells []qcell
	pts   []Point
	stack []int32
}

type qcell struct {
	cx, cy, half float64 // the square
	mx, my, mass float64 // centre of mass and number of points
	child        [4]int32
	point        int32 // the one point of a leaf, -1 for none or an inner cell
}

const theta2 = 0.8 * 0.8

func (q *quadTree) build(pts []Point) {
	q.pts = pts
	q.cells = q.cells[:0]
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		minX, minY, maxX, maxY = min(minX, p.X), min(minY, p.Y), max(maxX, p.X), max(maxY, p.Y)
	}
	half := max(maxX-minX, maxY-minY)/2 + 1
	q.cells = append(q.cells, qcell{cx: (minX + maxX) / 2, cy: (minY + maxY) / 2, half: half, point: -1, child: [4]int32{-1, -1, -1, -1}})
	for i := range pts {
		q.insert(0, int32(i), 0)
	}
}

func (q *quadTree) insert(c int32, p int32, depth int) {
	pt := q.pts[p]
	for {
		cell := &q.cells[c]
		cell.mx = (cell.mx*cell.mass + pt.X) / (cell.mass + 1)
		cell.my = (cell.my*cell.mass + pt.Y) / (cell.mass + 1)
		cell.mass++
		if cell.mass == 1 {
			cell.point = p
			return
		}
		if depth > 40 { // coincident points: keep them in one leaf
			return
		}
		if old := cell.point; old >= 0 {
			cell.point = -1
			q.pushDown(c, old)
		}
		c = q.childFor(c, pt)
		depth++
	}
}

// pushDown moves a leaf's point into the child cell that holds it.
func (q *quadTree) pushDown(c int32, p int32) {
	ch := q.childFor(c, q.pts[p])
	cell := &q.cells[ch]
	cell.mx, cell.my, cell.mass, cell.point = q.pts[p].X, q.pts[p].Y, 1, p
}

// childFor returns the child of c whose square holds pt, made if needed.
func (q *quadTree) childFor(c int32, pt Point) int32 {
	cell := q.cells[c]
	i := 0
	if pt.X >= cell.cx {
		i |= 1
	}
	if pt.Y >= cell.cy {
		i |= 2
	}
	if ch := cell.child[i]; ch >= 0 {
		return ch
	}
	h := cell.half / 2
	nc := qcell{cx: cell.cx - h, cy: cell.cy - h, half: h, point: -1, child: [4]int32{-1, -1, -1, -1}}
	if i&1 != 0 {
		nc.cx = cell.cx + h
	}
	if i&2 != 0 {
		nc.cy = cell.cy + h
	}
	q.cells = append(q.cells, nc)
	ch := int32(len(q.cells) - 1)
	q.cells[c].child[i] = ch
	return ch
}

// repulse returns the repulsion on a point at p: k2/d from every other
// point, away from it.
func (q *quadTree) repulse(p Point, k2 float64) (fx, fy float64) {
	stack := append(q.stack[:0], 0)
	defer func() { q.stack = stack }()
	for len(stack) > 0 {
		cell := &q.cells[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if cell.mass == 0 {
			continue
		}
		dx, dy := p.X-cell.mx, p.Y-cell.my
		d2 := dx*dx + dy*dy
		leaf := cell.child == [4]int32{-1, -1, -1, -1}
		if leaf || (2*cell.half)*(2*cell.half) < theta2*d2 {
			if d2 < 1e-6 {
				if !leaf || cell.mass == 1 {
					continue // the point itself (or a coincident one)
				}
				// Coincident points: push apart by a fixed small step.
				dx, dy, d2 = 0.01, 0.01, 0.0002
			}
			f := k2 * cell.mass / d2 // (k²/d) * mass along the unit vector (dx/d)
			fx += dx * f
			fy += dy * f
			continue
		}
		for _, ch := range cell.child {
			if ch >= 0 {
				stack = append(stack, ch)
			}
		}
	}
	return fx, fy
}
