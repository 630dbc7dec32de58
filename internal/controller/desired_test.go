package controller

import (
	"net/netip"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// mappingTopology: ABR 10.0.0.1 in the backbone and NSSA area 0.0.0.1,
// originating a summary route into area 1 and external routes (three
// AS-external, one NSSA); 10.0.0.2 its backbone neighbour on a transit
// network and a point-to-point link; 10.0.0.3 only in area 1.
const mappingTopology = `{"areas": {
  "0.0.0.0": {
    "routers": {
      "10.0.0.1": {"links": {
        "router": [{"id": "10.0.0.2", "metric": 10}],
        "network": [{"id": "10.1.0.0/24", "metric": 1}],
        "stubnet": [{"id": "10.0.0.1/32", "metric": 0}],
        "external": [
          {"id": "192.0.2.0/24", "metric2": 20},
          {"id": "0.0.0.0/0", "metric": 1, "via": "10.1.0.9"},
          {"id": "10.9.0.0/16", "metric2": 5}
        ]}},
      "10.0.0.2": {"links": {
        "router": [{"id": "10.0.0.1", "metric": 10}],
        "network": [{"id": "10.1.0.0/24", "metric": 1}]}}
    },
    "networks": {"10.1.0.0/24": {"dr": "10.0.0.2", "routers": ["10.0.0.2", "10.0.0.1"]}}
  },
  "0.0.0.1": {
    "routers": {
      "10.0.0.1": {"links": {
        "router": [{"id": "10.0.0.3", "metric": 7}],
        "xnetwork": [{"id": "10.1.0.0/24", "metric": 1}],
        "nssa-ext": [{"id": "198.51.100.0/24", "metric2": 30}]}},
      "10.0.0.3": {"links": {"router": [{"id": "10.0.0.1", "metric": 7}]}}
    },
    "networks": {}
  }
}}`

// mappingLSAs are the LSAs of mappingTopology with what its format leaves
// out: ABR 10.0.0.1 has flags B and E in the backbone but only B (and Nt,
// which no object shows) in NSSA area 0.0.0.1; its routes carry tags, its
// NSSA route a forwarding address; the transit network's DR 10.0.0.2 has
// the interface address 10.1.0.2.
func mappingLSAs() []ospfapitest.AreaLSA {
	return []ospfapitest.AreaLSA{
		in("0.0.0.0", rtr("10.0.0.1", ospf.RouterFlagB|ospf.RouterFlagE,
			p2p("10.0.0.2", "10.1.1.1", 10), transit("10.1.0.2", "10.1.0.1", 1), stub("10.0.0.1/32", 0))),
		in("0.0.0.0", rtr("10.0.0.2", 0, p2p("10.0.0.1", "10.1.1.2", 10), transit("10.1.0.2", "10.1.0.2", 1))),
		in("0.0.0.0", network("10.1.0.2", "10.0.0.2", 24, "10.0.0.2", "10.0.0.1")),
		in("0.0.0.0", route(ospf.ASExternalLSAType, "10.0.0.1", "192.0.2.0/24", 20, true, "", 0)),
		in("0.0.0.0", route(ospf.ASExternalLSAType, "10.0.0.1", "0.0.0.0/0", 1, false, "10.1.0.9", 4294967295)),
		in("0.0.0.0", route(ospf.ASExternalLSAType, "10.0.0.1", "10.9.0.0/16", 5, true, "", 4242)),
		in("0.0.0.1", rtr("10.0.0.1", ospf.RouterFlagB|ospf.RouterFlagNt, p2p("10.0.0.3", "10.1.13.1", 7))),
		in("0.0.0.1", rtr("10.0.0.3", 0, p2p("10.0.0.1", "10.1.13.3", 7))),
		in("0.0.0.1", summary("10.0.0.1", "10.1.0.0/24", 1)),
		in("0.0.0.1", route(ospf.NSSAExternalLSAType, "10.0.0.1", "198.51.100.0/24", 30, true, "10.1.13.1", 7)),
	}
}

var ignoreTimes = cmp.Options{
	cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime"),
}

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }

