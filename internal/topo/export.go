package topo

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// Formats are the graph formats Export writes besides the seed's JSON.
var Formats = []string{"netjson", "dot", "graphml"}

// Export writes the graph in format (netjson, dot or graphml). self, when
// valid, is the router whose view of the LSDB this is (NetJSON's router_id).
func (g *Graph) Export(w io.Writer, format string, self netip.Addr) error {
	switch format {
	case "netjson":
		return g.NetJSON(w, self)
	case "dot":
		return g.DOT(w)
	case "graphml":
		return g.GraphML(w)
	}
	return fmt.Errorf("unknown format %q (want json, %s)", format, strings.Join(Formats, ", "))
}

// externalCounts counts the external and NSSA routes of each vertex.
func (g *Graph) externalCounts() map[int32]int {
	n := map[int32]int{}
	for _, as := range g.Attachments() {
		for _, a := range as {
			if a.Class == External1 || a.Class == External2 {
				n[a.Vertex]++
			}
		}
	}
	return n
}

// nodeProps are what every format says of a vertex; ext are the
// externalCounts.
func (g *Graph) nodeProps(v int32, ext map[int32]int) (kind string, props [][2]string) {
	x := &g.Vertices[v]
	if x.Kind == NetworkVertex {
		return "network", [][2]string{{"type", "network"}, {"area", x.Area.String()}, {"prefix", x.Prefix.String()}}
	}
	props = [][2]string{{"type", "router"}}
	f := g.Flags[x.Router]
	for _, b := range []struct {
		bit  uint8
		name string
	}{{ospf.RouterFlagB, "abr"}, {ospf.RouterFlagE, "asbr"}, {ospf.RouterFlagV, "virtual_link"}} {
		if f&b.bit != 0 {
			props = append(props, [2]string{b.name, "true"})
		}
	}
	if n := ext[v]; n > 0 {
		props = append(props, [2]string{"externals", strconv.Itoa(n)})
	}
	return "router", props
}

// edges are the graph's edges in vertex order, ASBR-summary edges left
// out: they are routes, not links.
func (g *Graph) edges(yield func(from int32, e Edge) bool) {
	for v := range g.Out {
		for _, e := range g.Out[v] {
			if e.Kind != ASBRSummary && !yield(int32(v), e) {
				return
			}
		}
	}
}

type netJSONGraph struct {
	Type     string        `json:"type"`
	Protocol string        `json:"protocol"`
	Version  string        `json:"version"`
	Metric   string        `json:"metric"`
	RouterID string        `json:"router_id,omitempty"`
	Label    string        `json:"label"`
	Nodes    []netJSONNode `json:"nodes"`
	Links    []netJSONLink `json:"links"`
}

