package ospfapitest_test

import (
	"encoding/json"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

func readSnapshot(t testing.TB, path string) *lsdb.Snapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s lsdb.Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

var addr = netip.MustParseAddr

func TestFromSnapshotNYC(t *testing.T) {
	lsas := ospfapitest.NYC(t)
	count := map[ospf.LSType]int{}
	keys := map[ospfapitest.Key]bool{}
	nets := map[netip.Addr]*ospf.NetworkLSA{}
	for _, al := range lsas {
		h := al.LSA.Hdr()
		count[h.Type]++
		k := ospfapitest.KeyOf(al.Area, al.LSA)
		if keys[k] {
			t.Errorf("duplicate %s", k)
		}
		keys[k] = true
		raw, err := ospf.Marshal(al.LSA)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ospf.Decode(raw); err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if h.Age != 10 || h.SeqNum != ospf.InitialSeqNum {
			t.Errorf("%s: age %d seq %#x", k, h.Age, uint32(h.SeqNum))
		}
		if n, ok := al.LSA.(*ospf.NetworkLSA); ok {
			nets[h.LSID] = n
		}
	}
	want := map[ospf.LSType]int{ospf.RouterLSAType: 592, ospf.NetworkLSAType: 3, ospf.ASExternalLSAType: 692}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("LSAs by type (-want +got):\n%s", diff)
	}
	// Transit links point at a Network-LSA's LSID from an address inside
	// its prefix, and the router is attached to it.
	transit := 0
	for _, al := range lsas {
		rl, ok := al.LSA.(*ospf.RouterLSA)
		if !ok {
			continue
		}
		for _, l := range rl.Links {
			if l.Type != ospf.LinkTransit {
				continue
			}
			transit++
			n := nets[l.ID]
			if n == nil {
				t.Fatalf("router %s: transit link to %s, no such Network-LSA", rl.AdvRouter, l.ID)
			}
			if !n.Prefix().Contains(l.Data) || !slices.Contains(n.Attached, rl.AdvRouter) {
				t.Errorf("router %s: interface %s not in %s or not attached", rl.AdvRouter, l.Data, n.Prefix())
			}
		}
	}
	if transit != 15 {
		t.Errorf("%d transit links, want 15", transit)
	}
}

// The NYC LSDB encoded by FromSnapshot and loaded into an lsdb.DB comes
// back as the same snapshot.
func TestFromSnapshotRoundTrip(t *testing.T) {
	want := readSnapshot(t, ospfapitest.Fixture)
	db := lsdb.New(lsdb.Config{})
	db.BeginSync()
	now := time.Now()
	for _, al := range ospfapitest.NYC(t) {
		raw, err := ospf.Marshal(al.LSA)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(al.Area, raw, now); err != nil {
			t.Fatal(err)
		}
	}
	db.EndSync()
	got, _ := db.Snapshot()
	got.Updated, want.Updated = 0, 0
	if diff := cmp.Diff(normalize(want), normalize(got), cmpopts.IgnoreUnexported(lsdb.Snapshot{}, lsdb.AreaSnapshot{}, lsdb.Links{})); diff != "" {
		t.Errorf("snapshot (-file +lsdb):\n%s", diff)
	}
}

// normalize orders external routes, which the snapshot format does not
// order, so that snapshots compare by content.
func normalize(s *lsdb.Snapshot) *lsdb.Snapshot {
	for _, a := range s.Areas {
		for _, r := range a.Routers {
			slices.SortFunc(r.Links.External, func(a, b lsdb.SnapshotExternal) int { return strings.Compare(extKey(a), extKey(b)) })
		}
	}
	return s
}

func extKey(x lsdb.SnapshotExternal) string {
	b, _ := json.Marshal(x)
	return string(b)
}

func u32p(v uint32) *uint32 { return &v }