func TestDesiredState(t *testing.T) {
	self := netip.MustParseAddr("10.0.0.2")
	d := DesiredState(viewOf(t, mappingLSAs()...), self, MapOptions{MaxInlineExternals: 2})

	if len(d.Skipped) != 0 {
		t.Errorf("Skipped = %q, want none", d.Skipped)
	}
	wantRouters := map[string]*ospfv1alpha1.OSPFRouter{
		"10.0.0.1": {
			ObjectMeta: metav1.ObjectMeta{Name: "10.0.0.1", Labels: map[string]string{
				"app.kubernetes.io/managed-by":       "ospf-operator",
				"area.ospf.ospf-operator.io/0.0.0.0": "",
				"area.ospf.ospf-operator.io/0.0.0.1": "",
			}},
			Status: ospfv1alpha1.OSPFRouterStatus{
				Areas: []ospfv1alpha1.RouterArea{
					{
						Area:  "0.0.0.0",
						Flags: ospfv1alpha1.RouterFlags{ABR: true, ASBR: true},
						Links: ospfv1alpha1.RouterLinks{
							Router:  []ospfv1alpha1.Link{{ID: "10.0.0.2", Metric: 10}},
							Network: []ospfv1alpha1.Link{{ID: "10.1.0.0/24", Metric: 1}},
							Stubnet: []ospfv1alpha1.Link{{ID: "10.0.0.1/32", Metric: 0}},
						},
					},
					{
						Area:  "0.0.0.1",
						Flags: ospfv1alpha1.RouterFlags{ABR: true},
						Links: ospfv1alpha1.RouterLinks{
							Router:   []ospfv1alpha1.Link{{ID: "10.0.0.3", Metric: 7}},
							XNetwork: []ospfv1alpha1.Link{{ID: "10.1.0.0/24", Metric: 1}},
						},
					},
				},
				// In numeric order of prefix, cut at 2 of 4.
				Externals: []ospfv1alpha1.ExternalRoute{
					{Prefix: "0.0.0.0/0", Metric: i32(1), ForwardingAddress: "10.1.0.9", Tag: 4294967295},
					{Prefix: "10.9.0.0/16", Metric2: i32(5), Tag: 4242},
				},
				ExternalsTruncated: true,
				Summary: ospfv1alpha1.RouterSummary{
					Areas: "0.0.0.0,0.0.0.1", Flags: "ABR,ASBR", Tags: "7,4242,4294967295",
					Neighbors: 2, Networks: 1, Stubnets: 1, Externals: 4,
				},
				PathCost: i64(1),
				Conditions: []metav1.Condition{{
					Type: "Reachable", Status: metav1.ConditionTrue, Reason: "PathFound",
					Message: "Shortest path from 10.0.0.2 costs 1",
				}},
			},
		},
		"10.0.0.2": {
			ObjectMeta: metav1.ObjectMeta{Name: "10.0.0.2", Labels: map[string]string{
				"app.kubernetes.io/managed-by":       "ospf-operator",
				"area.ospf.ospf-operator.io/0.0.0.0": "",
			}},
			Status: ospfv1alpha1.OSPFRouterStatus{
				Areas: []ospfv1alpha1.RouterArea{{
					Area: "0.0.0.0",
					Links: ospfv1alpha1.RouterLinks{
						Router:  []ospfv1alpha1.Link{{ID: "10.0.0.1", Metric: 10}},
						Network: []ospfv1alpha1.Link{{ID: "10.1.0.0/24", Metric: 1}},
					},
				}},
				Summary:  ospfv1alpha1.RouterSummary{Areas: "0.0.0.0", Neighbors: 1, Networks: 1},
				PathCost: i64(0),
				Conditions: []metav1.Condition{{
					Type: "Reachable", Status: metav1.ConditionTrue, Reason: "PathFound",
					Message: "This is the agent's own router",
				}},
			},
		},
		"10.0.0.3": {
			ObjectMeta: metav1.ObjectMeta{Name: "10.0.0.3", Labels: map[string]string{
				"app.kubernetes.io/managed-by":       "ospf-operator",
				"area.ospf.ospf-operator.io/0.0.0.1": "",
			}},
			Status: ospfv1alpha1.OSPFRouterStatus{
				Areas: []ospfv1alpha1.RouterArea{{
					Area:  "0.0.0.1",
					Links: ospfv1alpha1.RouterLinks{Router: []ospfv1alpha1.Link{{ID: "10.0.0.1", Metric: 7}}},
				}},
				Summary:  ospfv1alpha1.RouterSummary{Areas: "0.0.0.1", Neighbors: 1},
				PathCost: i64(8),
				Conditions: []metav1.Condition{{
					Type: "Reachable", Status: metav1.ConditionTrue, Reason: "PathFound",
					Message: "Shortest path from 10.0.0.2 costs 8",
				}},
			},
		},
	}
	if diff := cmp.Diff(wantRouters, d.Routers, ignoreTimes); diff != "" {
		t.Errorf("routers (-want +got):\n%s", diff)
	}
	wantNetworks := map[string]*ospfv1alpha1.OSPFNetwork{
		"10.1.0.0-24": {
			ObjectMeta: metav1.ObjectMeta{Name: "10.1.0.0-24", Labels: map[string]string{
				"app.kubernetes.io/managed-by":       "ospf-operator",
				"area.ospf.ospf-operator.io/0.0.0.0": "",
			}},
			Status: ospfv1alpha1.OSPFNetworkStatus{
				Prefix: "10.1.0.0/24", Area: "0.0.0.0", DesignatedRouter: "10.0.0.2", DesignatedRouterAddress: "10.1.0.2",
				Routers: []string{"10.0.0.2", "10.0.0.1"}, RouterCount: 2,
			},
		},
	}
	if diff := cmp.Diff(wantNetworks, d.Networks); diff != "" {
		t.Errorf("networks (-want +got):\n%s", diff)
	}
}

