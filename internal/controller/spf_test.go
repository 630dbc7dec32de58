package controller

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// nycSnapshotPath is the real LSDB fixture of the repository.
var nycSnapshotPath = filepath.Join("..", "..", "testdata", "nycmesh-lsdb-2023-04-29.json")

func parseSnapshot(t testing.TB, js string) *lsdb.Snapshot {
	t.Helper()
	s, err := lsdb.ParseSnapshot([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadNYC(t testing.TB) *lsdb.Snapshot {
	t.Helper()
	data, err := os.ReadFile(nycSnapshotPath)
	if err != nil {
		t.Fatal(err)
	}
	return parseSnapshot(t, string(data))
}

// spfTopology has, in the backbone, a two-way chain 1 -10- 2 -5- 3, a link
// from 1 to 4 that 4 does not report back, a transit network 10.0.0.0/24
// joining 3 and 5 (and naming 6, which has no link to it), parallel links
// 2 - 9 of metric 8 and 3; in area 1, ABR 5 with a two-way link to 7; and
// 2's ASBR-summary route to 8, which is in no area of the root.
const spfTopology = `{"areas": {
  "0.0.0.0": {
    "routers": {
      "10.0.0.1": {"links": {"router": [{"id": "10.0.0.2", "metric": 10}, {"id": "10.0.0.4", "metric": 1}]}},
      "10.0.0.2": {"links": {"router": [{"id": "10.0.0.1", "metric": 10}, {"id": "10.0.0.3", "metric": 5},
                                        {"id": "10.0.0.9", "metric": 8}, {"id": "10.0.0.9", "metric": 3}],
                             "xrouter": [{"id": "10.0.0.8", "metric": 7}]}},
      "10.0.0.3": {"links": {"router": [{"id": "10.0.0.2", "metric": 5}], "network": [{"id": "10.0.0.0/24", "metric": 1}]}},
      "10.0.0.4": {"links": {"stubnet": [{"id": "10.4.0.0/24", "metric": 1}]}},
      "10.0.0.5": {"links": {"network": [{"id": "10.0.0.0/24", "metric": 2}]}},
      "10.0.0.6": {"links": {"stubnet": [{"id": "10.6.0.0/24", "metric": 1}]}},
      "10.0.0.9": {"links": {"router": [{"id": "10.0.0.2", "metric": 8}]}}
    },
    "networks": {"10.0.0.0/24": {"dr": "10.0.0.3", "routers": ["10.0.0.3", "10.0.0.5", "10.0.0.6"]}}
  },
  "0.0.0.1": {
    "routers": {
      "10.0.0.5": {"links": {"router": [{"id": "10.0.0.7", "metric": 3}]}},
      "10.0.0.7": {"links": {"router": [{"id": "10.0.0.5", "metric": 4}]}}
    },
    "networks": {}
  }
}}`

func TestShortestPaths(t *testing.T) {
	snap := parseSnapshot(t, spfTopology)
	a := netip.MustParseAddr
	tests := []struct {
		name string
		root netip.Addr
		want map[netip.Addr]int64
	}{
		{
			name: "from the end of the chain",
			root: a("10.0.0.1"),
			want: map[netip.Addr]int64{
				a("10.0.0.1"): 0,
				a("10.0.0.2"): 10,
				a("10.0.0.3"): 15, // 10 + 5
				a("10.0.0.9"): 13, // the cheaper of the parallel links
				a("10.0.0.5"): 16, // 15 + 1 to the network, 0 from it
				a("10.0.0.7"): 19, // through ABR 5 into area 1
				a("10.0.0.8"): 17, // 2's ASBR-summary route
				// 4: its link back is missing; 6: no link to the network.
			},
		},
		{
			name: "from inside area 1",
			root: a("10.0.0.7"),
			want: map[netip.Addr]int64{
				a("10.0.0.7"): 0,
				a("10.0.0.5"): 4,
				a("10.0.0.3"): 6, // 4 + 2 to the network
				a("10.0.0.2"): 11,
				a("10.0.0.9"): 14,
				a("10.0.0.1"): 21,
				a("10.0.0.8"): 18,
			},
		},
		{
			name: "from a router with no two-way link",
			root: a("10.0.0.4"),
			want: map[netip.Addr]int64{a("10.0.0.4"): 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, known := ShortestPaths(snap, tt.root)
			if !known {
				t.Fatalf("ShortestPaths(%s): root not known", tt.root)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ShortestPaths(%s) (-want +got):\n%s", tt.root, diff)
			}
		})
	}
}

func TestShortestPathsUnknownRoot(t *testing.T) {
	snap := parseSnapshot(t, spfTopology)
	for _, root := range []netip.Addr{{}, netip.MustParseAddr("192.0.2.1")} {
		if got, known := ShortestPaths(snap, root); known || got != nil {
			t.Errorf("ShortestPaths(%v) = %v, %v; want nil, false", root, got, known)
		}
	}
	if _, known := ShortestPaths(nil, netip.MustParseAddr("10.0.0.1")); known {
		t.Error("ShortestPaths(nil snapshot) knows the root")
	}
}

func TestShortestPathsIgnoresBadIDs(t *testing.T) {
	snap := parseSnapshot(t, `{"areas": {"0.0.0.0": {
	  "routers": {
	    "10.0.0.1": {"links": {"router": [{"id": "bogus", "metric": 1}, {"id": "10.0.0.2", "metric": 2}],
	                           "network": [{"id": "bad/prefix", "metric": 1}]}},
	    "10.0.0.2": {"links": {"router": [{"id": "10.0.0.1", "metric": 2}]}},
	    "not-an-id": {"links": {"router": [{"id": "10.0.0.1", "metric": 1}]}}
	  },
	  "networks": {"nonsense": {"dr": "x", "routers": ["y"]}}}}}`)
	got, known := ShortestPaths(snap, netip.MustParseAddr("10.0.0.1"))
	want := map[netip.Addr]int64{netip.MustParseAddr("10.0.0.1"): 0, netip.MustParseAddr("10.0.0.2"): 2}
	if !known || !cmp.Equal(want, got) {
		t.Errorf("ShortestPaths = %v, %v; want %v, true", got, known, want)
	}
}

// On the real NYC LSDB every router that has a two-way path from the
// root is reached, and the costs satisfy the triangle inequality along
// every two-way router link.
func TestShortestPathsNYC(t *testing.T) {
	snap := loadNYC(t)
	root := netip.MustParseAddr("10.69.2.27")
	costs, known := ShortestPaths(snap, root)
	if !known {
		t.Fatal("root not known")
	}
	if costs[root] != 0 {
		t.Errorf("cost of the root = %d, want 0", costs[root])
	}
	routers := snap.Areas["0.0.0.0"].Routers
	if len(costs) < len(routers)/2 {
		t.Errorf("reached %d of %d routers", len(costs), len(routers))
	}
	for id, r := range routers {
		from := netip.MustParseAddr(id)
		cf, ok := costs[from]
		if !ok {
			continue
		}
		for _, l := range r.Links.Router {
			to := netip.MustParseAddr(l.ID)
			if nb := routers[l.ID]; nb == nil || !linksBack(nb.Links.Router, from) {
				continue
			}
			ct, ok := costs[to]
			if !ok {
				t.Errorf("%s is reached but its two-way neighbour %s is not", from, to)
				continue
			}
			if ct > cf+int64(l.Metric) {
				t.Errorf("cost(%s) = %d > cost(%s) + %d = %d", to, ct, from, l.Metric, cf+int64(l.Metric))
			}
		}
	}
}

func BenchmarkShortestPathsNYC(b *testing.B) {
	snap := loadNYC(b)
	root := netip.MustParseAddr("10.69.2.27")
	for b.Loop() {
		ShortestPaths(snap, root)
	}
}
