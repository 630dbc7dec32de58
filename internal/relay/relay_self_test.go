package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/stream"
	"github.com/ospf-operator/ospf-operator/internal/stream/pagetest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// getBody returns the status and body of GET url.
func getBody(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// viewSelf is the "self" of a server's /v1/view.
func viewSelf(t testing.TB, base string) string {
	t.Helper()
	code, body := getBody(t, base+"/v1/view")
	if code != 200 {
		t.Fatalf("%s/v1/view: %d %s", base, code, body)
	}
	var doc struct {
		Self string `json:"self"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Self
}

// startUpstreamSelfLater starts an upstream of db that does not know its
// router until the test stores it in known.
func startUpstreamSelfLater(t *testing.T, db *lsdb.DB) (known *atomic.Pointer[netip.Addr], up *testUpstream) {
	t.Helper()
	known = new(atomic.Pointer[netip.Addr])
	up = startUpstream(t, stream.ServerConfig{Source: db, Self: func() netip.Addr {
		if p := known.Load(); p != nil {
			return *p
		}
		return netip.Addr{}
	}}, nil)
	return known, up
}

// A relay does not mirror ospfd itself: it learns the router whose LSDB
// it serves from its upstream's /v1/view, answers /v1/path and /v1/whatif
// from it as the upstream does, and names it in its own /v1/view, so that
// a relay of the relay learns it too. An upstream that does not know its
// router yet is asked again at the next check.
func TestRelayLearnsTheUpstreamsRouter(t *testing.T) {
	db := streamtest.LoadFixture(t)
	g := topo.Build(db.View())
	self := netip.MustParseAddr("10.69.7.31")
	far := farthestFrom(t, g, self)
	known, up := startUpstreamSelfLater(t, db)
	relay := startRelay(t, Config{Upstream: up.url, VerifyInterval: 20 * time.Millisecond})

	// Neither knows the router yet.
	if s := viewSelf(t, relay.http); s != "" {
		t.Errorf("the relay's view names %q before the upstream knows its router", s)
	}
	if code, body := getBody(t, relay.http+"/v1/path?to="+far); code != http.StatusBadRequest || !strings.HasPrefix(body, "want ") {
		t.Errorf("/v1/path without from, router unknown: %d %q, want 400", code, body)
	}

	known.Store(&self)
	if s := viewSelf(t, up.http.URL); s != self.String() {
		t.Fatalf("the upstream's view names %q, want %s", s, self)
	}
	streamtest.NewWithT(t).Eventually(relay.Self).Should(gomega.Equal(self), "the relay to learn the upstream's router")
	if s := viewSelf(t, relay.http); s != self.String() {
		t.Errorf("the relay's view names %q, want %s", s, self)
	}
	for _, q := range []string{"/v1/path?to=" + far, "/v1/whatif?fail=" + far} {
		code, want := getBody(t, up.http.URL+q)
		gotCode, got := getBody(t, relay.http+q)
		if code != 200 || gotCode != 200 || got != want {
			t.Errorf("%s: the relay answers %d %.200s\nthe upstream %d %.200s", q, gotCode, got, code, want)
		}
	}
	var path topo.PathAnswer
	_, body := getBody(t, relay.http+"/v1/path?to="+far)
	if err := json.Unmarshal([]byte(body), &path); err != nil {
		t.Fatal(err)
	}
	if path.From != self.String() || !path.Reachable {
		t.Errorf("the relay's path to %s is from %q (reachable %v), want from %s", far, path.From, path.Reachable, self)
	}

	// A relay of the relay learns it from the relay.
	second := startRelay(t, Config{Upstream: relay.url})
	if got := second.Self(); got != self {
		t.Errorf("the second relay learnt %v, want %s", got, self)
	}
	if s := viewSelf(t, second.http); s != self.String() {
		t.Errorf("the second relay's view names %q, want %s", s, self)
	}
}

// An upstream that learns its router after the relay started (an agent
// not yet synced with ospfd) is asked again within seconds, not at the
// next 5-minute check.
func TestRelayLearnsALateRouterSoon(t *testing.T) {
	db := streamtest.LoadFixture(t)
	self := netip.MustParseAddr("10.69.7.31")
	known, up := startUpstreamSelfLater(t, db)
	relay := startRelay(t, Config{Upstream: up.url}) // VerifyInterval: the default 5m
	time.Sleep(100 * time.Millisecond)
	known.Store(&self)
	start := time.Now()
	streamtest.NewWithT(t).Eventually(relay.Self).WithTimeout(10*time.Second).Should(gomega.Equal(self), "the relay to learn the upstream's router soon")
	t.Logf("learnt %v after the upstream knew it", time.Since(start).Round(time.Millisecond))
}

// A view whose "self" is not a router ID is refused, with an error that
// says so; the relay keeps what it knew.
func TestRelayRefusesAViewWithABadSelf(t *testing.T) {
	db := streamtest.LoadFixture(t)
	view := db.View().AppendJSON(nil)
	for _, self := range []string{`"nope"`, `"2001:db8::1"`, `7`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `{"epoch":"e1","seq":%d,"self":%s,"view":%s}`, db.View().Seq, self, view)
		}))
		r, err := New(Config{Upstream: "ws://" + strings.TrimPrefix(srv.URL, "http://"), Logger: streamtest.Logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.fetchView(context.Background())
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "self") {
			t.Errorf("self %s: err = %v, want one about self", self, err)
		}
		if r.Self().IsValid() {
			t.Errorf("self %s: learnt %v", self, r.Self())
		}
	}
}

// farthestFrom is the router farthest from root, by path cost.
func farthestFrom(t testing.TB, g *topo.Graph, root netip.Addr) string {
	t.Helper()
	r, ok := g.Router(root)
	if !ok {
		t.Fatalf("%s is not in the graph", root)
	}
	tree := g.SPF(r, false, topo.NoFailure)
	far := r
	for v, d := range tree.Dist {
		if g.Vertices[v].Kind == topo.RouterVertex && d > tree.Dist[far] {
			far = int32(v)
		}
	}
	if far == r {
		t.Fatalf("no router is reachable from %s", root)
	}
	return g.Key(far)
}

// The live page on the relay shows a clicked router's path cost from the
// agent's router, as on the agent: the relay learnt which router that is.
func TestRelayPageShowsThePathCostFromTheAgentsRouter(t *testing.T) {
	chromium := pagetest.Chromium(t)
	db := streamtest.LoadFixture(t)
	g := topo.Build(db.View())
	self := netip.MustParseAddr("10.69.7.31")
	far := farthestFrom(t, g, self)
	want, err := g.Path(self.String(), far)
	if err != nil {
		t.Fatal(err)
	}
	up := startUpstream(t, stream.ServerConfig{Source: db, Self: func() netip.Addr { return self }}, nil)
	relay := startRelay(t, Config{Upstream: up.url})
	page := pagetest.Open(t, chromium, relay.http+"/")
	page.Wait("the map to be drawn", `String(!!(window.ospfMap && ospfMap.stats.firstDraw > 0))`, "true")
	page.Wait("the page to follow the relay", `document.getElementById("status").className`, "ok")
	// The agent's router is marked on the map.
	page.Wait("the agent's router marked", `ospfMap.cy.nodes("[?self]").map(n => n.id()).join()`, self.String())
	page.Eval(fmt.Sprintf(`ospfMap.select(%q), ""`, far))
	page.Wait("the path cost", `document.getElementById("cost").dataset.cost || ""`, fmt.Sprint(want.Cost))
	if got := page.Eval(`document.getElementById("cost").textContent`); !strings.HasPrefix(got, "path cost from "+self.String()+": ") {
		t.Errorf("the cost line reads %q", got)
	}
}