func TestDesiredStateExternalsCap(t *testing.T) {
	v := viewOf(t, mappingLSAs()...)
	tests := []struct {
		cap       int
		inline    int
		truncated bool
	}{
		{cap: 0, inline: 4}, // the default, 1,000
		{cap: 4, inline: 4}, // exactly all
		{cap: 3, inline: 3, truncated: true},
		{cap: -1, inline: 0, truncated: true}, // none inline
	}
	for _, tt := range tests {
		st := DesiredState(v, netip.Addr{}, MapOptions{MaxInlineExternals: tt.cap}).Routers["10.0.0.1"].Status
		if len(st.Externals) != tt.inline || st.ExternalsTruncated != tt.truncated || st.Summary.Externals != 4 {
			t.Errorf("cap %d: %d inline, truncated %v, count %d; want %d, %v, 4",
				tt.cap, len(st.Externals), st.ExternalsTruncated, st.Summary.Externals, tt.inline, tt.truncated)
		}
		if tt.inline == 4 {
			want := ospfv1alpha1.ExternalRoute{Prefix: "198.51.100.0/24", Metric2: i32(30), ForwardingAddress: "10.1.13.1", Tag: 7, Area: "0.0.0.1"}
			if diff := cmp.Diff(want, st.Externals[3]); diff != "" {
				t.Errorf("cap %d: the NSSA route (-want +got):\n%s", tt.cap, diff)
			}
		}
	}
}

func TestDesiredStateReachability(t *testing.T) {
	v := viewFromSnapshot(t, spfTopology)
	tests := []struct {
		name   string
		self   netip.Addr
		router string
		want   metav1.Condition
		cost   *int64
	}{
		{
			name: "root not known yet", router: "10.0.0.1",
			want: metav1.Condition{Type: "Reachable", Status: metav1.ConditionUnknown, Reason: "RootUnknown",
				Message: "The agent's own router ID is not known yet"},
		},
		{
			name: "root not in the LSDB", self: netip.MustParseAddr("192.0.2.1"), router: "10.0.0.1",
			want: metav1.Condition{Type: "Reachable", Status: metav1.ConditionUnknown, Reason: "RootUnknown",
				Message: "The agent's own router 192.0.2.1 is not in the LSDB"},
		},
		{
			name: "no link back", self: netip.MustParseAddr("10.0.0.1"), router: "10.0.0.4",
			want: metav1.Condition{Type: "Reachable", Status: metav1.ConditionFalse, Reason: "NoPath",
				Message: "No path from 10.0.0.1: no chain of links that both ends report leads to this router"},
		},
		{
			name: "through a transit network", self: netip.MustParseAddr("10.0.0.1"), router: "10.0.0.5",
			want: metav1.Condition{Type: "Reachable", Status: metav1.ConditionTrue, Reason: "PathFound",
				Message: "Shortest path from 10.0.0.1 costs 16"},
			cost: i64(16),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := DesiredState(v, tt.self, MapOptions{}).Routers[tt.router].Status
			if diff := cmp.Diff([]metav1.Condition{tt.want}, st.Conditions, ignoreTimes); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.cost, st.PathCost); diff != "" {
				t.Errorf("path cost (-want +got):\n%s", diff)
			}
		})
	}
}

