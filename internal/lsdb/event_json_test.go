package lsdb_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// cmpEvent compares events field by field, Link's unexported ones included.
var cmpEvent = cmp.Options{cmp.AllowUnexported(lsdb.Link{}), cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{}), cmpopts.EquateEmpty()}

// richDB is a database with every kind of state a record carries: flags,
// a router without links, a LAN with its DR, summaries, externals with a
// tag and a forwarding address, and NSSA routes.
func richDB(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, 0)
	area1 := ip("0.0.0.1")
	abr := router("10.0.0.1", p2p("10.0.0.2", 10), transit("10.1.0.1", "10.1.0.1", 5), stub("172.16.0.0/24", 1))
	abr.Flags = ospf.RouterFlagB | ospf.RouterFlagE
	x := external("10.0.0.1", "198.51.100.0/24", 20, true, "10.1.0.9")
	x.Tag = 77
	nssa := external("10.0.0.3", "198.51.101.0/24", 3, false, "")
	nssa.Type = ospf.NSSAExternalLSAType
	h.load(area0,
		abr,
		router("10.0.0.2", p2p("10.0.0.1", 10), transit("10.1.0.1", "10.1.0.2", 5)),
		router("10.0.0.4"), // no links
		network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"),
		x,
	)
	h.update(area1, router("10.0.0.3", stub("172.17.0.0/24", 1)), 0)
	h.update(area1, nssa, 0)
	h.update(area1, &ospf.SummaryLSA{Header: hdr(ospf.SummaryLSAType, "10.9.0.0", "10.0.0.1"), Mask: ip("255.255.255.0"), Metric: 4}, 0)
	h.update(area1, &ospf.SummaryLSA{Header: hdr(ospf.ASBRSummaryLSAType, "10.0.0.2", "10.0.0.1"), Mask: ip("0.0.0.0"), Metric: 6}, 0)
	h.events()
	return h
}