func TestAppendixE(t *testing.T) {
	s := &lsdb.Snapshot{Areas: map[string]*lsdb.AreaSnapshot{"0.0.0.0": {
		Routers: map[string]*lsdb.RouterSnapshot{"1.1.1.1": {Links: lsdb.Links{External: []lsdb.SnapshotExternal{
			{ID: "10.0.0.0/16", Metric: u32p(1)},
			{ID: "10.0.0.0/8", Metric2: u32p(2)},
			{ID: "10.0.0.0/24", Metric: u32p(3), Via: "192.0.2.1"},
			{ID: "10.1.0.0/16", Metric: u32p(4)},
		}}}},
	}}}
	lsas, err := ospfapitest.FromSnapshot(s, ospfapitest.EncodeOptions{Age: 5})
	if err != nil {
		t.Fatal(err)
	}
	type ext struct {
		LSID, Mask, Fwd string
		Type2           bool
		Metric          uint32
	}
	var got []ext
	for _, al := range lsas {
		if x, ok := al.LSA.(*ospf.ExternalLSA); ok {
			if al.Area != addr("0.0.0.0") {
				t.Errorf("external in area %s", al.Area)
			}
			got = append(got, ext{x.LSID.String(), x.Mask.String(), x.Forward.String(), x.Type2, x.Metric})
		}
	}
	want := []ext{
		{"10.0.255.255", "255.255.0.0", "0.0.0.0", false, 1},
		{"10.0.0.0", "255.0.0.0", "0.0.0.0", true, 2},
		{"10.0.0.255", "255.255.255.0", "192.0.2.1", false, 3},
		{"10.1.0.0", "255.255.0.0", "0.0.0.0", false, 4},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("externals (-want +got):\n%s", diff)
	}
	rl := lsas[0].LSA.(*ospf.RouterLSA)
	if rl.Flags&ospf.RouterFlagE == 0 || rl.Age != 5 {
		t.Errorf("router LSA flags %#x age %d, want E set, age 5", rl.Flags, rl.Age)
	}
}

func TestInterfaceAddresses(t *testing.T) {
	s := &lsdb.Snapshot{Areas: map[string]*lsdb.AreaSnapshot{"0.0.0.0": {
		Routers: map[string]*lsdb.RouterSnapshot{
			"1.1.1.1":   {Links: lsdb.Links{Network: []lsdb.SnapshotLink{{ID: "192.0.2.0/29", Metric: 10}}}},
			"192.0.2.3": {Links: lsdb.Links{Network: []lsdb.SnapshotLink{{ID: "192.0.2.0/29", Metric: 20}}}},
			"2.2.2.2":   {Links: lsdb.Links{Network: []lsdb.SnapshotLink{{ID: "192.0.2.0/29", Metric: 30}}}},
		},
		Networks: map[string]*lsdb.NetworkSnapshot{"192.0.2.0/29": {DR: "1.1.1.1", Routers: []string{"1.1.1.1", "192.0.2.3", "2.2.2.2"}}},
	}}}
	lsas, err := ospfapitest.FromSnapshot(s, ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]ospf.RouterLink{}
	var n *ospf.NetworkLSA
	for _, al := range lsas {
		switch l := al.LSA.(type) {
		case *ospf.RouterLSA:
			links[l.AdvRouter.String()] = l.Links[0]
		case *ospf.NetworkLSA:
			n = l
		}
	}
	if n == nil || n.LSID != addr("192.0.2.1") || n.AdvRouter != addr("1.1.1.1") || n.Mask != addr("255.255.255.248") {
		t.Fatalf("network LSA %+v", n)
	}
	want := map[string]ospf.RouterLink{
		"1.1.1.1":   {ID: addr("192.0.2.1"), Data: addr("192.0.2.1"), Type: ospf.LinkTransit, Metric: 10},
		"192.0.2.3": {ID: addr("192.0.2.1"), Data: addr("192.0.2.3"), Type: ospf.LinkTransit, Metric: 20},
		"2.2.2.2":   {ID: addr("192.0.2.1"), Data: addr("192.0.2.2"), Type: ospf.LinkTransit, Metric: 30},
	}
	if diff := cmp.Diff(want, links, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("transit links (-want +got):\n%s", diff)
	}
}

