//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/topo"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// ospfdRoute is one route of `show ip ospf route json`.
type ospfdRoute struct {
	RouteType string `json:"routeType"`
	Cost      int64  `json:"cost"`
	Type2Cost *int64 `json:"type2cost"`
	Area      string `json:"area"`
	Nexthops  []struct {
		IP                 string `json:"ip"`
		Via                string `json:"via"`
		DirectlyAttachedTo string `json:"directlyAttachedTo"`
	} `json:"nexthops"`
}

// ospfdRoutes reads router's OSPF routing table: its network routes
// (intra-area, inter-area, external) by prefix.
func ospfdRoutes(t *testing.T, l *frrlab.Lab, router string) map[netip.Prefix]ospfdRoute {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := l.VtyshJSON(router, "show ip ospf route json", &raw); err != nil {
		t.Fatal(err)
	}
	out := map[netip.Prefix]ospfdRoute{}
	for k, v := range raw {
		p, err := netip.ParsePrefix(k)
		if err != nil {
			continue // a router route (ABRs and ASBRs by router ID)
		}
		var r ospfdRoute
		if err := json.Unmarshal(v, &r); err != nil {
			t.Fatalf("%s on %s: %s: %v", "show ip ospf route json", router, v, err)
		}
		out[p] = r
	}
	return out
}

// TestE2EPathsAgreeWithOSPFD asks `ospf-operator path --server` for the
// path from each lab router to every prefix in its ospfd's routing table
// (loopbacks, links, the LAN, the other area's prefixes through the ABR
// and the virtual link, the ASBRs' externals), and compares the cost, the
// route's class and the first hops (ECMP included) with ospfd's own.
func TestE2EPathsAgreeWithOSPFD(t *testing.T) {
	l := frrlab.Start(t, frrlab.Options{})
	bin := buildOperator(t)
	// A next hop is a router over a link: "10.0.0.3 over lan". ospfd
	// names it by the router's address on the link; a path by its hops.
	owner := map[netip.Addr]string{}
	byPrefix := map[string]string{}   // a LAN's prefix -> its name
	between := map[[2]string]string{} // router IDs -> their point-to-point link
	for _, lk := range l.Topology().Links {
		var ids []string
		for _, a := range lk.Ends {
			r, _ := l.Router(a.Router)
			owner[a.Addr] = r.ID.String() + " over " + lk.Name
			ids = append(ids, r.ID.String())
		}
		if lk.Kind == frrlab.Broadcast {
			byPrefix[lk.Prefix.String()] = lk.Name
		} else {
			between[[2]string{ids[0], ids[1]}], between[[2]string{ids[1], ids[0]}] = lk.Name, lk.Name
		}
	}
	compared, ecmp := 0, 0
	for _, r := range l.Routers() {
		routes := ospfdRoutes(t, l, r.Name)
		if len(routes) == 0 {
			t.Fatalf("%s: ospfd has no routes", r.Name)
		}
		for _, p := range slices.SortedFunc(func(yield func(netip.Prefix) bool) {
			for p := range routes {
				if !yield(p) {
					return
				}
			}
		}, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) }) {
			want := routes[p]
			cmd := l.Exec(r.Name, bin, "path", "--server", r.ID.String(), r.ID.String(), p.String())
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("%s -> %s: path: %v: %s", r.Name, p, err, out)
				continue
			}
			var got topo.PathAnswer
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%s -> %s: %v: %s", r.Name, p, err, out)
			}
			what := fmt.Sprintf("%s (%s) -> %s", r.Name, r.ID, p)
			if os.Getenv("E2E_VERBOSE") != "" {
				t.Logf("%s: ospfd %+v; ours cost %d class %s paths %v", what, want, got.Cost, got.Class, got.Paths)
			}
			if !got.Reachable {
				t.Errorf("%s: unreachable, ospfd has %+v", what, want)
				continue
			}
			// The class: N (intra-area), N IA, N E1, N E2.
			class := map[string]string{"N": "intra-area", "N IA": "inter-area", "N E1": "external-1", "N E2": "external-2"}[strings.TrimSpace(want.RouteType)]
			if got.Class != class {
				t.Errorf("%s: class %s, ospfd's route is %q", what, got.Class, want.RouteType)
			}
			switch class {
			case "external-2":
				if want.Type2Cost == nil || got.Cost != *want.Type2Cost || got.ASBRCost == nil || *got.ASBRCost != want.Cost {
					t.Errorf("%s: metric %d, cost to the ASBR %v; ospfd: %d, %d", what, got.Cost, got.ASBRCost, deref(want.Type2Cost), want.Cost)
				}
			default:
				if got.Cost != want.Cost {
					t.Errorf("%s: cost %d, ospfd's %d", what, got.Cost, want.Cost)
				}
			}
			// The first hops: the routers after r on each equal-cost path
			// (past a LAN), against ospfd's next hops.
			var hops, ospfdHops []string
			for _, path := range got.Paths {
				switch {
				case len(path) > 2 && path[1].Type == "network":
					hops = append(hops, path[2].ID+" over "+byPrefix[path[1].ID])
				case len(path) > 1 && path[1].Type == "router":
					hops = append(hops, path[1].ID+" over "+between[[2]string{r.ID.String(), path[1].ID}])
				}
			}
			for _, nh := range want.Nexthops {
				if a, err := netip.ParseAddr(strings.TrimSpace(nh.IP)); err == nil && a.IsValid() && !a.IsUnspecified() {
					ospfdHops = append(ospfdHops, owner[a])
				}
			}
			slices.Sort(hops)
			hops = slices.Compact(hops)
			slices.Sort(ospfdHops)
			ospfdHops = slices.Compact(ospfdHops)
			if !slices.Equal(hops, ospfdHops) {
				t.Errorf("%s: next hops %v, ospfd's %v", what, hops, ospfdHops)
			}
			if len(ospfdHops) > 1 {
				ecmp++
			}
			compared++
		}
	}
	t.Logf("compared %d routes of 5 routers with ospfd's routing tables, %d of them equal-cost multipath", compared, ecmp)
	if ecmp == 0 {
		t.Error("no route with equal-cost next hops: the lab should have some")
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}