// changes returns every event and state record the feed holds after seq.
func changes(t *testing.T, db *lsdb.DB, after uint64) []lsdb.Event {
	t.Helper()
	sub, err := db.Feed().SubscribeAll(after)
	if err != nil {
		t.Fatal(err)
	}
	var out []lsdb.Event
	for sub.Next() <= db.Feed().LastSeq() {
		if out, err = sub.Read(context.Background(), out); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestEnvelopesRoundTrip(t *testing.T) {
	h := richDB(t)
	// A DR change and a router that leaves make records no event shows.
	h.update(area0, network("10.1.0.2", "10.0.0.2", 24, "10.0.0.1", "10.0.0.2"), 0)
	h.update(area0, network("10.1.0.1", "10.0.0.1", 24, "10.0.0.1", "10.0.0.2"), ospf.MaxAge)
	h.events()
	h.update(area0, network("10.1.0.2", "10.0.0.2", 24, "10.0.0.1", "10.0.0.2"), ospf.MaxAge)
	h.update(area0, router("10.0.0.4"), ospf.MaxAge)
	h.update(area1, &ospf.SummaryLSA{Header: hdr(ospf.SummaryLSAType, "10.9.0.0", "10.0.0.1"), Mask: ip("255.255.255.0"), Metric: 4}, ospf.MaxAge)
	h.events()
	evs := changes(t, h.db, 0)
	kinds := map[string]int{}
	for i := range evs {
		ev := &evs[i]
		kind := ev.Entity.String()
		if ev.RouterState == nil && ev.NetworkState == nil && ev.IsState() {
			kind += " (left)"
		}
		kinds[kind]++
		env := ev.AppendEnvelope(nil)
		got, err := lsdb.ParseEnvelope(env)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if d := cmp.Diff(*ev, got, cmpEvent); d != "" {
			t.Errorf("%s: (-want +got)\n%s", env, d)
		}
		if !ev.IsState() && !strings.HasSuffix(string(env), `"event":`+string(ev.AppendJSON(nil))+"}") {
			t.Errorf("envelope %s does not end with the seed's event", env)
		}
	}
	for _, k := range []string{"router", "network", "router-state", "network-state", "route-state", "router-state (left)", "network-state (left)", "route-state (left)"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among the changes %v: the test misses a case", k, kinds)
		}
	}
}

func TestViewJSONRoundTrip(t *testing.T) {
	h := richDB(t)
	v := h.db.View()
	got, err := lsdb.ParseView(v.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(v, got, cmpEvent, cmp.Comparer(time.Time.Equal)); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	a0 := got.Area(area0)
	if r := a0.Router(ip("10.0.0.1")); r == nil || r.Flags != ospf.RouterFlagB|ospf.RouterFlagE || len(r.Externals) != 1 || r.Externals[0].Tag != 77 {
		t.Errorf("router 10.0.0.1 lost its flags or its external's tag: %+v", r)
	}
	if r := a0.Router(ip("10.0.0.4")); r == nil || !r.HasLSA {
		t.Errorf("the router without links is missing: %+v", r)
	}
}

func TestParseEnvelopeRejectsMalformedInput(t *testing.T) {
	ev := `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"stubnet": {"id": "10.0.0.0/24", "metric": 1}}}}`
	for _, tc := range []struct{ in, want string }{
		{``, "envelope: unexpected end"},
		{`[]`, "envelope: json: cannot unmarshal array"},
		{`{"event":` + ev + `}`, "no seq"},
		{`{"seq":0,"event":` + ev + `}`, "no seq"},
		{`{"seq":-1,"event":` + ev + `}`, "cannot unmarshal number -1"},
		{`{"seq":1}`, `want exactly one of "event", "router" and "network"`},
		{`{"seq":1,"router":"10.0.0.1","network":"10.0.0.0/8","timestamp":1,"state":null}`, "want exactly one of"},
		{`{"seq":1,"area":"::1","event":` + ev + `}`, `area: "::1" is not a dotted quad`},
		{`{"seq":1,"dr":"10.0.0.1","event":` + ev + `}`, "dr on a router event"},
		{`{"seq":1,"event":` + ev + `,"state":null}`, "an event envelope has no"},
		{`{"seq":1,"event":{"timestamp":1}}`, "want exactly one of \"added\" and \"removed\""},
		{`{"seq":1,"event":{"timestamp":1,"entity":{"type":"router","id":"x"},"added":{"link":{"stubnet":{"id":"10.0.0.0/24","metric":1}}}}}`, `router id: "x" is not a dotted quad`},
		{`{"seq":1,"event":{"timestamp":1,"entity":{"type":"router","id":"1.1.1.1"},"added":{"link":{"stubnet":null}}}}`, "stubnet link is null"},
		{`{"seq":1,"event":{"timestamp":1,"entity":{"type":"router","id":"1.1.1.1"},"added":{"link":{"warp":{}}}}}`, `unknown link kind "warp"`},
		{`{"seq":1,"event":{"timestamp":1,"entity":{"type":"router","id":"1.1.1.1"},"added":{"link":{"router":{"id":"2.2.2.2","metric2":1}}}}}`, "metric2 on a link that is not a route"},
		{`{"seq":1,"event":{"timestamp":1,"entity":{"type":"network","id":"10.0.0.0/24"},"added":{}}}`, "network 10.0.0.0/24: no router"},
		{`{"seq":1,"event":{"timestamp":1,"entity":{"type":"lan","id":"x"},"added":{}}}`, `entity type "lan"`},
		{`{"seq":1,"router":"10.0.0.1","state":null}`, "state record without a timestamp"},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1}`, `state record without "state"`},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1,"dr":"1.1.1.1","state":null}`, "dr on a state record"},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1,"state":{"id":"10.0.0.2"}}`, "state of router 10.0.0.2"},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1,"state":{"id":"10.0.0.1","flags":256}}`, "cannot unmarshal number 256"},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1,"state":{"id":"10.0.0.1","links":[{"kind":"external","id":"10.0.0.0/8","metric":1}]}}`, `kind "external" is not one of`},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1,"state":{"id":"10.0.0.1","links":[{"kind":"router","id":"10.0.0.2"}]}}`, "link 0: no metric"},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1,"state":{"id":"10.0.0.1","nssa":[{"prefix":"10.0.0.0/8","metric":1}]}}`, "an NSSA route without its area"},
		{`{"seq":1,"router":"10.0.0.1","timestamp":1,"state":{"id":"10.0.0.1","externals":[{"prefix":"10.0.0.0/8","metric":1,"forward":"x"}]}}`, `via: "x" is not a dotted quad`},
		{`{"seq":1,"network":"10.0.0.0/24","timestamp":1,"state":{"prefix":"10.0.1.0/24"}}`, "state of network 10.0.1.0/24"},
		{`{"seq":1,"network":"10.0.0.0/24","timestamp":1,"state":{"prefix":"10.0.0.0/24","routers":["a"]}}`, `router 0: "a" is not a dotted quad`},
		{`{"seq":1,"network":"10.0.0.0/24","timestamp":1,"state":[]}`, "cannot unmarshal array"},
	} {
		_, err := lsdb.ParseEnvelope([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseEnvelope(%s) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

func TestParseViewRejectsMalformedInput(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{}`, `want {"seq"`},
		{`{"seq":1,"updated":"now"}`, "cannot parse"},
		{`{"seq":1,"updated":"2025-01-01T00:00:00Z","areas":[{"id":"0.0.0.1"},{"id":"0.0.0.0"}]}`, "area 0.0.0.0 is out of order"},
		{`{"seq":1,"updated":"2025-01-01T00:00:00Z","areas":[{"id":"0.0.0.0","routers":[{"id":"2.2.2.2"},{"id":"2.2.2.2"}]}]}`, "router 2.2.2.2 is out of order"},
		{`{"seq":1,"updated":"2025-01-01T00:00:00Z","areas":[{"id":"0.0.0.0","networks":[{"prefix":"10.0.0.0/24"},{"prefix":"10.0.0.0/16"}]}]}`, "network 10.0.0.0/16 is out of order"},
	} {
		_, err := lsdb.ParseView([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseView(%s) = %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

// FuzzParseEnvelope checks that the decoder never panics, and that what it
// accepts its encoder writes back as the same event: parse, append, parse.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"seq":7,"area":"0.0.0.0","event":{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"external": {"id": "10.0.0.0/8", "metric2": 1, "via": "10.0.0.9"}}}}}`,
		`{"seq":8,"area":"0.0.0.1","dr":"10.0.0.1","event":{"timestamp": 1, "entity": {"type": "network", "id": "10.1.0.0/24"}, "removed": {"router": "10.0.0.2"}}}`,
		`{"seq":9,"area":"0.0.0.0","timestamp":5,"router":"10.0.0.1","state":{"id":"10.0.0.1","lsa":true,"flags":3,"links":[{"kind":"router","id":"10.0.0.2","metric":10},{"kind":"network","id":"10.1.0.0/24","metric":1}],"summaries":[{"kind":"xrouter","id":"10.0.0.3","metric":2}],"externals":[{"prefix":"10.2.0.0/16","metric":20,"type2":true,"forward":"10.0.0.9","tag":7}],"nssa":[{"prefix":"10.3.0.0/16","metric":1,"area":"0.0.0.1"}]}}`,
		`{"seq":10,"timestamp":5,"network":"10.1.0.0/24","state":{"prefix":"10.1.0.0/24","dr":"10.0.0.1","draddr":"10.1.0.1","routers":["10.0.0.1","10.0.0.2"]}}`,
		`{"seq":11,"area":"0.0.0.0","timestamp":5,"router":"10.0.0.1","state":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		ev, err := lsdb.ParseEnvelope(p)
		if err != nil {
			return
		}
		b := ev.AppendEnvelope(nil)
		again, err := lsdb.ParseEnvelope(b)
		if err != nil {
			t.Fatalf("%s: accepted, but its encoding %s is not: %v", p, b, err)
		}
		if d := cmp.Diff(ev, again, cmpEvent); d != "" {
			t.Fatalf("%s: encoded as %s, which reads back otherwise (-first +again):\n%s", p, b, d)
		}
		if b2 := again.AppendEnvelope(nil); string(b2) != string(b) {
			t.Fatalf("encodings differ:\n%s\n%s", b, b2)
		}
	})
}

// FuzzParseView is FuzzParseEnvelope for views.
func FuzzParseView(f *testing.F) {
	f.Add([]byte(`{"seq":3,"updated":"2025-01-02T03:04:05.5Z","areas":[{"id":"0.0.0.0","routers":[{"id":"10.0.0.1","lsa":true,"links":[{"kind":"stubnet","id":"10.0.0.0/24","metric":1}]}],"networks":[{"prefix":"10.1.0.0/24","dr":"10.0.0.1","draddr":"10.1.0.1","routers":["10.0.0.1"]}]}]}`))
	f.Add([]byte(`{"seq":0,"updated":"2025-01-02T03:04:05Z","areas":[]}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		v, err := lsdb.ParseView(p)
		if err != nil {
			return
		}
		b := v.AppendJSON(nil)
		again, err := lsdb.ParseView(b)
		if err != nil {
			t.Fatalf("%s: accepted, but its encoding %s is not: %v", p, b, err)
		}
		if d := cmp.Diff(v, again, cmpEvent, cmp.Comparer(time.Time.Equal)); d != "" {
			t.Fatalf("%s: encoded as %s, which reads back otherwise (-first +again):\n%s", p, b, d)
		}
	})
}