func TestMultiArea(t *testing.T) {
	s := &lsdb.Snapshot{Areas: map[string]*lsdb.AreaSnapshot{
		"0.0.0.0": {Routers: map[string]*lsdb.RouterSnapshot{
			"1.1.1.1": {Links: lsdb.Links{Router: []lsdb.SnapshotLink{{ID: "2.2.2.2", Metric: 10}}}},
			"2.2.2.2": {Links: lsdb.Links{Router: []lsdb.SnapshotLink{{ID: "1.1.1.1", Metric: 10}}}},
		}},
		"0.0.0.1": {Routers: map[string]*lsdb.RouterSnapshot{
			"2.2.2.2": {Links: lsdb.Links{
				XNetwork: []lsdb.SnapshotLink{{ID: "10.1.0.0/16", Metric: 20}},
				XRouter:  []lsdb.SnapshotLink{{ID: "1.1.1.1", Metric: 10}},
			}},
			"3.3.3.3": {Links: lsdb.Links{NSSAExt: []lsdb.SnapshotExternal{{ID: "172.16.0.0/12", Metric2: u32p(20), Via: "10.1.0.3"}}}},
		}},
	}}
	lsas, err := ospfapitest.FromSnapshot(s, ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, al := range lsas {
		h := al.LSA.Hdr()
		desc := al.Area.String() + " " + h.Type.String() + " " + h.LSID.String() + " " + h.AdvRouter.String()
		if rl, ok := al.LSA.(*ospf.RouterLSA); ok && rl.Flags != 0 {
			desc += " flags " + string(rune('0'+rl.Flags))
		}
		got = append(got, desc)
	}
	want := []string{
		"0.0.0.0 router 1.1.1.1 1.1.1.1",
		"0.0.0.0 router 2.2.2.2 2.2.2.2 flags 1", // B: in two areas
		"0.0.0.1 router 2.2.2.2 2.2.2.2 flags 1",
		"0.0.0.1 router 3.3.3.3 3.3.3.3 flags 2", // E: NSSA external
		"0.0.0.1 summary 10.1.0.0 2.2.2.2",
		"0.0.0.1 asbr-summary 1.1.1.1 2.2.2.2",
		"0.0.0.1 nssa-external 172.16.0.0 3.3.3.3",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LSAs (-want +got):\n%s", diff)
	}
}

func TestFromSnapshotErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{"metric too big", `{"areas":{"0.0.0.0":{"routers":{"1.1.1.1":{"links":{"router":[{"id":"2.2.2.2","metric":70000}]}}},"networks":{}}}}`,
			"metric 70000 exceeds 65535"},
		{"unknown network", `{"areas":{"0.0.0.0":{"routers":{"1.1.1.1":{"links":{"network":[{"id":"10.0.0.0/24","metric":1}]}}},"networks":{}}}}`,
			"which the area does not have"},
		{"two metrics", `{"areas":{"0.0.0.0":{"routers":{"1.1.1.1":{"links":{"external":[{"id":"10.0.0.0/24","metric":1,"metric2":2}]}}},"networks":{}}}}`,
			"both metric and metric2"},
		{"network too small", `{"areas":{"0.0.0.0":{"routers":{},"networks":{"10.0.0.0/31":{"dr":"1.1.1.1","routers":["1.1.1.1","2.2.2.2","3.3.3.3"]}}}}}`,
			"no free address for router 3.3.3.3"},
		{"bad router ID", `{"areas":{"0.0.0.0":{"routers":{"one":{"links":{}}},"networks":{}}}}`, `router "one"`},
		{"same LSID", `{"areas":{"0.0.0.0":{"routers":{"1.1.1.1":{"links":{"external":[{"id":"10.0.0.0/24","metric":1},{"id":"10.0.0.0/24","metric":2}]}}},"networks":{}}}}`,
			"need the same LSID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s lsdb.Snapshot
			if err := json.Unmarshal([]byte(tt.json), &s); err != nil {
				t.Fatal(err)
			}
			_, err := ospfapitest.FromSnapshot(&s, ospfapitest.EncodeOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("FromSnapshot: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
