package topo_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// edgeSet is the graph's links as "source>target:cost", sorted.
func edgeSet(g *topo.Graph) []string {
	var out []string
	for u := range g.Out {
		for _, e := range g.Out[u] {
			if e.Kind != topo.ASBRSummary {
				out = append(out, fmt.Sprintf("%s>%s:%d", g.ID(int32(u)), g.ID(e.To), e.Cost))
			}
		}
	}
	slices.Sort(out)
	return out
}

func nodeSet(g *topo.Graph) []string {
	var out []string
	for v := range g.Vertices {
		out = append(out, g.ID(int32(v)))
	}
	slices.Sort(out)
	return out
}

func TestNetJSONFollowsTheSpecification(t *testing.T) {
	g := topo.Build(nycView(t, 1))
	var b bytes.Buffer
	if err := g.Export(&b, "netjson", ip("10.69.7.31")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/netjson-networkgraph.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("netjson.json", schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("netjson.json")
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("NetJSON does not follow the schema: %v", err)
	}
	var doc struct {
		RouterID string `json:"router_id"`
		Nodes    []struct {
			ID         string            `json:"id"`
			Properties map[string]string `json:"properties"`
		} `json:"nodes"`
		Links []struct {
			Source, Target string
			Cost           float64
		} `json:"links"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var nodes, links []string
	flagged := 0
	for _, n := range doc.Nodes {
		nodes = append(nodes, n.ID)
		if n.Properties["asbr"] == "true" {
			flagged++
		}
	}
	for _, l := range doc.Links {
		links = append(links, fmt.Sprintf("%s>%s:%d", l.Source, l.Target, int(l.Cost)))
	}
	slices.Sort(nodes)
	slices.Sort(links)
	if doc.RouterID != "10.69.7.31" || !slices.Equal(nodes, nodeSet(g)) || !slices.Equal(links, edgeSet(g)) {
		t.Fatalf("NetJSON: router_id %q, %d nodes, %d links; the graph has %d and %d", doc.RouterID, len(nodes), len(links), len(nodeSet(g)), len(edgeSet(g)))
	}
	if len(nodes) < 590 || len(links) < 1000 {
		t.Fatalf("only %d nodes and %d links", len(nodes), len(links))
	}
}

// TestDOTParsesWithGraphviz feeds the DOT export to Graphviz's dot and
// reads its plain output back: every node and edge must be there.
func TestDOTParsesWithGraphviz(t *testing.T) {
	dot, err := exec.LookPath("dot")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("Graphviz's dot is required under CI=true (apt-get install graphviz)")
		}
		t.Skip("Graphviz's dot is not installed")
	}
	g := topo.Build(lab(t))
	var b bytes.Buffer
	if err := g.DOT(&b); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dot, "-Tplain")
	cmd.Stdin = &b
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dot: %v: %s\n%s", err, stderr.String(), b.String())
	}
	var nodes, edges []string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) > 1 && f[0] == "node":
			nodes = append(nodes, strings.Trim(f[1], `"`))
		case len(f) > 2 && f[0] == "edge":
			n, err := strconv.Atoi(f[3])
			if err != nil {
				t.Fatalf("dot -Tplain: %q: %v", line, err)
			}
			// edge tail head n x1 y1 .. xn yn label ...
			edges = append(edges, fmt.Sprintf("%s>%s:%s", strings.Trim(f[1], `"`), strings.Trim(f[2], `"`), strings.Trim(f[4+2*n], `"`)))
		}
	}
	slices.Sort(nodes)
	slices.Sort(edges)
	if !slices.Equal(nodes, nodeSet(g)) || !slices.Equal(edges, edgeSet(g)) {
		t.Fatalf("dot read nodes %v edges %v; want %v and %v", nodes, edges, nodeSet(g), edgeSet(g))
	}
}

// TestGraphMLReadsBack parses the GraphML export as GraphML and checks
// that it is the same graph.
func TestGraphMLReadsBack(t *testing.T) {
	g := topo.Build(lab(t))
	var b bytes.Buffer
	if err := g.GraphML(&b); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"http://graphml.graphdrawing.org/xmlns graphml"`
		Keys    []struct {
			ID   string `xml:"id,attr"`
			For  string `xml:"for,attr"`
			Name string `xml:"attr.name,attr"`
		} `xml:"key"`
		Graph struct {
			EdgeDefault string `xml:"edgedefault,attr"`
			Nodes       []struct {
				ID   string `xml:"id,attr"`
				Data []struct {
					Key   string `xml:"key,attr"`
					Value string `xml:",chardata"`
				} `xml:"data"`
			} `xml:"node"`
			Edges []struct {
				Source string `xml:"source,attr"`
				Target string `xml:"target,attr"`
				Data   []struct {
					Key   string `xml:"key,attr"`
					Value string `xml:",chardata"`
				} `xml:"data"`
			} `xml:"edge"`
		} `xml:"graph"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, k := range doc.Keys {
		keys[k.ID] = k.For + "/" + k.Name
	}
	var nodes, edges []string
	abr := ""
	for _, n := range doc.Graph.Nodes {
		nodes = append(nodes, n.ID)
		for _, d := range n.Data {
			if _, ok := keys[d.Key]; !ok {
				t.Fatalf("node %s: data key %q not declared", n.ID, d.Key)
			}
			if keys[d.Key] == "node/abr" && d.Value == "true" {
				abr = n.ID
			}
		}
	}
	for _, e := range doc.Graph.Edges {
		cost := ""
		for _, d := range e.Data {
			if keys[d.Key] == "edge/cost" {
				cost = d.Value
			}
		}
		edges = append(edges, fmt.Sprintf("%s>%s:%s", e.Source, e.Target, cost))
	}
	slices.Sort(nodes)
	slices.Sort(edges)
	if doc.Graph.EdgeDefault != "directed" || !slices.Equal(nodes, nodeSet(g)) || !slices.Equal(edges, edgeSet(g)) || abr != "10.0.0.4" {
		t.Fatalf("GraphML read back: %v %v abr %q; want %v %v", nodes, edges, abr, nodeSet(g), edgeSet(g))
	}
}