// The flags are the bits of each area's Router-LSA, never guessed from the
// graph: r3 and r5 are the ends of a virtual link through area 0.0.0.1 (bit
// V there, a link of type 4 in the backbone); r5 is also an ASBR (bit E);
// r2 claims bit B in its only area; r4 originates a route without bit E.
func TestDesiredStateFlags(t *testing.T) {
	B, E, V := ospf.RouterFlagB, ospf.RouterFlagE, ospf.RouterFlagV
	v := viewOf(t,
		in("0.0.0.0", rtr("10.0.0.2", B, p2p("10.0.0.3", "10.1.23.2", 10))),
		in("0.0.0.0", rtr("10.0.0.3", B, p2p("10.0.0.2", "10.1.23.3", 10), vlink("10.0.0.5", "10.1.35.3", 10))),
		in("0.0.0.0", rtr("10.0.0.4", 0, p2p("10.0.0.3", "10.1.34.4", 10))),
		in("0.0.0.0", rtr("10.0.0.5", B|E, vlink("10.0.0.3", "10.1.35.5", 10))),
		in("0.0.0.0", route(ospf.ASExternalLSAType, "10.0.0.4", "192.168.40.0/24", 20, true, "", 0)),
		in("0.0.0.0", route(ospf.ASExternalLSAType, "10.0.0.5", "192.168.50.0/24", 20, true, "", 4242)),
		in("0.0.0.1", rtr("10.0.0.3", B|V, p2p("10.0.0.5", "10.1.35.3", 10))),
		in("0.0.0.1", rtr("10.0.0.5", B|E|V, p2p("10.0.0.3", "10.1.35.5", 10))),
	)
	d := DesiredState(v, netip.MustParseAddr("10.0.0.2"), MapOptions{})
	type flags struct {
		Areas   []ospfv1alpha1.RouterFlags
		Summary string
		Tags    string
	}
	got := map[string]flags{}
	for name, r := range d.Routers {
		f := flags{Summary: r.Status.Summary.Flags, Tags: r.Status.Summary.Tags}
		for _, a := range r.Status.Areas {
			f.Areas = append(f.Areas, a.Flags)
		}
		got[name] = f
	}
	want := map[string]flags{
		"10.0.0.2": {Areas: []ospfv1alpha1.RouterFlags{{ABR: true}}, Summary: "ABR"},
		"10.0.0.3": {Areas: []ospfv1alpha1.RouterFlags{{ABR: true}, {ABR: true, VirtualLink: true}}, Summary: "ABR,VL"},
		"10.0.0.4": {Areas: []ospfv1alpha1.RouterFlags{{}}},
		"10.0.0.5": {Areas: []ospfv1alpha1.RouterFlags{{ABR: true, ASBR: true}, {ABR: true, ASBR: true, VirtualLink: true}},
			Summary: "ABR,ASBR,VL", Tags: "4242"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	// The virtual link is a router link of the backbone, and the path to
	// r5 takes it.
	r5 := d.Routers["10.0.0.5"].Status
	if diff := cmp.Diff([]ospfv1alpha1.Link{{ID: "10.0.0.3", Metric: 10}}, r5.Areas[0].Links.Router); diff != "" {
		t.Errorf("r5's backbone router links (-want +got):\n%s", diff)
	}
	if r5.PathCost == nil || *r5.PathCost != 20 {
		t.Errorf("path cost of r5 = %v, want 20", r5.PathCost)
	}
}

func TestDesiredStateTagList(t *testing.T) {
	routes := func(tags ...uint32) []lsdb.Route {
		var out []lsdb.Route
		for _, tag := range tags {
			out = append(out, lsdb.Route{Tag: tag})
		}
		return out
	}
	tests := []struct {
		routes []lsdb.Route
		want   string
	}{
		{nil, ""},
		{routes(0, 0), ""},
		{routes(4242, 0, 7, 4242), "7,4242"},
		{routes(9, 8, 7, 6, 5, 4, 3, 2, 1), "1,2,3,4,5,6,7,8,..."},
		{routes(8, 7, 6, 5, 4, 3, 2, 1), "1,2,3,4,5,6,7,8"},
	}
	for _, tt := range tests {
		if got := tagList(tt.routes); got != tt.want {
			t.Errorf("tagList(%v) = %q, want %q", tt.routes, got, tt.want)
		}
	}
}

// A network prefix in two areas is one object, named after it, from the
// lowest area.
func TestDesiredStateSkipsWhatCannotBeShown(t *testing.T) {
	v := viewOf(t,
		in("0.0.0.0", rtr("10.0.0.1", ospf.RouterFlagB, transit("10.1.0.1", "10.1.0.1", 1))),
		in("0.0.0.0", rtr("10.0.0.2", 0, transit("10.1.0.1", "10.1.0.2", 1))),
		in("0.0.0.0", network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2")),
		in("0.0.0.1", rtr("10.0.0.1", ospf.RouterFlagB, transit("10.1.0.1", "10.1.0.1", 1))),
		in("0.0.0.1", rtr("10.0.0.3", 0, transit("10.1.0.1", "10.1.0.3", 1))),
		in("0.0.0.1", network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.3")),
	)
	d := DesiredState(v, netip.Addr{}, MapOptions{})
	wantSkipped := []string{`area 0.0.0.1: network 10.1.0.0/24 is also in area 0.0.0.0, which keeps the name`}
	if diff := cmp.Diff(wantSkipped, d.Skipped); diff != "" {
		t.Errorf("Skipped (-want +got):\n%s", diff)
	}
	if len(d.Routers) != 3 || len(d.Networks) != 1 {
		t.Errorf("%d routers, %d networks; want 3, 1", len(d.Routers), len(d.Networks))
	}
	if got := d.Networks["10.1.0.0-24"].Status; got.Area != "0.0.0.0" || got.Routers[1] != "10.0.0.2" {
		t.Errorf("network = %+v, want the one of area 0.0.0.0", got)
	}
}

func TestDesiredStateNYC(t *testing.T) {
	v := loadNYC(t)
	self := netip.MustParseAddr("10.69.2.27")
	d := DesiredState(v, self, MapOptions{})
	if len(d.Routers) != 592 || len(d.Networks) != 3 {
		t.Fatalf("%d routers, %d networks; want 592, 3", len(d.Routers), len(d.Networks))
	}
	if len(d.Skipped) != 0 {
		t.Errorf("Skipped = %q", d.Skipped)
	}
	reachable := 0
	for name, r := range d.Routers {
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("router name %q: %v", name, errs)
		}
		if r.Status.PathCost != nil {
			reachable++
		}
		if len(r.Status.Conditions) != 1 {
			t.Errorf("%s: conditions %v", name, r.Status.Conditions)
		}
	}
	for name := range d.Networks {
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			t.Errorf("network name %q: %v", name, errs)
		}
	}
	if reachable < 400 {
		t.Errorf("%d of 592 routers reachable from %s", reachable, self)
	}
	if st := d.Routers["10.69.2.27"].Status; st.Summary.Externals != 26 || len(st.Externals) != 26 || st.ExternalsTruncated {
		t.Errorf("10.69.2.27: %d externals, %d inline, truncated %v; want 26, 26, false",
			st.Summary.Externals, len(st.Externals), st.ExternalsTruncated)
	}
	if diff := cmp.Diff(d, DesiredState(v, self, MapOptions{})); diff != "" {
		t.Errorf("a second mapping differs (-first +second):\n%s", diff)
	}
}

func TestFinishRouter(t *testing.T) {
	v := viewOf(t, mappingLSAs()...)
	self := netip.MustParseAddr("10.0.0.2")
	t0 := time.Date(2026, 4, 29, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	t2 := t1.Add(1500 * time.Millisecond)
	desired := func(v *lsdb.View, self netip.Addr) *ospfv1alpha1.OSPFRouter {
		return DesiredState(v, self, MapOptions{}).Routers["10.0.0.1"].DeepCopy()
	}

	first := desired(v, self)
	finishRouter(first, nil, t0, t0)
	if !first.Status.LastChange.Equal(&metav1.Time{Time: t0}) || !first.Status.Conditions[0].LastTransitionTime.Equal(&metav1.Time{Time: t0}) {
		t.Fatalf("new object: last change %v, transition %v; want %v", first.Status.LastChange, first.Status.Conditions[0].LastTransitionTime, t0)
	}

	// Same content an hour later: nothing moves, so nothing is written.
	again := desired(v, self)
	finishRouter(again, first, t1, t1)
	if diff := cmp.Diff(first.Status, again.Status); diff != "" {
		t.Errorf("unchanged content (-before +after):\n%s", diff)
	}

	// Only the path changes (another root): the content's time stays, the
	// condition's transition stays while its status does.
	other := desired(v, netip.MustParseAddr("10.0.0.3"))
	finishRouter(other, first, t1, t1)
	if !other.Status.LastChange.Equal(first.Status.LastChange) {
		t.Errorf("path change moved LastChange to %v", other.Status.LastChange)
	}
	if !other.Status.Conditions[0].LastTransitionTime.Equal(&metav1.Time{Time: t0}) {
		t.Errorf("condition still True, but transition moved to %v", other.Status.Conditions[0].LastTransitionTime)
	}

	// The root is gone: the condition turns Unknown now.
	lost := desired(v, netip.Addr{})
	finishRouter(lost, first, t1, t1)
	if !lost.Status.Conditions[0].LastTransitionTime.Equal(&metav1.Time{Time: t1}) {
		t.Errorf("condition turned Unknown at %v, want %v", lost.Status.Conditions[0].LastTransitionTime, t1)
	}

	// A metric changes: the content's time is the change's, to the second.
	changed := desired(v, self)
	changed.Status.Areas[0].Links.Router[0].Metric = 20
	finishRouter(changed, first, t2, t2)
	if want := t2.Truncate(time.Second); !changed.Status.LastChange.Time.Equal(want) {
		t.Errorf("changed content: LastChange %v, want %v", changed.Status.LastChange, want)
	}
}

func TestFinishNetwork(t *testing.T) {
	d := DesiredState(viewOf(t, mappingLSAs()...), netip.Addr{}, MapOptions{})
	first := d.Networks["10.1.0.0-24"].DeepCopy()
	finishNetwork(first, nil, t0)
	again := d.Networks["10.1.0.0-24"].DeepCopy()
	finishNetwork(again, first, t0.Add(time.Hour))
	if !again.Status.LastChange.Equal(first.Status.LastChange) {
		t.Errorf("unchanged network: LastChange moved to %v", again.Status.LastChange)
	}
	changed := d.Networks["10.1.0.0-24"].DeepCopy()
	changed.Status.Routers = changed.Status.Routers[:1]
	finishNetwork(changed, first, t0.Add(time.Hour))
	if !changed.Status.LastChange.Time.Equal(t0.Add(time.Hour)) {
		t.Errorf("changed network: LastChange %v", changed.Status.LastChange)
	}
}

func TestLabelsEqual(t *testing.T) {
	want := labelsFor([]netip.Addr{netip.MustParseAddr("0.0.0.0")})
	tests := []struct {
		have map[string]string
		eq   bool
	}{
		{have: map[string]string{"app.kubernetes.io/managed-by": "ospf-operator", "area.ospf.ospf-operator.io/0.0.0.0": ""}, eq: true},
		{have: map[string]string{"app.kubernetes.io/managed-by": "ospf-operator", "area.ospf.ospf-operator.io/0.0.0.0": "", "team": "noc"}, eq: true},
		{have: map[string]string{"app.kubernetes.io/managed-by": "ospf-operator"}},
		{have: map[string]string{"app.kubernetes.io/managed-by": "ospf-operator", "area.ospf.ospf-operator.io/0.0.0.0": "", "area.ospf.ospf-operator.io/0.0.0.1": ""}},
		{have: nil},
	}
	for _, tt := range tests {
		if got := labelsEqual(want, tt.have); got != tt.eq {
			t.Errorf("labelsEqual(%v) = %v, want %v", tt.have, got, tt.eq)
		}
	}
}

func BenchmarkDesiredStateNYC(b *testing.B) {
	v := loadNYC(b)
	self := netip.MustParseAddr("10.69.2.27")
	for b.Loop() {
		DesiredState(v, self, MapOptions{})
	}
}
