package topo

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// MaxPaths caps the equal-cost paths a query lists.
const MaxPaths = 16

// Hop is one vertex of a path, with the cost of the edge that led to it
// (0 for the first) or, for a final prefix, the cost of the route to it.
type Hop struct {
	ID   string `json:"id"`
	Type string `json:"type"` // router, network or prefix
	Cost uint32 `json:"cost"`
	Area string `json:"area,omitempty"`
}

// Route is the answer to a path query in one direction.
type Route struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Reachable bool   `json:"reachable"`
	// Cost is the total cost; for a type 2 external route it is the
	// route's metric, and ASBRCost the cost to reach the ASBR.
	Cost     int64   `json:"cost"`
	ASBRCost *int64  `json:"asbrCost,omitempty"`
	Class    string  `json:"class,omitempty"` // for a prefix: intra-area, inter-area, external-1, external-2
	Paths    [][]Hop `json:"paths"`
}

// PathAnswer is a path query's answer: the route from A to B and, when B
// is a router, the route back, which OSPF's asymmetric costs may make
// another.
type PathAnswer struct {
	Route
	Reverse *Route `json:"reverse,omitempty"`
}

// Path answers "what is the path from A to B": from is a router ID, to a
// router ID, a prefix, or an address (the longest prefix that contains
// it).
func (g *Graph) Path(from, to string) (*PathAnswer, error) {
	src, err := g.routerArg(from)
	if err != nil {
		return nil, err
	}
	fwd := g.SPF(src, false, NoFailure)
	if dst, ok := g.routerOf(to); ok {
		ans := &PathAnswer{Route: g.routeTo(fwd, dst)}
		back := g.routeTo(g.SPF(src, true, NoFailure), dst)
		ans.Reverse = &back
		return ans, nil
	}
	p, err := g.prefixArg(to)
	if err != nil {
		return nil, err
	}
	r := g.routeToPrefix(fwd, src, p)
	return &PathAnswer{Route: r}, nil
}

func (g *Graph) routerArg(s string) (int32, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a router ID: %w", s, err)
	}
	v, ok := g.routers[a]
	if !ok {
		return 0, fmt.Errorf("router %s is not in the LSDB", a)
	}
	return v, nil
}

func (g *Graph) routerOf(s string) (int32, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	v, ok := g.routers[a]
	return v, ok
}

