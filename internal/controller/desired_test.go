package controller

import (
	"encoding/json"
	"net/netip"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

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

var ignoreTimes = cmp.Options{
	cmpopts.IgnoreFields(metav1.Condition{}, "LastTransitionTime"),
}

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }

func TestDesiredState(t *testing.T) {
	snap := parseSnapshot(t, mappingTopology)
	self := netip.MustParseAddr("10.0.0.2")
	d := DesiredState(snap, self, MapOptions{MaxInlineExternals: 2})

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
						Flags: ospfv1alpha1.RouterFlags{ABR: true, ASBR: true},
						Links: ospfv1alpha1.RouterLinks{
							Router:   []ospfv1alpha1.Link{{ID: "10.0.0.3", Metric: 7}},
							XNetwork: []ospfv1alpha1.Link{{ID: "10.1.0.0/24", Metric: 1}},
						},
					},
				},
				// In numeric order of prefix, cut at 2 of 4.
				Externals: []ospfv1alpha1.ExternalRoute{
					{Prefix: "0.0.0.0/0", Metric: i32(1), ForwardingAddress: "10.1.0.9"},
					{Prefix: "10.9.0.0/16", Metric2: i32(5)},
				},
				ExternalsTruncated: true,
				Summary: ospfv1alpha1.RouterSummary{
					Areas: "0.0.0.0,0.0.0.1", Flags: "ABR,ASBR",
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
				Prefix: "10.1.0.0/24", Area: "0.0.0.0", DesignatedRouter: "10.0.0.2",
				Routers: []string{"10.0.0.2", "10.0.0.1"}, RouterCount: 2,
			},
		},
	}
	if diff := cmp.Diff(wantNetworks, d.Networks); diff != "" {
		t.Errorf("networks (-want +got):\n%s", diff)
	}
}

func TestDesiredStateExternalsCap(t *testing.T) {
	snap := parseSnapshot(t, mappingTopology)
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
		st := DesiredState(snap, netip.Addr{}, MapOptions{MaxInlineExternals: tt.cap}).Routers["10.0.0.1"].Status
		if len(st.Externals) != tt.inline || st.ExternalsTruncated != tt.truncated || st.Summary.Externals != 4 {
			t.Errorf("cap %d: %d inline, truncated %v, count %d; want %d, %v, 4",
				tt.cap, len(st.Externals), st.ExternalsTruncated, st.Summary.Externals, tt.inline, tt.truncated)
		}
		if tt.inline == 4 {
			want := ospfv1alpha1.ExternalRoute{Prefix: "198.51.100.0/24", Metric2: i32(30), Area: "0.0.0.1"}
			if diff := cmp.Diff(want, st.Externals[3]); diff != "" {
				t.Errorf("cap %d: the NSSA route (-want +got):\n%s", tt.cap, diff)
			}
		}
	}
}

