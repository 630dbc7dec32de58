package controller

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

var (
	backbone = netip.MustParseAddr("0.0.0.0")
	r1       = netip.MustParseAddr("10.0.0.1")
	r2       = netip.MustParseAddr("10.0.0.2")
	lan      = netip.MustParsePrefix("10.1.0.0/24")
)

func routerEvent(added bool, l lsdb.Link) lsdb.Event {
	return lsdb.Event{Area: backbone, Entity: lsdb.EntityRouter, Router: r1, Added: added, Link: l}
}

func memberEvent(added bool, m netip.Addr) lsdb.Event {
	return lsdb.Event{Area: backbone, Entity: lsdb.EntityNetwork, Network: lan, Added: added, Member: m}
}

func ptp(metric uint32) lsdb.Link {
	return lsdb.NewLink(lsdb.KindRouter, netip.PrefixFrom(r2, 32), metric, false, netip.Addr{})
}

func external(p string, metric uint32, type2 bool, via string) lsdb.Link {
	var v netip.Addr
	if via != "" {
		v = netip.MustParseAddr(via)
	}
	return lsdb.NewLink(lsdb.KindExternal, netip.MustParsePrefix(p), metric, type2, v)
}

func TestPlan(t *testing.T) {
	r1Target := eventTarget{name: "10.0.0.1"}
	lanTarget := eventTarget{network: true, name: "10.1.0.0-24"}
	tests := []struct {
		name  string
		batch []lsdb.Event
		want  []emitOne
	}{
		{
			name:  "a metric change is a removal and an addition",
			batch: []lsdb.Event{routerEvent(false, ptp(10)), routerEvent(true, ptp(20))},
			want: []emitOne{
				{target: r1Target, reason: "LinkRemoved", action: "router 10.0.0.2", msg: "Removed router link to 10.0.0.2 (metric 10) in area 0.0.0.0"},
				{target: r1Target, reason: "LinkAdded", action: "router 10.0.0.2", msg: "Added router link to 10.0.0.2 (metric 20) in area 0.0.0.0"},
			},
		},
		{
			name: "a flap within the batch cancels out",
			batch: []lsdb.Event{
				routerEvent(false, ptp(10)), routerEvent(true, ptp(10)),
				routerEvent(false, ptp(10)), routerEvent(true, ptp(10)),
				memberEvent(false, r2), memberEvent(true, r2),
			},
		},
		{
			name: "an addition, removed again, leaves the other addition",
			batch: []lsdb.Event{
				routerEvent(true, ptp(10)), routerEvent(true, ptp(10)), routerEvent(false, ptp(10)),
			},
			want: []emitOne{
				{target: r1Target, reason: "LinkAdded", action: "router 10.0.0.2", msg: "Added router link to 10.0.0.2 (metric 10) in area 0.0.0.0"},
			},
		},
		{
			name: "externals and network members",
			batch: []lsdb.Event{
				routerEvent(true, external("0.0.0.0/0", 10, true, "10.1.0.9")),
				routerEvent(false, external("192.0.2.0/24", 20, false, "")),
				memberEvent(true, r2),
				memberEvent(false, r1),
			},
			want: []emitOne{
				{target: r1Target, reason: "ExternalAdded", action: "external 0.0.0.0/0", msg: "Added external route 0.0.0.0/0 (type 2 metric 10, via 10.1.0.9)"},
				{target: r1Target, reason: "ExternalRemoved", action: "external 192.0.2.0/24", msg: "Removed external route 192.0.2.0/24 (type 1 metric 20)"},
				{target: lanTarget, reason: "RouterAttached", action: "router 10.0.0.2", msg: "Router 10.0.0.2 attached to transit network 10.1.0.0/24 in area 0.0.0.0"},
				{target: lanTarget, reason: "RouterDetached", action: "router 10.0.0.1", msg: "Router 10.0.0.1 detached from transit network 10.1.0.0/24 in area 0.0.0.0"},
			},
		},
		{
			name: "many changes of one reason become one Event",
			batch: func() []lsdb.Event {
				var b []lsdb.Event
				for i := range 8 {
					b = append(b, routerEvent(false, external(fmt.Sprintf("192.0.2.%d/32", i), 1, false, "")))
				}
				return b
			}(),
			want: []emitOne{{
				target: r1Target, reason: "ExternalRemoved", action: "external links",
				msg: "8 changes: external route 192.0.2.0/32 (type 1 metric 1); external route 192.0.2.1/32 (type 1 metric 1); " +
					"external route 192.0.2.2/32 (type 1 metric 1), and 5 more",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := plan(tt.batch, 3)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(emitOne{}, eventTarget{})); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWhatDescribesEveryKind(t *testing.T) {
	p := netip.MustParsePrefix("10.2.0.0/16")
	tests := []struct {
		link lsdb.Link
		want string
	}{
		{lsdb.NewLink(lsdb.KindNetwork, lan, 1, false, netip.Addr{}), "link to transit network 10.1.0.0/24 (metric 1)"},
		{lsdb.NewLink(lsdb.KindStubnet, p, 2, false, netip.Addr{}), "stub network 10.2.0.0/16 (metric 2)"},
		{lsdb.NewLink(lsdb.KindXNetwork, p, 3, false, netip.Addr{}), "summary route 10.2.0.0/16 (metric 3)"},
		{lsdb.NewLink(lsdb.KindXRouter, netip.PrefixFrom(r2, 32), 4, false, netip.Addr{}), "ASBR-summary route to 10.0.0.2 (metric 4)"},
		{lsdb.NewLink(lsdb.KindNSSAExt, p, 5, true, netip.Addr{}), "NSSA route 10.2.0.0/16 (type 2 metric 5)"},
	}
	for _, tt := range tests {
		e := routerEvent(true, tt.link)
		if got := what(&e); got != tt.want {
			t.Errorf("what(%v) = %q, want %q", tt.link.Kind, got, tt.want)
		}
	}
}
