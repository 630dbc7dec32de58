package frrlab

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpectations(t *testing.T) {
	// counts is one area's expected LSAs: router LSAs by router with their
	// link counts, then network, summary, ASBR-summary, NSSA-external.
	type counts struct {
		Links                          map[string]int
		Networks, Summ, ASBR, NSSAExts int
	}
	type router struct {
		Neighbors []string
		Areas     map[string]counts
		Externals int
	}
	// r5 is in the backbone through its virtual link to r3 (a link in each
	// one's Router-LSA there), and summarises area 1's two prefixes into
	// it as r3 does; it reaches the backbone's prefixes through area 1, so
	// only r3 summarises them into area 1.
	backbone := counts{Links: map[string]int{"10.0.0.1": 3, "10.0.0.2": 6, "10.0.0.3": 5, "10.0.0.4": 2, "10.0.0.5": 1}, Networks: 1, Summ: 2 * 2, ASBR: 1}
	area1 := counts{Links: map[string]int{"10.0.0.3": 2, "10.0.0.5": 3}, Summ: 7, ASBR: 1}
	tests := []struct {
		name string
		opts Options
		want map[string]router
	}{
		{
			name: "default",
			want: map[string]router{
				"r1": {[]string{"10.0.0.2"}, map[string]counts{"0.0.0.0": backbone}, 4},
				"r2": {[]string{"10.0.0.1", "10.0.0.3", "10.0.0.3", "10.0.0.4"}, map[string]counts{"0.0.0.0": backbone}, 4},
				"r3": {[]string{"10.0.0.2", "10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.5"}, map[string]counts{"0.0.0.0": backbone, "0.0.0.1": area1}, 4},
				"r4": {[]string{"10.0.0.2", "10.0.0.3"}, map[string]counts{"0.0.0.0": backbone}, 4},
				"r5": {[]string{"10.0.0.3", "10.0.0.3"}, map[string]counts{"0.0.0.0": backbone, "0.0.0.1": area1}, 4},
			},
		},
		{
			name: "NSSA, extra stubs and static routes",
			opts: Options{NSSA: true, StaticRoutes: 10, ExtraStubs: map[string]int{"r1": 130, "r5": 2}},
			want: func() map[string]router {
				b := counts{Links: map[string]int{"10.0.0.1": 133, "10.0.0.2": 6, "10.0.0.3": 4, "10.0.0.4": 2}, Networks: 1, Summ: 4}
				a := counts{Links: map[string]int{"10.0.0.3": 2, "10.0.0.5": 5}, Summ: 7 + 130 + 1, NSSAExts: 1}
				return map[string]router{
					"r1": {[]string{"10.0.0.2"}, map[string]counts{"0.0.0.0": b}, 14},
					"r2": {[]string{"10.0.0.1", "10.0.0.3", "10.0.0.3", "10.0.0.4"}, map[string]counts{"0.0.0.0": b}, 14},
					"r3": {[]string{"10.0.0.2", "10.0.0.2", "10.0.0.4", "10.0.0.5"}, map[string]counts{"0.0.0.0": b, "0.0.0.1": a}, 14},
					"r4": {[]string{"10.0.0.2", "10.0.0.3"}, map[string]counts{"0.0.0.0": b}, 14},
					"r5": {[]string{"10.0.0.3"}, map[string]counts{"0.0.0.1": a}, 1},
				}
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := tt.opts.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]router{}
			for name, re := range expectations(buildTopology(opts)) {
				r := router{Areas: map[string]counts{}, Externals: re.externals}
				for _, n := range re.neighbors {
					r.Neighbors = append(r.Neighbors, n.String())
				}
				for a, ae := range re.areas {
					c := counts{Links: map[string]int{}, Networks: len(ae.networks), Summ: ae.summaries, ASBR: ae.asbrSummaries, NSSAExts: ae.nssaExternals}
					for id, n := range ae.routerLinks {
						c.Links[id.String()] = n
					}
					r.Areas[a.String()] = c
				}
				got[name] = r
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestOSPFConfig(t *testing.T) {
	opts, err := Options{Prefix: "x", NSSA: true}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	topo := buildTopology(opts)
	r3, _ := topo.Router("r3")
	want := `frr defaults traditional
hostname r3
!
interface lo
 ip ospf area 0.0.0.0
exit
!
interface eth-r2
 ip ospf area 0.0.0.0
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
 ip ospf retransmit-interval 1
exit
!
interface lan0
 ip ospf area 0.0.0.0
 ip ospf priority 10
 ip ospf hello-interval 1
 ip ospf dead-interval 4
 ip ospf retransmit-interval 1
exit
!
interface eth-r5
 ip ospf area 0.0.0.1
 ip ospf network point-to-point
 ip ospf hello-interval 1
 ip ospf dead-interval 4
 ip ospf retransmit-interval 1
exit
!
router ospf
 ospf router-id 10.0.0.3
 timers throttle spf 0 50 500
 timers throttle lsa all 0
 timers lsa min-arrival 0
 area 0.0.0.1 nssa
exit
!
`
	if diff := cmp.Diff(want, string(ospfdConfig(topo, r3))); diff != "" {
		t.Errorf("r3's ospfd.conf (-want +got):\n%s", diff)
	}
	r4, _ := topo.Router("r4")
	if got := string(ospfdConfig(topo, r4)); !strings.Contains(got, " redistribute static route-map TAGME\n") ||
		!strings.HasSuffix(got, "exit\n!\nroute-map TAGME permit 10\n set tag 4242\nexit\n!\n") {
		t.Errorf("r4's ospfd.conf does not redistribute static with the tag:\n%s", got)
	}
	if got := string(ospfdConfig(topo, r3)); strings.Contains(got, "virtual-link") {
		t.Errorf("r3's ospfd.conf has a virtual link through the NSSA:\n%s", got)
	}
}

// Without an NSSA, r3 and r5 have a virtual link through area 1, with the
// interfaces' fast timers.
func TestOSPFConfigVirtualLink(t *testing.T) {
	opts, err := Options{Prefix: "x"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	topo := buildTopology(opts)
	for name, peer := range map[string]string{"r3": "10.0.0.5", "r5": "10.0.0.3"} {
		r, _ := topo.Router(name)
		want := " area 0.0.0.1 virtual-link " + peer + " hello-interval 1 retransmit-interval 1 dead-interval 4\n"
		if got := string(ospfdConfig(topo, r)); !strings.Contains(got, want) {
			t.Errorf("%s's ospfd.conf lacks %q:\n%s", name, want, got)
		}
	}
	r1, _ := topo.Router("r1")
	if got := string(ospfdConfig(topo, r1)); strings.Contains(got, "virtual-link") || strings.Contains(got, "route-map") {
		t.Errorf("r1's ospfd.conf has a virtual link or a route-map:\n%s", got)
	}
}

func TestStaticdConfig(t *testing.T) {
	opts, err := Options{Prefix: "x", StaticRoutes: 2}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	topo := buildTopology(opts)
	r4, _ := topo.Router("r4")
	want := `frr defaults traditional
hostname r4
!
XFRR_start_configuration
ip route 192.168.40.0/24 Null0
ip route 192.168.41.0/24 Null0
ip route 192.168.42.0/24 Null0
ip route 100.64.0.0/32 Null0
ip route 100.64.0.1/32 Null0
XFRR_end_configuration
`
	if diff := cmp.Diff(want, string(staticdConfig(topo, r4))); diff != "" {
		t.Errorf("r4's staticd.conf (-want +got):\n%s", diff)
	}
}

func TestAddressScript(t *testing.T) {
	opts, err := Options{Prefix: "x", ExtraStubs: map[string]int{"r2": 2}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	topo := buildTopology(opts)
	r2, _ := topo.Router("r2")
	want := `address add 10.0.0.2/32 dev lo
address add 172.18.0.1/32 dev lo
address add 172.18.0.2/32 dev lo
link set lo up
address add 10.1.12.1/31 dev eth-r1
link set eth-r1 up
address add 10.1.23.1/30 dev eth-r3
link set eth-r3 up
address add 10.1.100.2/24 dev lan0
link set lan0 up
`
	if diff := cmp.Diff(want, string(addressScript(topo, r2))); diff != "" {
		t.Errorf("r2's address script (-want +got):\n%s", diff)
	}
}

func TestTopologyLookups(t *testing.T) {
	opts, err := Options{Prefix: "lab1"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	topo := buildTopology(opts)
	if ifc, ok := topo.Interface("r3", "lan"); !ok || ifc != "lan0" {
		t.Errorf(`Interface("r3", "lan") = %q, %v; want "lan0"`, ifc, ok)
	}
	if ifc, ok := topo.Interface("r1", "r1-r2"); !ok || ifc != "eth-r2" {
		t.Errorf(`Interface("r1", "r1-r2") = %q, %v; want "eth-r2"`, ifc, ok)
	}
	if _, ok := topo.Interface("r1", "lan"); ok {
		t.Error(`Interface("r1", "lan") found an interface; r1 is not on the LAN`)
	}
	r5, ok := topo.Router("r5")
	if !ok || r5.Namespace != "lab1-r5" || r5.ID != netip.MustParseAddr("10.0.0.5") {
		t.Errorf("r5 = %+v", r5)
	}
	want := []string{"lab1-r1", "lab1-r2", "lab1-r3", "lab1-r4", "lab1-r5", "lab1-lan"}
	if diff := cmp.Diff(want, namespaces("lab1")); diff != "" {
		t.Errorf("namespaces (-want +got):\n%s", diff)
	}
}

func TestOptionsRejectsBadValues(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"prefix with a slash", Options{Prefix: "a/b"}, "prefix"},
		{"prefix too long", Options{Prefix: strings.Repeat("a", 41)}, "prefix"},
		{"negative static routes", Options{Prefix: "a", StaticRoutes: -1}, "StaticRoutes"},
		{"stubs on an unknown router", Options{Prefix: "a", ExtraStubs: map[string]int{"r6": 1}}, `no router "r6"`},
		{"stubs on r01", Options{Prefix: "a", ExtraStubs: map[string]int{"r01": 1}}, `no router "r01"`},
		{"too many stubs", Options{Prefix: "a", ExtraStubs: map[string]int{"r1": maxExtraStubs + 1}}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.withDefaults()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	opts, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(opts.Prefix, "oolab-") || !strings.HasSuffix(opts.Dir, "/frrlab/"+opts.Prefix) {
		t.Errorf("defaults: prefix %q dir %q", opts.Prefix, opts.Dir)
	}
}
