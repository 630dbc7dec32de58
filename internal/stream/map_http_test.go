package stream

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

type layoutDoc struct {
	Epoch string                `json:"epoch"`
	Seq   uint64                `json:"seq"`
	Nodes map[string][2]float64 `json:"nodes"`
}

func TestLayoutPlacesEveryVertexAndKeepsThePlaces(t *testing.T) {
	db := streamtest.LoadFixture(t)
	ts := startServer(t, ServerConfig{Source: db}, nil)
	base := "http" + strings.TrimPrefix(ts.url, "ws")
	fetch := func() layoutDoc {
		t.Helper()
		code, ct, body := get(t, base+"/v1/layout")
		if code != http.StatusOK || ct != "application/json" {
			t.Fatalf("layout: %d %s %.200s", code, ct, body)
		}
		var d layoutDoc
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := fetch()
	g := topo.Build(db.View())
	if len(first.Nodes) != len(g.Vertices) || first.Seq != db.Feed().LastSeq() {
		t.Fatalf("%d places at seq %d, want %d at %d", len(first.Nodes), first.Seq, len(g.Vertices), db.Feed().LastSeq())
	}
	want := g.Layout(nil)
	for k, p := range want {
		if got := first.Nodes[k]; got != [2]float64{p.X, p.Y} {
			t.Fatalf("%s at %v, want %v", k, got, p)
		}
	}
	// A new router: the others stay where they were.
	em := &streamtest.Emitter{DB: db}
	em.Emit(t, 1)
	second := fetch()
	if len(second.Nodes) != len(first.Nodes)+1 {
		t.Fatalf("%d places after a new router, want %d", len(second.Nodes), len(first.Nodes)+1)
	}
	for k, p := range first.Nodes {
		if second.Nodes[k] != p {
			t.Errorf("%s moved from %v to %v", k, p, second.Nodes[k])
		}
	}
	if _, ok := second.Nodes[streamtest.RouteOrigin(1).String()]; !ok {
		t.Errorf("the new router has no place")
	}
}

func TestRecentEventsBeforeASequenceNumber(t *testing.T) {
	db := streamtest.NewDB(t, 64)
	em := &streamtest.Emitter{DB: db}
	last := em.Emit(t, 5) // each route: its event and its router's record
	ts := startServer(t, ServerConfig{Source: db}, nil)
	base := "http" + strings.TrimPrefix(ts.url, "ws")
	recent := func(q string) []string {
		t.Helper()
		code, _, body := get(t, base+"/v1/recent"+q)
		if code != http.StatusOK {
			t.Fatalf("recent%s: %d %s", q, code, body)
		}
		var d struct {
			Epoch  string            `json:"epoch"`
			Events []json.RawMessage `json:"events"`
		}
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		if d.Epoch != ts.Epoch() {
			t.Errorf("epoch %q", d.Epoch)
		}
		var ids []string
		for _, raw := range d.Events {
			ev, err := lsdb.ParseEnvelope(raw)
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			if ev.IsState() {
				t.Errorf("a state record among the recent events: %s", raw)
			}
			ids = append(ids, ev.Link.ID().Addr().String())
		}
		return ids
	}
	if got := strings.Join(recent(""), " "); got != "172.16.0.1 172.16.0.2 172.16.0.3 172.16.0.4 172.16.0.5" {
		t.Errorf("recent: %s", got)
	}
	if got := strings.Join(recent("?n=2"), " "); got != "172.16.0.4 172.16.0.5" {
		t.Errorf("recent?n=2: %s", got)
	}
	// Until the third route's record: what a page that took the view then shows.
	if got := strings.Join(recent("?n=10&until="+strconv.FormatUint(last-4, 10)), " "); got != "172.16.0.1 172.16.0.2 172.16.0.3" {
		t.Errorf("recent?until=%d: %s", last-4, got)
	}
	for _, q := range []string{"?until=x", "?n=-1", "?n=many"} {
		if code, _, body := get(t, base+"/v1/recent"+q); code != http.StatusBadRequest {
			t.Errorf("recent%s: %d %s, want 400", q, code, body)
		}
	}
}
