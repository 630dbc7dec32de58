package topo

import (
	"net/netip"
	"slices"
	"sync"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// VertexKind says what a vertex of the graph is.
type VertexKind uint8

// Vertex kinds.
const (
	RouterVertex VertexKind = iota + 1
	NetworkVertex
)

func (k VertexKind) String() string {
	if k == NetworkVertex {
		return "network"
	}
	return "router"
}

// Vertex is a router (one vertex across all its areas) or a transit
// network of one area.
type Vertex struct {
	Kind VertexKind
	// Router is the router ID of a router vertex.
	Router netip.Addr
	// Area and Prefix name a network vertex.
	Area   netip.Addr
	Prefix netip.Prefix
}

// ID is the vertex as the exports and the path queries name it: a router
// ID, or a network's prefix (with its area after an '@' when the prefix is
// a transit network of more than one area).
func (g *Graph) ID(v int32) string {
	x := &g.Vertices[v]
	if x.Kind == RouterVertex {
		return x.Router.String()
	}
	if g.netAreas[x.Prefix] > 1 {
		return x.Prefix.String() + "@" + x.Area.String()
	}
	return x.Prefix.String()
}

// EdgeKind says where an edge comes from.
type EdgeKind uint8

// Edge kinds.
const (
	// PointToPoint: a router link (point-to-point or virtual) that the
	// far end reports back.
	PointToPoint EdgeKind = iota + 1
	// ToNetwork: a router's transit link to a network that lists it.
	ToNetwork
	// FromNetwork: a network to one of its routers that links to it (cost 0).
	FromNetwork
	// ASBRSummary: an ABR's ASBR-summary route to an ASBR in another area.
	ASBRSummary
)

// Edge is a directed edge of the graph.
type Edge struct {
	To   int32
	Cost uint32
	Kind EdgeKind
	Area netip.Addr
}

// Attachment is a prefix a vertex leads to: a stub network, a transit
// network's own prefix, a summary route, an external or NSSA route.
type Attachment struct {
	Vertex int32
	Prefix netip.Prefix
	Metric uint32
	Class  RouteClass
	// Type2 is set for a type 2 external metric.
	Type2 bool
	Area  netip.Addr
}

// RouteClass orders routes to a prefix as OSPF prefers them (RFC 2328
// 11): intra-area, then inter-area, then type 1 externals, then type 2.
type RouteClass uint8

// Route classes, in order of preference.
const (
	IntraArea RouteClass = iota + 1
	InterArea
	External1
	External2
)

func (c RouteClass) String() string {
	switch c {
	case IntraArea:
		return "intra-area"
	case InterArea:
		return "inter-area"
	case External1:
		return "external-1"
	}
	return "external-2"
}

// Graph is the directed graph of RFC 2328 section 16.1 over all areas of a
// view: routers and transit networks as vertices, edges weighted by the
// cost of leaving their tail, and the prefixes each vertex leads to. A
// router is one vertex across its areas, so paths cross area borders
// through ABRs. It is immutable once built and safe for concurrent use.
type Graph struct {
	Vertices []Vertex
	Out      [][]Edge
	// In are the edges into each vertex, for paths towards a vertex.
	In [][]Edge
	// prefixes are the attachments of each prefix, made on first use
	// (Attachments): shortest paths between routers need none.
	prefixes     map[netip.Prefix][]Attachment
	prefixesOnce sync.Once
	view         *lsdb.View
	// Flags are each router's Router-LSA flag bits, ORed over its areas.
	Flags map[netip.Addr]uint8

	routers  map[netip.Addr]int32
	hasLSA   map[netip.Addr]bool // routers with a Router-LSA in some area
	networks map[areaPrefix]int32
	netAreas map[netip.Prefix]int
}

type areaPrefix struct {
	area netip.Addr
	p    netip.Prefix
}

// Router returns the vertex of a router.
func (g *Graph) Router(id netip.Addr) (int32, bool) {
	v, ok := g.routers[id]
	return v, ok
}

// Network returns the vertex of a transit network; area may be invalid
// when the prefix is a transit network of one area only.
func (g *Graph) Network(area netip.Addr, p netip.Prefix) (int32, bool) {
	if area.IsValid() {
		v, ok := g.networks[areaPrefix{area, p}]
		return v, ok
	}
	if g.netAreas[p] != 1 {
		return 0, false
	}
	for _, a := range g.Attachments()[p] {
		if g.Vertices[a.Vertex].Kind == NetworkVertex && g.Vertices[a.Vertex].Prefix == p {
			return a.Vertex, true
		}
	}
	return 0, false
}

func (g *Graph) vertex(x Vertex) int32 {
	g.Vertices = append(g.Vertices, x)
	g.Out = append(g.Out, nil)
	g.In = append(g.In, nil)
	return int32(len(g.Vertices) - 1)
}

func (g *Graph) router(id netip.Addr) int32 {
	v, ok := g.routers[id]
	if !ok {
		v = g.vertex(Vertex{Kind: RouterVertex, Router: id})
		g.routers[id] = v
	}
	return v
}

func (g *Graph) edge(from int32, e Edge) {
	g.Out[from] = append(g.Out[from], e)
	g.In[e.To] = append(g.In[e.To], Edge{To: from, Cost: e.Cost, Kind: e.Kind, Area: e.Area})
}

func (g *Graph) attach(a Attachment) {
	g.prefixes[a.Prefix] = append(g.prefixes[a.Prefix], a)
}

// Build makes the graph of a view (nil: an empty one). Routers come first, in the view's
// order, so that the same view always gives the same vertex numbers.
func Build(v *lsdb.View) *Graph {
	if v == nil {
		v = &lsdb.View{}
	}
	g := &Graph{
		view:     v,
		Flags:    map[netip.Addr]uint8{},
		routers:  map[netip.Addr]int32{},
		hasLSA:   map[netip.Addr]bool{},
		networks: map[areaPrefix]int32{},
		netAreas: map[netip.Prefix]int{},
	}
	for i := range v.Areas {
		for j := range v.Areas[i].Routers {
			r := &v.Areas[i].Routers[j]
			g.router(r.ID)
			g.Flags[r.ID] |= r.Flags
			if r.HasLSA {
				g.hasLSA[r.ID] = true
			}
		}
	}
	for i := range v.Areas {
		a := &v.Areas[i]
		for j := range a.Networks {
			n := &a.Networks[j]
			nv := g.vertex(Vertex{Kind: NetworkVertex, Area: a.ID, Prefix: n.Prefix})
			g.networks[areaPrefix{a.ID, n.Prefix}] = nv
			g.netAreas[n.Prefix]++
		}
	}
	for i := range v.Areas {
		g.addArea(&v.Areas[i])
	}
	return g
}

func (g *Graph) addArea(a *lsdb.AreaView) {
	for j := range a.Routers {
		r := &a.Routers[j]
		rv := g.routers[r.ID]
		for _, l := range r.Links {
			switch l.Kind {
			case lsdb.KindRouter:
				to := l.ID().Addr()
				if far := a.Router(to); far != nil && linksBack(far, r.ID) {
					g.edge(rv, Edge{To: g.router(to), Cost: l.Metric, Kind: PointToPoint, Area: a.ID})
				}
			case lsdb.KindNetwork:
				n := a.Network(l.ID())
				if n == nil || !slices.Contains(n.Routers, r.ID) {
					continue
				}
				nv := g.networks[areaPrefix{a.ID, n.Prefix}]
				g.edge(rv, Edge{To: nv, Cost: l.Metric, Kind: ToNetwork, Area: a.ID})
				g.edge(nv, Edge{To: rv, Cost: 0, Kind: FromNetwork, Area: a.ID})
			}
		}
		for _, l := range r.Summaries {
			// An ABR's ASBR-summary stands for the path to an ASBR of
			// another area; when the ASBR's own Router-LSA is here, its
			// links are the path, and the summary would only add a
			// shortcut that no packet takes.
			if asbr := l.ID().Addr(); l.Kind == lsdb.KindXRouter && asbr != r.ID && !g.hasLSA[asbr] {
				g.edge(rv, Edge{To: g.router(asbr), Cost: l.Metric, Kind: ASBRSummary, Area: a.ID})
			}
		}
	}
}

// Attachments returns the attachments of every prefix, by prefix: what
// each vertex leads to. It is made on first use.
func (g *Graph) Attachments() map[netip.Prefix][]Attachment {
	g.prefixesOnce.Do(func() {
		g.prefixes = map[netip.Prefix][]Attachment{}
		for i := range g.view.Areas {
			g.attachArea(&g.view.Areas[i])
		}
	})
	return g.prefixes
}

func (g *Graph) attachArea(a *lsdb.AreaView) {
	for j := range a.Networks {
		n := &a.Networks[j]
		g.attach(Attachment{Vertex: g.networks[areaPrefix{a.ID, n.Prefix}], Prefix: n.Prefix, Class: IntraArea, Area: a.ID})
	}
	for j := range a.Routers {
		r := &a.Routers[j]
		rv := g.routers[r.ID]
		for _, l := range r.Links {
			if l.Kind == lsdb.KindStubnet {
				g.attach(Attachment{Vertex: rv, Prefix: l.ID(), Metric: l.Metric, Class: IntraArea, Area: a.ID})
			}
		}
		for _, l := range r.Summaries {
			if l.Kind == lsdb.KindXNetwork {
				g.attach(Attachment{Vertex: rv, Prefix: l.ID(), Metric: l.Metric, Class: InterArea, Area: a.ID})
			}
		}
		for _, x := range r.Externals {
			g.attach(externalAttachment(rv, x))
		}
		for _, x := range r.NSSA {
			g.attach(externalAttachment(rv, x))
		}
	}
}

func externalAttachment(v int32, x lsdb.Route) Attachment {
	c := External1
	if x.Type2 {
		c = External2
	}
	return Attachment{Vertex: v, Prefix: x.Prefix, Metric: x.Metric, Class: c, Type2: x.Type2, Area: x.Area}
}

// linksBack reports whether r has a router link to id: the two-way check.
func linksBack(r *lsdb.RouterView, id netip.Addr) bool {
	for _, l := range r.Links {
		if l.Kind == lsdb.KindRouter && l.ID().Addr() == id {
			return true
		}
	}
	return false
}