func TestDesiredStateReachability(t *testing.T) {
	snap := parseSnapshot(t, spfTopology)
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
			st := DesiredState(snap, tt.self, MapOptions{}).Routers[tt.router].Status
			if diff := cmp.Diff([]metav1.Condition{tt.want}, st.Conditions, ignoreTimes); diff != "" {
				t.Errorf("conditions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.cost, st.PathCost); diff != "" {
				t.Errorf("path cost (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeDetails answers for one router, one external and one network.
type fakeDetails struct{}

func (fakeDetails) RouterFlags(area, router netip.Addr) (uint8, bool) {
	if router == netip.MustParseAddr("10.0.0.2") {
		return ospf.RouterFlagV | ospf.RouterFlagE, true
	}
	return 0, false
}

func (fakeDetails) ExternalTag(router, area netip.Addr, p netip.Prefix) uint32 {
	if p == netip.MustParsePrefix("0.0.0.0/0") && !area.IsValid() {
		return 4294967295
	}
	return 0
}

func (fakeDetails) DRAddress(area netip.Addr, p netip.Prefix) (netip.Addr, bool) {
	return netip.MustParseAddr("10.1.0.2"), true
}

func TestDesiredStateDetails(t *testing.T) {
	d := DesiredState(parseSnapshot(t, mappingTopology), netip.Addr{}, MapOptions{Details: fakeDetails{}})
	r2 := d.Routers["10.0.0.2"].Status
	if want := (ospfv1alpha1.RouterFlags{ASBR: true, VirtualLink: true}); r2.Areas[0].Flags != want {
		t.Errorf("flags of 10.0.0.2 = %+v, want %+v", r2.Areas[0].Flags, want)
	}
	if r2.Summary.Flags != "ASBR,VL" {
		t.Errorf("summary flags of 10.0.0.2 = %q, want ASBR,VL", r2.Summary.Flags)
	}
	// No details for 10.0.0.1: derived from the graph.
	if got := d.Routers["10.0.0.1"].Status.Summary.Flags; got != "ABR,ASBR" {
		t.Errorf("summary flags of 10.0.0.1 = %q, want ABR,ASBR", got)
	}
	if got := d.Routers["10.0.0.1"].Status.Externals[0]; got.Prefix != "0.0.0.0/0" || got.Tag != 4294967295 {
		t.Errorf("first external = %+v, want 0.0.0.0/0 with tag 4294967295", got)
	}
	if got := d.Networks["10.1.0.0-24"].Status.DesignatedRouterAddress; got != "10.1.0.2" {
		t.Errorf("DR address = %q, want 10.1.0.2", got)
	}
}

func TestDesiredStateSkipsWhatCannotBeShown(t *testing.T) {
	var snap lsdb.Snapshot // ParseSnapshot would refuse the bad area ID
	err := json.Unmarshal([]byte(`{"areas": {
	  "0.0.0.0": {
	    "routers": {
	      "10.0.0.1": {"links": {"router": [{"id": "junk", "metric": 1}],
	                             "external": [{"id": "192.0.2.0/24", "metric": 1, "metric2": 2},
	                                          {"id": "198.51.100.0/24", "metric": 1}]}},
	      "router-x": {"links": {}}
	    },
	    "networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1", "?"]}}
	  },
	  "0.0.0.1": {"routers": {}, "networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1"]}}},
	  "area-x": {"routers": {}, "networks": {}}
	}}`), &snap)
	if err != nil {
		t.Fatal(err)
	}
	d := DesiredState(&snap, netip.Addr{}, MapOptions{})
	wantSkipped := []string{
		`area "area-x"`,
		`area 0.0.0.0: network 10.1.0.0/24: router "?"`,
		`area 0.0.0.0: router "router-x"`,
		`area 0.0.0.0: router 10.0.0.1: external "192.0.2.0/24"`,
		`area 0.0.0.0: router 10.0.0.1: router link "junk" metric 1`,
		`area 0.0.0.1: network 10.1.0.0/24 is also in area 0.0.0.0, which keeps the name`,
	}
	if diff := cmp.Diff(wantSkipped, d.Skipped); diff != "" {
		t.Errorf("Skipped (-want +got):\n%s", diff)
	}
	if len(d.Routers) != 1 || len(d.Networks) != 1 {
		t.Errorf("%d routers, %d networks; want 1, 1", len(d.Routers), len(d.Networks))
	}
	if got := d.Routers["10.0.0.1"].Status.Summary.Externals; got != 1 {
		t.Errorf("externals = %d, want 1", got)
	}
	if got := d.Networks["10.1.0.0-24"].Status; got.Area != "0.0.0.0" || got.RouterCount != 1 {
		t.Errorf("network = %+v, want area 0.0.0.0 with one router", got)
	}
}

func TestDesiredStateNYC(t *testing.T) {
	snap := loadNYC(t)
	self := netip.MustParseAddr("10.69.2.27")
	d := DesiredState(snap, self, MapOptions{})
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
	if diff := cmp.Diff(d, DesiredState(snap, self, MapOptions{})); diff != "" {
		t.Errorf("a second mapping differs (-first +second):\n%s", diff)
	}
}

func TestFinishRouter(t *testing.T) {
	snap := parseSnapshot(t, mappingTopology)
	self := netip.MustParseAddr("10.0.0.2")
	t0 := time.Date(2026, 4, 29, 12, 0, 0, 0, time.UTC)
	t1 := t0.Add(time.Hour)
	t2 := t1.Add(1500 * time.Millisecond)
	desired := func(s *lsdb.Snapshot, self netip.Addr) *ospfv1alpha1.OSPFRouter {
		return DesiredState(s, self, MapOptions{}).Routers["10.0.0.1"].DeepCopy()
	}

	first := desired(snap, self)
	finishRouter(first, nil, t0, t0)
	if !first.Status.LastChange.Equal(&metav1.Time{Time: t0}) || !first.Status.Conditions[0].LastTransitionTime.Equal(&metav1.Time{Time: t0}) {
		t.Fatalf("new object: last change %v, transition %v; want %v", first.Status.LastChange, first.Status.Conditions[0].LastTransitionTime, t0)
	}

	// Same content an hour later: nothing moves, so nothing is written.
	again := desired(snap, self)
	finishRouter(again, first, t1, t1)
	if diff := cmp.Diff(first.Status, again.Status); diff != "" {
		t.Errorf("unchanged content (-before +after):\n%s", diff)
	}

	// Only the path changes (another root): the content's time stays, the
	// condition's transition stays while its status does.
	other := desired(snap, netip.MustParseAddr("10.0.0.3"))
	finishRouter(other, first, t1, t1)
	if !other.Status.LastChange.Equal(first.Status.LastChange) {
		t.Errorf("path change moved LastChange to %v", other.Status.LastChange)
	}
	if !other.Status.Conditions[0].LastTransitionTime.Equal(&metav1.Time{Time: t0}) {
		t.Errorf("condition still True, but transition moved to %v", other.Status.Conditions[0].LastTransitionTime)
	}

	// The root is gone: the condition turns Unknown now.
	lost := desired(snap, netip.Addr{})
	finishRouter(lost, first, t1, t1)
	if !lost.Status.Conditions[0].LastTransitionTime.Equal(&metav1.Time{Time: t1}) {
		t.Errorf("condition turned Unknown at %v, want %v", lost.Status.Conditions[0].LastTransitionTime, t1)
	}

	// A metric changes: the content's time is the change's, to the second.
	changed := desired(snap, self)
	changed.Status.Areas[0].Links.Router[0].Metric = 20
	finishRouter(changed, first, t2, t2)
	if want := t2.Truncate(time.Second); !changed.Status.LastChange.Time.Equal(want) {
		t.Errorf("changed content: LastChange %v, want %v", changed.Status.LastChange, want)
	}
}

func TestFinishNetwork(t *testing.T) {
	d := DesiredState(parseSnapshot(t, mappingTopology), netip.Addr{}, MapOptions{})
	t0 := time.Date(2026, 4, 29, 12, 0, 0, 0, time.UTC)
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
	snap := loadNYC(b)
	self := netip.MustParseAddr("10.69.2.27")
	for b.Loop() {
		DesiredState(snap, self, MapOptions{})
	}
}
