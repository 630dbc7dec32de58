package topo_test

import (
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

func dist(a, b topo.Point) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

// linkStats returns the mean length of the graph's links in a layout and
// the mean distance between any two vertices.
func linkStats(t *testing.T, g *topo.Graph, pos map[string]topo.Point) (link, pair float64) {
	t.Helper()
	n := 0
	for u := range g.Out {
		for _, e := range g.Out[u] {
			link += dist(pos[g.Key(int32(u))], pos[g.Key(e.To)])
			n++
		}
	}
	link /= float64(n)
	m := 0
	for u := 0; u < len(g.Vertices); u += 7 {
		for v := u + 1; v < len(g.Vertices); v += 5 {
			pair += dist(pos[g.Key(int32(u))], pos[g.Key(int32(v))])
			m++
		}
	}
	return link, pair / float64(m)
}

func TestLayoutOfNYCIsDeterministicAndKeepsLinksShort(t *testing.T) {
	g := topo.Build(nycView(t, 1))
	pos := g.Layout(nil)
	if len(pos) != len(g.Vertices) {
		t.Fatalf("%d places for %d vertices", len(pos), len(g.Vertices))
	}
	for k, p := range pos {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
			t.Fatalf("%s at %v", k, p)
		}
	}
	if again := g.Layout(nil); !maps.Equal(pos, again) {
		t.Error("two layouts of the same graph differ")
	}
	// A force layout puts linked vertices near each other: links are much
	// shorter than the distance between two vertices taken at random.
	link, pair := linkStats(t, g, pos)
	t.Logf("NYC: %d vertices, mean link %.0f, mean distance %.0f", len(pos), link, pair)
	if link > pair/3 {
		t.Errorf("mean link %.0f against a mean distance of %.0f: the layout does not follow the links", link, pair)
	}
	// Pieces the repulsion pushed away (routers without links) are brought
	// back: nothing lies far beyond the bulk of the map.
	var cx, cy float64
	for _, p := range pos {
		cx, cy = cx+p.X/float64(len(pos)), cy+p.Y/float64(len(pos))
	}
	var radii []float64
	for _, p := range pos {
		radii = append(radii, math.Hypot(p.X-cx, p.Y-cy))
	}
	slices.Sort(radii)
	if r90, r := radii[len(radii)*9/10], radii[len(radii)-1]; r > 2*r90 {
		t.Errorf("a vertex lies %.0f from the centre, 90%% of them within %.0f", r, r90)
	}
	// No two vertices on top of each other.
	seen := map[topo.Point]string{}
	for k, p := range pos {
		if o, ok := seen[p]; ok {
			t.Errorf("%s and %s both at %v", k, o, p)
		}
		seen[p] = k
	}
}

func TestLayoutKeepsPlacesAndPutsNewVerticesNearTheirNeighbours(t *testing.T) {
	before := topo.Build(lab(t))
	pos := before.Layout(nil)
	if _, ok := pos["10.9.0.0/24@0.0.0.0"]; !ok {
		t.Fatalf("the LAN's key: %v", pos)
	}
	// r7 joins, linked to r5 only; r8 hangs off r7; r9 links to nobody.
	v := viewOf(t, append(labBackbone(),
		router(area1, "10.0.0.4", ospf.RouterFlagB, p2p("10.0.0.5", 5)),
		router(area1, "10.0.0.5", 0, p2p("10.0.0.4", 5), p2p("10.0.0.7", 1)),
		router(area1, "10.0.0.7", 0, p2p("10.0.0.5", 1), p2p("10.0.0.8", 1)),
		router(area1, "10.0.0.8", 0, p2p("10.0.0.7", 1)),
		router(area1, "10.0.0.9", 0, stub("10.99.0.0/24", 1)),
	)...)
	after := topo.Build(v)
	got := after.Layout(pos)
	for k, p := range pos {
		if got[k] != p {
			t.Errorf("%s moved from %v to %v", k, p, got[k])
		}
	}
	if d := dist(got["10.0.0.7"], got["10.0.0.5"]); d > topo.EdgeLength {
		t.Errorf("the new router is %.0f from its neighbour", d)
	}
	if d := dist(got["10.0.0.8"], got["10.0.0.7"]); d > topo.EdgeLength || got["10.0.0.8"] == got["10.0.0.7"] {
		t.Errorf("the new router's new neighbour is %.0f from it", d)
	}
	// The lone router lands outside the map, not on top of it.
	for k, p := range pos {
		if dist(p, got["10.0.0.9"]) < topo.EdgeLength {
			t.Errorf("the lone router is on %s (%v, %v)", k, p, got["10.0.0.9"])
		}
	}
	if again := after.Layout(pos); !maps.Equal(got, again) {
		t.Error("placing the same new vertices twice gave two places")
	}
}

func TestLayoutOfAnEmptyGraph(t *testing.T) {
	if pos := topo.Build(nil).Layout(nil); len(pos) != 0 {
		t.Errorf("places for nothing: %v", pos)
	}
}
