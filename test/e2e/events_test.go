//go:build e2e

package e2e

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// TestParseEvent checks the stream tests' reading of a line (no FRR
// needed): what lsdb writes comes back as the fact it describes, a
// multi-area kind is checked against the multi-area schema, and a line the
// library refuses, or the schema does not allow, is an error.
func TestParseEvent(t *testing.T) {
	r1, r2 := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	lan := netip.MustParsePrefix("10.1.0.0/24")
	ext := netip.MustParsePrefix("198.51.100.0/24")
	for _, tc := range []struct {
		name string
		ev   lsdb.Event
		want fact
		sign int
	}{
		{"router link added",
			lsdb.Event{Time: 1700000000123, Entity: lsdb.EntityRouter, Router: r1, Added: true,
				Link: lsdb.NewLink(lsdb.KindRouter, netip.PrefixFrom(r2, 32), 10, false, netip.Addr{})},
			fact{Entity: "router", ID: "10.0.0.1", Kind: "router", Link: "10.0.0.2", Metric: 10}, 1},
		{"external with metric2 and via removed",
			lsdb.Event{Time: 1700000000123, Entity: lsdb.EntityRouter, Router: r1,
				Link: lsdb.NewLink(lsdb.KindExternal, ext, 20, true, r2)},
			fact{Entity: "router", ID: "10.0.0.1", Kind: "external", Link: "198.51.100.0/24", Metric: 20, Metric2: true, Via: "10.0.0.2"}, -1},
		{"summary (multi-area schema)",
			lsdb.Event{Time: 1700000000123, Entity: lsdb.EntityRouter, Router: r1, Added: true,
				Link: lsdb.NewLink(lsdb.KindXNetwork, ext, 30, false, netip.Addr{})},
			fact{Entity: "router", ID: "10.0.0.1", Kind: "xnetwork", Link: "198.51.100.0/24", Metric: 30}, 1},
		{"router attached to a network",
			lsdb.Event{Time: 1700000000123, Entity: lsdb.EntityNetwork, Network: lan, Member: r2, Added: true},
			fact{Entity: "network", ID: "10.1.0.0/24", Kind: "router", Link: "10.0.0.2"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseEvent(string(tc.ev.AppendJSON(nil)))
			if err != nil {
				t.Fatal(err)
			}
			if got.f != tc.want || got.sign != tc.sign || got.ts.UnixMilli() != tc.ev.Time {
				t.Errorf("got %v sign %d at %d, want %v sign %d at %d", got.f, got.sign, got.ts.UnixMilli(), tc.want, tc.sign, tc.ev.Time)
			}
		})
	}
	for _, tc := range []struct{ name, line, err string }{
		{"both added and removed",
			`{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"router": {"id": "10.0.0.2", "metric": 1}}}, "removed": {"link": {"router": {"id": "10.0.0.2", "metric": 1}}}}`,
			"exactly one"},
		{"not JSON", `{"timestamp": `, "event"},
		{"a property the schema does not allow",
			`{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"router": {"id": "10.0.0.2", "metric": 1}}}, "area": "0.0.0.0"}`,
			"area"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseEvent(tc.line)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want one that says %q", err, tc.err)
			}
		})
	}
}
