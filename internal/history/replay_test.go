package history

import (
	"net/netip"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

func parseLine(t testing.TB, line string) *lsdb.Event {
	t.Helper()
	ev, err := lsdb.ParseEvent([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	return &ev
}

// What the stream cannot say is replayed by the rules of state's comment.
func TestReplayRules(t *testing.T) {
	now := at(0)
	for _, tc := range []struct {
		name            string
		base            string
		events          []string
		want            string
		unmatched       int
		wantDR, network string
	}{{
		name: "a router whose last link goes leaves; one without links that nothing touches stays",
		base: `{"routers": {"10.0.0.1": {"links": {"stubnet": [{"id": "192.0.2.0/24", "metric": 1}]}}, "10.0.0.5": {"links": {}}}, "networks": {}}`,
		events: []string{
			link(now, "10.0.0.1", false, lsdb.KindStubnet, "192.0.2.0/24", 1),
		},
		want: `{"routers": {"10.0.0.5": {"links": {}}}, "networks": {}}`,
	}, {
		name: "a network the events bring in takes its first router as DR; one left without members leaves",
		base: `{"routers": {}, "networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1"]}}}`,
		events: []string{
			member(now, "10.2.0.0/24", true, "10.0.0.3"),
			member(now, "10.2.0.0/24", true, "10.0.0.2"),
			member(now, "10.1.0.0/24", false, "10.0.0.1"),
		},
		want: `{"routers": {}, "networks": {"10.2.0.0/24": {"dr": "10.0.0.3", "routers": ["10.0.0.3", "10.0.0.2"]}}}`,
	}, {
		name: "a network keeps the snapshot's DR when its DR leaves",
		base: `{"routers": {}, "networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1", "10.0.0.2"]}}}`,
		events: []string{
			member(now, "10.1.0.0/24", false, "10.0.0.1"),
		},
		want: `{"routers": {}, "networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.2"]}}}`,
	}, {
		name: "removing what is not there is counted and changes nothing",
		base: `{"routers": {"10.0.0.1": {"links": {"stubnet": [{"id": "192.0.2.0/24", "metric": 1}]}}}, "networks": {}}`,
		events: []string{
			link(now, "10.0.0.1", false, lsdb.KindStubnet, "192.0.2.0/24", 2),
			link(now, "10.0.0.9", false, lsdb.KindRouter, "10.0.0.1", 1),
			member(now, "10.9.0.0/24", false, "10.0.0.1"),
		},
		want:      `{"routers": {"10.0.0.1": {"links": {"stubnet": [{"id": "192.0.2.0/24", "metric": 1}]}}}, "networks": {}}`,
		unmatched: 3,
	}, {
		name: "parallel links are a multiset",
		base: `{"routers": {"10.0.0.1": {"links": {"router": [{"id": "10.0.0.2", "metric": 1}, {"id": "10.0.0.2", "metric": 1}]}}}, "networks": {}}`,
		events: []string{
			link(now, "10.0.0.1", false, lsdb.KindRouter, "10.0.0.2", 1),
		},
		want: `{"routers": {"10.0.0.1": {"links": {"router": [{"id": "10.0.0.2", "metric": 1}]}}}, "networks": {}}`,
	}, {
		name: "externals: type 2, forwarding address, a change as a removal and an addition",
		base: `{"routers": {"10.0.0.1": {"links": {"external": [{"id": "198.51.100.0/24", "metric2": 20, "via": "10.0.0.9"}]}}}, "networks": {}}`,
		events: []string{
			`{"timestamp": 1709287200000, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"external": {"id": "198.51.100.0/24", "metric2": 20, "via": "10.0.0.9"}}}}`,
			`{"timestamp": 1709287200000, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"external": {"id": "198.51.100.0/24", "metric": 5}}}}`,
		},
		want: `{"routers": {"10.0.0.1": {"links": {"external": [{"id": "198.51.100.0/24", "metric": 5}]}}}, "networks": {}}`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			st := newState(viewOf(t, tc.base))
			for _, l := range tc.events {
				st.apply(parseLine(t, l))
			}
			sameState(t, "replayed", st.view(now), viewOf(t, tc.want))
			if st.unmatched != tc.unmatched {
				t.Errorf("unmatched %d, want %d", st.unmatched, tc.unmatched)
			}
		})
	}
}

// In a multi-area archive (events carry no area), an event goes where
// its router and its link's far end are.
func TestReplayAreas(t *testing.T) {
	s, err := lsdb.ParseSnapshot([]byte(`{"areas": {
		"0.0.0.0": {"routers": {"10.0.0.1": {"links": {"router": [{"id": "10.0.0.2", "metric": 1}]}},
			"10.0.0.2": {"links": {"router": [{"id": "10.0.0.1", "metric": 1}], "xnetwork": [{"id": "10.9.0.0/24", "metric": 1}]}}}, "networks": {}},
		"0.0.0.1": {"routers": {"10.0.0.2": {"links": {"router": [{"id": "10.0.0.3", "metric": 1}], "xnetwork": [{"id": "10.9.0.0/24", "metric": 1}]}},
			"10.0.0.3": {"links": {"router": [{"id": "10.0.0.2", "metric": 1}]}}},
			"networks": {"10.1.0.0/24": {"dr": "10.0.0.3", "routers": ["10.0.0.3"]}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	base, err := lsdb.ViewFromSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	st := newState(base)
	now := at(0)
	for _, l := range []string{
		link(now, "10.0.0.2", true, lsdb.KindRouter, "10.0.0.3", 7),          // the far end is in area 1 only
		link(now, "10.0.0.2", true, lsdb.KindNetwork, "10.1.0.0/24", 1),      // so is the network
		member(now, "10.1.0.0/24", true, "10.0.0.2"),                         // and the network event
		link(now, "10.0.0.2", true, lsdb.KindXNetwork, "10.8.0.0/24", 1),     // a summary into both areas:
		link(now, "10.0.0.2", true, lsdb.KindXNetwork, "10.8.0.0/24", 1),     // one event each
		link(now, "10.0.0.2", false, lsdb.KindXNetwork, "10.9.0.0/24", 1),    // the backbone's first,
		link(now, "10.0.0.3", true, lsdb.KindExternal, "198.51.100.0/24", 1), // under its Router-LSA's area
		`{"timestamp": 1709287200000, "entity": {"type": "router", "id": "10.0.0.3"}, "added": {"link": {"nssa-ext": {"id": "198.51.101.0/24", "metric": 3}}}}`,
	} {
		st.apply(parseLine(t, l))
	}
	v := st.view(now)
	a0, a1 := v.Area(netip.IPv4Unspecified()), v.Area(ip("0.0.0.1"))
	r0, r1 := a0.Router(ip("10.0.0.2")), a1.Router(ip("10.0.0.2"))
	if len(r0.Links) != 1 || len(r1.Links) != 3 {
		t.Errorf("10.0.0.2's links: backbone %v, area 1 %v; want the new ones in area 1", r0.Links, r1.Links)
	}
	if len(r0.Summaries) != 1 || len(r1.Summaries) != 2 || r0.Summaries[0].ID() != netip.MustParsePrefix("10.8.0.0/24") {
		t.Errorf("10.0.0.2's summaries: backbone %v, area 1 %v", r0.Summaries, r1.Summaries)
	}
	if n := a1.Network(netip.MustParsePrefix("10.1.0.0/24")); n == nil || len(n.Routers) != 2 {
		t.Errorf("area 1's network: %+v", n)
	}
	r3 := a1.Router(ip("10.0.0.3"))
	if len(r3.Externals) != 1 || len(r3.NSSA) != 1 || r3.NSSA[0].Area != ip("0.0.0.1") {
		t.Errorf("10.0.0.3's routes: externals %v, NSSA %v", r3.Externals, r3.NSSA)
	}
	if a0.Router(ip("10.0.0.3")) != nil {
		t.Error("10.0.0.3 appeared in the backbone")
	}
	if st.unmatched != 0 {
		t.Errorf("%d unmatched", st.unmatched)
	}
}