type netJSONNode struct {
	ID         string            `json:"id"`
	Label      string            `json:"label,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

type netJSONLink struct {
	Source     string            `json:"source"`
	Target     string            `json:"target"`
	Cost       float64           `json:"cost"`
	Properties map[string]string `json:"properties,omitempty"`
}

// NetJSON writes a NetJSON NetworkGraph: routers and transit networks as
// nodes, each directed edge as a link with its OSPF cost.
func (g *Graph) NetJSON(w io.Writer, self netip.Addr) error {
	doc := netJSONGraph{Type: "NetworkGraph", Protocol: "OSPF", Version: "2", Metric: "cost", Label: "OSPF LSDB",
		Nodes: make([]netJSONNode, 0, len(g.Vertices)), Links: []netJSONLink{}}
	if self.IsValid() {
		doc.RouterID = self.String()
	}
	ext := g.externalCounts()
	for v := range g.Vertices {
		_, props := g.nodeProps(int32(v), ext)
		n := netJSONNode{ID: g.ID(int32(v)), Label: g.ID(int32(v)), Properties: map[string]string{}}
		for _, p := range props {
			n.Properties[p[0]] = p[1]
		}
		doc.Nodes = append(doc.Nodes, n)
	}
	for from, e := range g.edges {
		doc.Links = append(doc.Links, netJSONLink{Source: g.ID(from), Target: g.ID(e.To), Cost: float64(e.Cost),
			Properties: map[string]string{"area": e.Area.String()}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// DOT writes a Graphviz digraph: routers as ellipses, transit networks as
// boxes, edges labelled with their cost.
func (g *Graph) DOT(w io.Writer) error {
	var b strings.Builder
	b.WriteString("digraph ospf {\n\tnode [shape=ellipse];\n")
	ext := g.externalCounts()
	for v := range g.Vertices {
		kind, props := g.nodeProps(int32(v), ext)
		attrs := []string{"label=" + dotQuote(g.ID(int32(v)))}
		if kind == "network" {
			attrs = append(attrs, "shape=box")
		}
		for _, p := range props {
			if p[0] == "abr" || p[0] == "asbr" {
				attrs = append(attrs, "peripheries=2")
				break
			}
		}
		fmt.Fprintf(&b, "\t%s [%s];\n", dotQuote(g.ID(int32(v))), strings.Join(slices.Compact(attrs), ", "))
	}
	for from, e := range g.edges {
		fmt.Fprintf(&b, "\t%s -> %s [label=%s, weight=1, area=%s];\n", dotQuote(g.ID(from)), dotQuote(g.ID(e.To)),
			dotQuote(strconv.FormatUint(uint64(e.Cost), 10)), dotQuote(e.Area.String()))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// GraphML writes the graph as GraphML (directed), with the vertex kind,
// area, prefix and flags as node data and the cost and area as edge data.
func (g *Graph) GraphML(w io.Writer) error {
	type data struct {
		Key   string `xml:"key,attr"`
		Value string `xml:",chardata"`
	}
	type node struct {
		ID   string `xml:"id,attr"`
		Data []data `xml:"data"`
	}
	type edge struct {
		Source string `xml:"source,attr"`
		Target string `xml:"target,attr"`
		Data   []data `xml:"data"`
	}
	type key struct {
		ID   string `xml:"id,attr"`
		For  string `xml:"for,attr"`
		Name string `xml:"attr.name,attr"`
		Type string `xml:"attr.type,attr"`
	}
	type graph struct {
		ID          string `xml:"id,attr"`
		EdgeDefault string `xml:"edgedefault,attr"`
		Nodes       []node `xml:"node"`
		Edges       []edge `xml:"edge"`
	}
	type doc struct {
		XMLName xml.Name `xml:"graphml"`
		NS      string   `xml:"xmlns,attr"`
		Keys    []key    `xml:"key"`
		Graph   graph    `xml:"graph"`
	}
	d := doc{NS: "http://graphml.graphdrawing.org/xmlns", Keys: []key{
		{"type", "node", "type", "string"}, {"area", "node", "area", "string"}, {"prefix", "node", "prefix", "string"},
		{"abr", "node", "abr", "boolean"}, {"asbr", "node", "asbr", "boolean"}, {"virtual_link", "node", "virtual_link", "boolean"},
		{"externals", "node", "externals", "int"},
		{"cost", "edge", "cost", "long"}, {"earea", "edge", "area", "string"},
	}, Graph: graph{ID: "ospf", EdgeDefault: "directed"}}
	ext := g.externalCounts()
	for v := range g.Vertices {
		_, props := g.nodeProps(int32(v), ext)
		n := node{ID: g.ID(int32(v))}
		for _, p := range props {
			n.Data = append(n.Data, data{p[0], p[1]})
		}
		d.Graph.Nodes = append(d.Graph.Nodes, n)
	}
	for from, e := range g.edges {
		d.Graph.Edges = append(d.Graph.Edges, edge{Source: g.ID(from), Target: g.ID(e.To),
			Data: []data{{"cost", strconv.FormatUint(uint64(e.Cost), 10)}, {"earea", e.Area.String()}}})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(d); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