// prefixArg reads a prefix, or an address as the longest prefix of the
// graph that contains it.
func (g *Graph) prefixArg(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		p = p.Masked()
		if _, ok := g.Attachments()[p]; !ok {
			return p, fmt.Errorf("no route to %s in the LSDB", p)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Prefix{}, fmt.Errorf("%q is neither a router ID, an IPv4 prefix nor an IPv4 address", s)
	}
	for bits := 32; bits >= 0; bits-- {
		p := netip.PrefixFrom(a, bits).Masked()
		if _, ok := g.Attachments()[p]; ok {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no route contains %s in the LSDB", a)
}

// routeTo is the route from a forward tree's root to dst, or from dst to
// a reversed tree's root.
func (g *Graph) routeTo(t *Tree, dst int32) Route {
	r := Route{From: g.ID(t.Root), To: g.ID(dst), Cost: t.Dist[dst], Paths: [][]Hop{}}
	if t.Reverse {
		r.From, r.To = r.To, r.From
	}
	if t.Dist[dst] == Unreachable {
		return r
	}
	r.Reachable = true
	for _, p := range t.Paths(dst, MaxPaths) {
		r.Paths = append(r.Paths, g.hops(p))
	}
	return r
}

func (g *Graph) hops(p []int32) []Hop {
	hs := make([]Hop, len(p))
	for i, v := range p {
		hs[i] = Hop{ID: g.ID(v), Type: g.Vertices[v].Kind.String()}
		if i > 0 {
			hs[i].Cost, _ = g.Cost(p[i-1], v)
			// The area of the link taken: a link's rather than an
			// ABR's ASBR-summary of the same cost.
			for _, e := range g.Out[p[i-1]] {
				if e.To == v && e.Cost == hs[i].Cost && (hs[i].Area == "" || e.Kind != ASBRSummary) {
					hs[i].Area = e.Area.String()
					if e.Kind != ASBRSummary {
						break
					}
				}
			}
		}
	}
	return hs
}

// areasOf returns the areas of a router: those of its edges and of the
// prefixes it leads to within an area.
func (g *Graph) areasOf(v int32) map[netip.Addr]bool {
	as := map[netip.Addr]bool{}
	for _, e := range g.Out[v] {
		if e.Kind != ASBRSummary {
			as[e.Area] = true
		}
	}
	if x := &g.Vertices[v]; x.Kind == RouterVertex {
		for i := range g.view.Areas {
			a := &g.view.Areas[i]
			if r := a.Router(x.Router); r != nil && r.HasLSA {
				as[a.ID] = true
			}
		}
	}
	return as
}

// routeToPrefix chooses the route to p as OSPF prefers them: intra-area
// routes in an area of the source first, then inter-area (summaries, or a
// prefix of another area reached through ABRs), then type 1 externals,
// then type 2 (least metric, then least cost to the ASBR).
func (g *Graph) routeToPrefix(t *Tree, src int32, p netip.Prefix) Route {
	r := Route{From: g.ID(src), To: p.String(), Paths: [][]Hop{}}
	srcAreas := g.areasOf(src)
	type cand struct {
		a    Attachment
		cls  RouteClass
		cost int64 // total cost (type 2: the metric)
		asbr int64
	}
	var cands []cand
	for _, a := range g.Attachments()[p] {
		d := t.Dist[a.Vertex]
		if d == Unreachable {
			continue
		}
		c := cand{a: a, cls: a.Class, cost: d + int64(a.Metric), asbr: d}
		if a.Class == IntraArea && !srcAreas[a.Area] {
			c.cls = InterArea
		}
		if a.Class == External2 {
			c.cost = int64(a.Metric)
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return r
	}
	less := func(x, y cand) int {
		return cmp.Or(cmp.Compare(x.cls, y.cls), cmp.Compare(x.cost, y.cost), cmp.Compare(x.asbr, y.asbr))
	}
	slices.SortStableFunc(cands, less)
	best := cands[0]
	r.Reachable, r.Cost, r.Class = true, best.cost, best.cls.String()
	if best.cls == External2 {
		asbr := best.asbr
		r.ASBRCost = &asbr
	}
	seen := map[int32]bool{}
	for _, c := range cands {
		if less(c, best) != 0 || seen[c.a.Vertex] {
			continue
		}
		seen[c.a.Vertex] = true
		// A transit network's own prefix ends at the network.
		atNetwork := g.Vertices[c.a.Vertex].Kind == NetworkVertex
		for _, path := range t.Paths(c.a.Vertex, MaxPaths-len(r.Paths)) {
			hs := g.hops(path)
			if !atNetwork {
				hs = append(hs, Hop{ID: p.String(), Type: "prefix", Cost: c.a.Metric, Area: areaString(c.a.Area)})
			}
			r.Paths = append(r.Paths, hs)
		}
	}
	return r
}

func areaString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// Change is a router whose cost from the root a failure changes.
type Change struct {
	Router string `json:"router"`
	Before int64  `json:"before"`
	// After is the cost with the failure; absent when unreachable.
	After *int64 `json:"after,omitempty"`
}

// WhatIf is the answer to "what breaks if this fails".
type WhatIf struct {
	Root        string   `json:"root"`
	Fail        string   `json:"fail"`
	Unreachable []Change `json:"unreachable"`
	Changed     []Change `json:"changed"`
}

// WhatIf lists the routers that become unreachable from root, or whose
// cost from it changes, if fail fails: a router ID, or "A-B", the link
// between routers A and B (both directions, every parallel link), or
// between router A and transit network B (a prefix).
func (g *Graph) WhatIf(root, fail string) (*WhatIf, error) {
	src, err := g.routerArg(root)
	if err != nil {
		return nil, err
	}
	f, err := g.failureArg(fail)
	if err != nil {
		return nil, err
	}
	if f.B < 0 && f.Vertex == src {
		return nil, fmt.Errorf("the root %s cannot fail: ask from another router", root)
	}
	before := g.SPF(src, false, NoFailure)
	after := g.SPF(src, false, f)
	w := &WhatIf{Root: g.ID(src), Fail: strings.TrimSpace(fail), Unreachable: []Change{}, Changed: []Change{}}
	for v := range g.Vertices {
		if g.Vertices[v].Kind != RouterVertex || int32(v) == f.Vertex && f.B < 0 {
			continue
		}
		b, a := before.Dist[v], after.Dist[v]
		switch {
		case b == Unreachable || a == b:
		case a == Unreachable:
			w.Unreachable = append(w.Unreachable, Change{Router: g.ID(int32(v)), Before: b})
		default:
			w.Changed = append(w.Changed, Change{Router: g.ID(int32(v)), Before: b, After: &a})
		}
	}
	return w, nil
}

func (g *Graph) failureArg(s string) (Failure, error) {
	s = strings.TrimSpace(s)
	if v, ok := g.routerOf(s); ok {
		return Failure{Vertex: v, B: -1}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return Failure{}, fmt.Errorf("%q is neither a router of the LSDB nor a link A-B", s)
	}
	u, err := g.routerArg(a)
	if err != nil {
		return Failure{}, err
	}
	if v, ok := g.routerOf(b); ok {
		if _, linked := g.Cost(u, v); !linked {
			return Failure{}, fmt.Errorf("no link between %s and %s", a, b)
		}
		return Failure{Vertex: u, B: v}, nil
	}
	p, err := netip.ParsePrefix(strings.TrimSpace(b))
	if err != nil {
		return Failure{}, fmt.Errorf("%q: the far end is neither a router of the LSDB nor a network prefix", b)
	}
	for _, e := range g.Out[u] {
		if e.Kind == ToNetwork && g.Vertices[e.To].Prefix == p.Masked() {
			return Failure{Vertex: u, B: e.To}, nil
		}
	}
	return Failure{}, fmt.Errorf("router %s is not attached to network %s", a, p)
}
