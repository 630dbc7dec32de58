package ospfapitest_test

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

func TestCloneAddr(t *testing.T) {
	tests := []struct {
		in   string
		k    int
		want string
	}{
		{"10.69.7.13", 0, "10.69.7.13"},
		{"10.69.7.13", 1, "11.69.7.13"},
		{"10.69.7.13", 39, "45.69.7.13"},
		{"199.167.59.1", 3, "196.167.59.1"},
		{"0.0.0.0", 5, "0.0.0.0"},
	}
	for _, tt := range tests {
		if got := ospfapitest.CloneAddr(addr(tt.in), tt.k); got != addr(tt.want) {
			t.Errorf("CloneAddr(%s, %d) = %s, want %s", tt.in, tt.k, got, tt.want)
		}
	}
}

func TestCloneNYCx40(t *testing.T) {
	base := ospfapitest.NYC(t)
	lsas, err := ospfapitest.Clone(base, 40)
	if err != nil {
		t.Fatal(err)
	}
	if len(lsas) != 51480 {
		t.Fatalf("%d LSAs, want 51480", len(lsas))
	}
	keys := map[ospfapitest.Key]bool{}
	routerClone := map[netip.Addr]int{}
	for i, al := range lsas {
		k := ospfapitest.KeyOf(al.Area, al.LSA)
		if keys[k] {
			t.Fatalf("duplicate %s", k)
		}
		keys[k] = true
		clone := i / len(base)
		adv := al.LSA.Hdr().AdvRouter
		if c, ok := routerClone[adv]; ok && c != clone {
			t.Fatalf("router %s in clones %d and %d", adv, c, clone)
		}
		routerClone[adv] = clone
		raw, err := ospf.Marshal(al.LSA)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ospf.Decode(raw); err != nil {
			t.Fatalf("LSA %d: %v", i, err)
		}
	}
	if len(routerClone) != 40*592 {
		t.Errorf("%d advertising routers, want %d", len(routerClone), 40*592)
	}
	// Clone 0 is the original.
	for i := range base {
		a, _ := ospf.Marshal(base[i].LSA)
		b, _ := ospf.Marshal(lsas[i].LSA)
		if string(a) != string(b) {
			t.Fatalf("clone 0 differs at LSA %d", i)
		}
	}
}

// Each clone, loaded into an lsdb.DB, is the original graph with every
// address mapped: 40 disjoint copies of the 592 routers and 3 networks.
func TestCloneGraph(t *testing.T) {
	lsas, err := ospfapitest.Clone(ospfapitest.NYC(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	db := lsdb.New(lsdb.Config{})
	db.BeginSync()
	for _, al := range lsas {
		raw, _ := ospf.Marshal(al.LSA)
		if err := db.Update(al.Area, raw, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	db.EndSync()
	s, _ := db.Snapshot()
	a := s.Areas["0.0.0.0"]
	if len(a.Routers) != 3*592 || len(a.Networks) != 3*3 {
		t.Fatalf("%d routers, %d networks, want %d, %d", len(a.Routers), len(a.Networks), 3*592, 9)
	}
	orig := readSnapshot(t, ospfapitest.Fixture).Areas["0.0.0.0"]
	for k := 1; k < 3; k++ {
		for p, n := range orig.Networks {
			pp := netip.MustParsePrefix(p)
			mp := netip.PrefixFrom(ospfapitest.CloneAddr(pp.Addr(), k), pp.Bits())
			got := a.Networks[mp.String()]
			if got == nil {
				t.Fatalf("clone %d: no network %s", k, mp)
			}
			want := &lsdb.NetworkSnapshot{DR: ospfapitest.CloneAddr(addr(n.DR), k).String()}
			for _, r := range n.Routers {
				want.Routers = append(want.Routers, ospfapitest.CloneAddr(addr(r), k).String())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("clone %d network %s (-want +got):\n%s", k, mp, diff)
			}
		}
		r := a.Routers[ospfapitest.CloneAddr(addr("10.68.73.125"), k).String()]
		wantR := orig.Routers["10.68.73.125"]
		if r == nil || len(r.Links.Router) != len(wantR.Links.Router) || len(r.Links.Stubnet) != len(wantR.Links.Stubnet) {
			t.Errorf("clone %d: router 10.68.73.125 is %+v, want %+v", k, r, wantR)
		}
	}
}

func TestCloneCollision(t *testing.T) {
	// 11.0.0.1 exists in the original; 10.0.0.1 of clone 1 would become it.
	s := &lsdb.Snapshot{Areas: map[string]*lsdb.AreaSnapshot{"0.0.0.0": {Routers: map[string]*lsdb.RouterSnapshot{
		"10.0.0.1": {Links: lsdb.Links{Router: []lsdb.SnapshotLink{{ID: "11.0.0.1", Metric: 1}}}},
		"11.0.0.1": {Links: lsdb.Links{Router: []lsdb.SnapshotLink{{ID: "10.0.0.1", Metric: 1}}}},
	}}}}
	lsas, err := ospfapitest.FromSnapshot(s, ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ospfapitest.Clone(lsas, 2); err == nil || !strings.Contains(err.Error(), "an address of clone 0") {
		t.Errorf("Clone: %v, want a collision error", err)
	}
	for _, n := range []int{0, 257} {
		if _, err := ospfapitest.Clone(lsas, n); err == nil {
			t.Errorf("Clone(%d) succeeded", n)
		}
	}
}
