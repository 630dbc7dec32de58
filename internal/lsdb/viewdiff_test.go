package lsdb

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

// TestDiffViewsAcrossAreas: a link or network member that only moved
// between areas (as a view rebuilt from area-less events may place it) is
// no change across areas, though it is one by area; a real change is one
// either way, and a link held twice (in two areas) counts twice.
func TestDiffViewsAcrossAreas(t *testing.T) {
	a0, a1 := netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("0.0.0.1")
	r1, r2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	toR2 := NewLink(KindRouter, netip.PrefixFrom(r2, 32), 10, false, netip.Addr{})
	stub := NewLink(KindStubnet, netip.MustParsePrefix("192.0.2.0/24"), 5, false, netip.Addr{})
	lan := netip.MustParsePrefix("198.51.100.0/24")
	old := &View{Areas: []AreaView{
		{ID: a0, Routers: []RouterView{{ID: r1, Links: []Link{toR2}}}},
		{ID: a1, Routers: []RouterView{{ID: r1, Links: []Link{stub}}},
			Networks: []NetworkView{{Prefix: lan, DR: r1, Routers: []netip.Addr{r1, r2}}}},
	}}
	moved := &View{Areas: []AreaView{
		{ID: a0, Routers: []RouterView{{ID: r1, Links: []Link{toR2, stub}}},
			Networks: []NetworkView{{Prefix: lan, DR: r1, Routers: []netip.Addr{r1, r2}}}},
	}}
	now := time.UnixMilli(1_700_000_000_000)
	if got := DiffViews(old, moved, now); len(got) != 6 {
		t.Errorf("by area: %d events, want 6 (the stub and the two members, removed from 0.0.0.1 and added to the backbone)", len(got))
	}
	if got := DiffViewsAcrossAreas(old, moved, now); len(got) != 0 {
		t.Errorf("across areas: %v, want no events", lines(got))
	}

	// A real change: r1's stub in both areas now (twice), r2 leaves the LAN.
	changed := &View{Areas: []AreaView{
		{ID: a0, Routers: []RouterView{{ID: r1, Links: []Link{toR2, stub}}}},
		{ID: a1, Routers: []RouterView{{ID: r1, Links: []Link{stub}}},
			Networks: []NetworkView{{Prefix: lan, DR: r1, Routers: []netip.Addr{r1}}}},
	}}
	got := lines(DiffViewsAcrossAreas(old, changed, now))
	want := []string{
		`{"timestamp": 1700000000000, "entity": {"type": "network", "id": "198.51.100.0/24"}, "removed": {"router": "10.0.0.2"}}`,
		`{"timestamp": 1700000000000, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"stubnet": {"id": "192.0.2.0/24", "metric": 5}}}}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("across areas:\n%q\nwant\n%q", got, want)
	}
	// The views are left as they were.
	if len(old.Areas) != 2 || len(old.Areas[0].Routers[0].Links) != 1 || len(old.Areas[1].Networks[0].Routers) != 2 {
		t.Errorf("DiffViewsAcrossAreas changed its old view: %+v", old)
	}
}

func lines(evs []Event) []string {
	var out []string
	for i := range evs {
		out = append(out, string(evs[i].AppendJSON(nil)))
	}
	return out
}

// TestDiffViewsAfter: the events between a saved view and a new one, less
// those archived after the save, whatever their order; none when the
// archive already holds the whole change.
func TestDiffViewsAfter(t *testing.T) {
	r1 := netip.MustParseAddr("10.0.0.1")
	stub := func(p string) Link {
		return NewLink(KindStubnet, netip.MustParsePrefix(p), 1, false, netip.Addr{})
	}
	a, b, c, d := stub("192.0.2.1/32"), stub("192.0.2.2/32"), stub("192.0.2.3/32"), stub("192.0.2.4/32")
	view := func(links ...Link) *View {
		return &View{Areas: []AreaView{{ID: netip.IPv4Unspecified(), Routers: []RouterView{{ID: r1, Links: links}}}}}
	}
	ev := func(added bool, l Link) Event {
		return Event{Time: 1, Entity: EntityRouter, Router: r1, Added: added, Link: l}
	}
	now := time.UnixMilli(1_700_000_000_000)
	for _, tc := range []struct {
		name     string
		old, new *View
		after    []Event
		want     []string // "+" or "-" and the link's prefix
	}{
		{"nothing archived after", view(a), view(b, d), nil, []string{"-192.0.2.1/32", "+192.0.2.2/32", "+192.0.2.4/32"}},
		{"part archived, out of order", view(a), view(b, d),
			[]Event{ev(false, c), ev(true, b), ev(true, c), ev(false, a)}, []string{"+192.0.2.4/32"}},
		{"all archived", view(a), view(b), []Event{ev(true, b), ev(false, a)}, nil},
		{"archived, then undone upstream", view(a), view(a), []Event{ev(true, b)}, []string{"-192.0.2.2/32"}},
		{"a link held twice", view(a), view(a, a), []Event{}, []string{"+192.0.2.1/32"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range DiffViewsAfter(tc.old, tc.after, tc.new, now) {
				if e.Time != now.UnixMilli() || e.Router != r1 {
					t.Errorf("event %+v: want router %s at %d", e, r1, now.UnixMilli())
				}
				got = append(got, map[bool]string{true: "+", false: "-"}[e.Added]+e.Link.ID().String())
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
