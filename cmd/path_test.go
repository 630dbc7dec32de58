package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// TestSnapshotFormats: `snapshot --format` writes the LSDB as a graph.
func TestSnapshotFormats(t *testing.T) {
	srv := nycServer(t, ospfapitest.Config{})
	out, stderr, err := execute(t, "snapshot", "--server", srv.Addr(), "--format", "netjson")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var g struct {
		Type  string
		Nodes []struct{ ID string }
		Links []struct{ Source, Target string }
	}
	if err := json.Unmarshal([]byte(out), &g); err != nil || g.Type != "NetworkGraph" || len(g.Nodes) < 590 || len(g.Links) < 1000 {
		t.Fatalf("netjson: %v, type %q, %d nodes, %d links", err, g.Type, len(g.Nodes), len(g.Links))
	}
	out, _, err = execute(t, "snapshot", "--server", srv.Addr(), "--format", "dot")
	if err != nil || !strings.HasPrefix(out, "digraph ospf {") || !strings.Contains(out, `"10.69.7.31" -> `) {
		t.Fatalf("dot: %v\n%.200s", err, out)
	}
	out, _, err = execute(t, "snapshot", "--server", srv.Addr(), "--format", "graphml")
	if err != nil || !strings.Contains(out, `<graph id="ospf" edgedefault="directed">`) {
		t.Fatalf("graphml: %v\n%.200s", err, out)
	}
	var stderrB bytes.Buffer
	if code := run([]string{"ospf-operator", "snapshot", "--format", "png"}, &bytes.Buffer{}, &stderrB); code != 2 ||
		!strings.Contains(stderrB.String(), `--format "png"`) {
		t.Fatalf("an unknown format: exit %d, %s", code, stderrB.String())
	}
}

// TestPathAndWhatIf run the two queries against ospfd and against a
// snapshot file, which must agree.
func TestPathAndWhatIf(t *testing.T) {
	srv := nycServer(t, ospfapitest.Config{})
	live, stderr, err := execute(t, "path", "--server", srv.Addr(), "10.69.7.31", "10.70.76.0/24")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	file, _, err := execute(t, "path", "--snapshot", nycPath, "10.69.7.31", "10.70.76.0/24")
	if err != nil {
		t.Fatal(err)
	}
	if live != file {
		t.Fatalf("ospfd and the snapshot file disagree:\n%s\n%s", live, file)
	}
	var ans struct {
		Reachable bool
		Cost      int64
		Paths     [][]struct{ ID string }
	}
	if err := json.Unmarshal([]byte(live), &ans); err != nil || !ans.Reachable || ans.Cost <= 0 || len(ans.Paths) == 0 ||
		ans.Paths[0][0].ID != "10.69.7.31" || ans.Paths[0][len(ans.Paths[0])-1].ID != "10.70.76.0/24" {
		t.Fatalf("path: %v %+v", err, ans)
	}
	out, _, err := execute(t, "path", "--snapshot", nycPath, "10.69.7.31", "10.69.2.27")
	if err != nil || !strings.Contains(out, `"reverse"`) {
		t.Fatalf("path to a router has no way back: %v\n%s", err, out)
	}
	if _, _, err := execute(t, "path", "--snapshot", nycPath, "10.255.0.1", "10.69.2.27"); err == nil || !strings.Contains(err.Error(), "not in the LSDB") {
		t.Fatalf("from a router not in the LSDB: %v", err)
	}
	out, _, err = execute(t, "whatif", "--snapshot", nycPath, "10.69.7.31", "10.69.19.34")
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Root        string
		Unreachable []struct{ Router string }
		Changed     []struct {
			Router        string
			Before, After int64
		}
	}
	if err := json.Unmarshal([]byte(out), &w); err != nil || w.Root != "10.69.7.31" || len(w.Unreachable)+len(w.Changed) == 0 {
		t.Fatalf("whatif of 10.69.7.31's neighbour changes nothing: %v\n%s", err, out)
	}
}
