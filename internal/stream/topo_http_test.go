package stream

import (
	"encoding/json"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

func get(t *testing.T, url string) (int, string, string) {
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
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestPathWhatIfAndExportsOverHTTP asks the NYC LSDB's server for paths,
// what-ifs and graph exports, and checks them against package topo.
func TestPathWhatIfAndExportsOverHTTP(t *testing.T) {
	db := streamtest.LoadFixture(t)
	self := netip.MustParseAddr("10.69.7.31")
	ts := startServer(t, ServerConfig{Source: db, Self: func() netip.Addr { return self }}, nil)
	base := "http" + strings.TrimPrefix(ts.url, "ws")
	g := topo.Build(db.View())

	code, ct, body := get(t, base+"/v1/path?to=10.70.76.0/24")
	if code != http.StatusOK || ct != "application/json" {
		t.Fatalf("path: %d %s %s", code, ct, body)
	}
	var got topo.PathAnswer
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want, err := g.Path("10.69.7.31", "10.70.76.0/24")
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Fatalf("path from the agent's router:\n%s\nwant\n%s", gb, wb)
	}

	code, _, body = get(t, base+"/v1/path?from=10.69.2.27&to=10.69.7.31")
	if code != http.StatusOK || !strings.Contains(body, `"reverse"`) {
		t.Fatalf("path between routers: %d %s", code, body)
	}
	code, _, body = get(t, base+"/v1/whatif?fail=10.69.19.34")
	var w topo.WhatIf
	if code != http.StatusOK || json.Unmarshal([]byte(body), &w) != nil || w.Root != "10.69.7.31" || len(w.Unreachable)+len(w.Changed) == 0 {
		t.Fatalf("whatif: %d %s", code, body)
	}
	for _, bad := range []string{"/v1/path?from=10.69.7.31", "/v1/path?from=nonsense&to=10.69.2.27", "/v1/whatif?fail=x-y", "/v1/snapshot?format=png"} {
		if code, _, body := get(t, base+bad); code != http.StatusBadRequest || body == "" {
			t.Errorf("%s: %d %q, want 400 with a reason", bad, code, body)
		}
	}
	for format, ctype := range contentTypes {
		code, ct, body := get(t, base+"/v1/snapshot?format="+format)
		if code != http.StatusOK || ct != ctype || len(body) < 10000 {
			t.Errorf("format %s: %d %s, %d bytes", format, code, ct, len(body))
		}
	}
	if _, _, body := get(t, base+"/v1/snapshot?format=json"); !strings.HasPrefix(body, `{"epoch":`) {
		t.Errorf("format=json is the snapshot document: %.40s", body)
	}
}

// /v1/view names the router whose LSDB it is once the server knows it,
// at once when it learns or changes it, and not before.
func TestViewNamesTheServersRouter(t *testing.T) {
	db := streamtest.LoadFixture(t)
	var self atomic.Pointer[netip.Addr]
	ts := startServer(t, ServerConfig{Source: db, Self: func() netip.Addr {
		if p := self.Load(); p != nil {
			return *p
		}
		return netip.Addr{}
	}}, nil)
	without := startServer(t, ServerConfig{Source: db}, nil)
	viewSelf := func(ts *testServer) (string, bool) {
		t.Helper()
		code, _, body := get(t, "http"+strings.TrimPrefix(ts.url, "ws")+"/v1/view")
		if code != http.StatusOK {
			t.Fatalf("/v1/view: %d %s", code, body)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc["view"]) == 0 || len(doc["epoch"]) == 0 {
			t.Fatalf("/v1/view: %.100s", body)
		}
		var s string
		raw, ok := doc["self"]
		if ok {
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatal(err)
			}
		}
		return s, ok
	}
	if s, ok := viewSelf(without); ok {
		t.Errorf("a server without Self names %q", s)
	}
	if s, ok := viewSelf(ts); ok {
		t.Errorf("a server that does not know its router yet names %q", s)
	}
	for _, id := range []string{"10.69.7.31", "10.69.2.27"} {
		a := netip.MustParseAddr(id)
		self.Store(&a)
		if s, _ := viewSelf(ts); s != id { // at once: the cached document is not reused
			t.Errorf("/v1/view names %q, want %s", s, id)
		}
	}
}
