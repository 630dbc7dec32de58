package history

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// answer is what get returns of a response: its body is read and closed.
type answer struct {
	StatusCode      int
	Header, Trailer http.Header
}

func get(t *testing.T, srv *httptest.Server, method, path string) (answer, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return answer{resp.StatusCode, resp.Header, resp.Trailer}, string(body)
}

func TestHandler(t *testing.T) {
	a := newTestArchive(t)
	a.snapshot(at(0), baseArea)
	lines := []string{
		link(at(time.Second), "10.0.0.1", false, lsdb.KindRouter, "10.0.0.2", 10),
		link(at(2*time.Second), "10.0.0.3", true, lsdb.KindStubnet, "192.0.2.0/24", 1),
	}
	a.hour(at(0), lines[0], "{garbage", lines[1])
	h := a.history(false)
	srv := httptest.NewServer(Handler(h))
	defer srv.Close()
	ctx := context.Background()
	ms := func(d time.Duration) string { return strconv.FormatInt(at(d).UnixMilli(), 10) }

	resp, body := get(t, srv, "GET", "/v1/snapshot?at="+url.QueryEscape("2024-03-01T10:00:01.5Z"))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("snapshot: %d %s", resp.StatusCode, body)
	}
	var doc struct {
		At, Base int64
		Events   int
		Skipped  int
		Snapshot json.RawMessage
		View     json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.At != at(1500*time.Millisecond).UnixMilli() || doc.Base != at(0).UnixMilli() || doc.Events != 1 || doc.Skipped != 1 {
		t.Errorf("at %d base %d events %d skipped %d", doc.At, doc.Base, doc.Events, doc.Skipped)
	}
	want, _, err := h.At(ctx, at(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s, err := lsdb.ParseSnapshot(doc.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	got, err := lsdb.ViewFromSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "/v1/snapshot?at=", got, want)

	resp, body = get(t, srv, "GET", "/v1/view?at="+ms(2*time.Second))
	if resp.StatusCode != 200 {
		t.Fatalf("view: %d %s", resp.StatusCode, body)
	}
	doc.View = nil
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	gotView, err := lsdb.ParseView(doc.View)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ = h.At(ctx, at(2*time.Second))
	sameState(t, "/v1/view?at=", gotView, want)
	if !gotView.Updated.Equal(at(2 * time.Second)) {
		t.Errorf("the view's updated is %v", gotView.Updated)
	}

	resp, body = get(t, srv, "GET", "/v1/events?from="+ms(0)+"&to="+ms(time.Hour))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("events: %d %s", resp.StatusCode, body)
	}
	if want := lines[0] + "\n" + lines[1] + "\n"; body != want {
		t.Errorf("events:\n%s\nwant:\n%s", body, want)
	}
	if got := resp.Trailer.Get("X-History-Skipped"); got != "1" {
		t.Errorf("X-History-Skipped trailer %q, want 1", got)
	}
	resp, body = get(t, srv, "GET", "/v1/events?from="+ms(0)+"&to="+ms(time.Hour)+"&diff=true")
	if resp.StatusCode != 200 || strings.Count(body, "\n") != 2 || !strings.Contains(body, `"timestamp": `+ms(time.Hour)) {
		t.Errorf("diff: %d %s", resp.StatusCode, body)
	}
	if resp, body := get(t, srv, "HEAD", "/v1/events?from="+ms(0)+"&to="+ms(time.Hour)); resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD: %d %q", resp.StatusCode, body)
	}

	for _, tc := range []struct {
		method, path string
		code         int
		says         string
	}{
		{"GET", "/v1/snapshot?at=", 400, "at=TIME is missing"},
		{"GET", "/v1/view?at=noon", 400, `at: time "noon"`},
		{"GET", "/v1/events?from=5", 400, "to=TIME is missing"},
		{"GET", "/v1/events?from=5&to=4", 400, "is before from"},
		{"GET", "/v1/events?from=5&to=6&diff=maybe", 400, "want true or false"},
		{"GET", "/v1/snapshot?at=" + ms(-time.Second), 404, "the earliest is of 2024-03-01T10:00:00.000Z"},
		{"GET", "/v1/events?from=0&to=" + ms(-time.Hour-time.Second), 404, "begins at 2024-03-01T10:00:00.000Z"},
		{"POST", "/v1/events?from=0&to=1", 405, "use GET"},
	} {
		if resp, body := get(t, srv, tc.method, tc.path); resp.StatusCode != tc.code || !strings.Contains(body, tc.says) {
			t.Errorf("%s %s: %d %q, want %d and %q", tc.method, tc.path, resp.StatusCode, body, tc.code, tc.says)
		}
	}
}

// A server without the archive a question needs says so with 501.
func TestHandlerWithoutArchive(t *testing.T) {
	a := newTestArchive(t)
	eventsOnly, err := New(Config{EventsDir: a.events})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		h    *History
		path string
	}{
		{nil, "/v1/events?from=0&to=1"},
		{nil, "/v1/snapshot?at=0"},
		{eventsOnly, "/v1/view?at=0"},
		{eventsOnly, "/v1/events?from=0&to=1&diff=1"},
	} {
		srv := httptest.NewServer(Handler(tc.h))
		if resp, body := get(t, srv, "GET", tc.path); resp.StatusCode != 501 || !strings.Contains(body, "path-prefix") {
			t.Errorf("%s: %d %q, want 501 naming the flag", tc.path, resp.StatusCode, body)
		}
		srv.Close()
	}
}

// A failure after the first lines are sent cuts the answer short: the
// client sees a broken response, not a complete one that lacks lines.
func TestHandlerCutsAFailedStreamShort(t *testing.T) {
	a := newTestArchive(t)
	var many []string
	for i := range 2000 {
		many = append(many, link(at(time.Duration(i)*time.Second), "10.0.0.1", i%2 == 0, lsdb.KindStubnet, "192.0.2.0/24", 1))
	}
	a.hour(at(0), many...)
	a.hour(at(time.Hour), many[0])
	a.hour(at(2*time.Hour), "{garbage") // read after the first hour's lines were sent
	srv := httptest.NewServer(Handler(a.history(true)))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/v1/events?from=0&to=" + strconv.FormatInt(at(3*time.Hour).UnixMilli(), 10))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("read %d bytes of a failed answer without an error", len(body))
	}
	if len(body) == 0 {
		t.Fatal("nothing was streamed before the failure")
	}

	// The same failure before anything was sent is an error status.
	if err := os.WriteFile(filepath.Join(a.events, "2024/03/01/10.jsonl"), []byte("{garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, srv, "GET", "/v1/events?from=0&to="+strconv.FormatInt(at(2*time.Hour).UnixMilli(), 10)); resp.StatusCode != 500 ||
		!strings.Contains(body, "10.jsonl:1: ") {
		t.Errorf("failure before the first line: %d %q", resp.StatusCode, body)
	}
}

// TestHandlerPathsAt: /v1/path and /v1/whatif with at= answer the live
// endpoints' questions on the state at that time, as topo answers them on
// At's view, and say which state in headers.
func TestHandlerPathsAt(t *testing.T) {
	a := newTestArchive(t)
	a.snapshot(at(0), baseArea)
	a.hour(at(0),
		link(at(time.Second), "10.0.0.1", false, lsdb.KindNetwork, "10.1.0.0/24", 10), // the LAN path goes
		link(at(2*time.Second), "10.0.0.1", false, lsdb.KindRouter, "10.0.0.2", 10),   // then the direct one
	)
	h := a.history(true)
	srv := httptest.NewServer(Handler(h))
	defer srv.Close()
	ms := func(d time.Duration) string { return strconv.FormatInt(at(d).UnixMilli(), 10) }
	for _, tc := range []struct {
		at        time.Duration
		reachable bool
		paths     int
		events    string
	}{
		{500 * time.Millisecond, true, 2, "0"},
		{1500 * time.Millisecond, true, 1, "1"},
		{2500 * time.Millisecond, false, 0, "2"},
	} {
		resp, body := get(t, srv, "GET", "/v1/path?at="+ms(tc.at)+"&from=10.0.0.1&to=10.0.0.2")
		if resp.StatusCode != 200 {
			t.Fatalf("path at %v: %d %s", tc.at, resp.StatusCode, body)
		}
		var ans topo.PathAnswer
		if err := json.Unmarshal([]byte(body), &ans); err != nil {
			t.Fatal(err)
		}
		if ans.Reachable != tc.reachable || len(ans.Paths) != tc.paths {
			t.Errorf("path at %v: reachable %v with %d paths, want %v with %d: %s", tc.at, ans.Reachable, len(ans.Paths), tc.reachable, tc.paths, body)
		}
		if got := resp.Header.Get("X-History-At") + " " + resp.Header.Get("X-History-Base") + " " + resp.Header.Get("X-History-Events"); got != ms(tc.at)+" "+ms(0)+" "+tc.events {
			t.Errorf("path at %v: headers %q", tc.at, got)
		}
		v, _, err := h.At(context.Background(), at(tc.at))
		if err != nil {
			t.Fatal(err)
		}
		for path, ask := range map[string]func(*topo.Graph) (any, error){
			"/v1/path?from=10.0.0.1&to=10.0.0.2":     func(g *topo.Graph) (any, error) { return g.Path("10.0.0.1", "10.0.0.2") },
			"/v1/whatif?from=10.0.0.1&fail=10.0.0.2": func(g *topo.Graph) (any, error) { return g.WhatIf("10.0.0.1", "10.0.0.2") },
		} {
			want, err := ask(topo.Build(v))
			if err != nil {
				t.Fatal(err)
			}
			wb, _ := json.Marshal(want)
			if _, body := get(t, srv, "GET", path+"&at="+ms(tc.at)); body != string(wb)+"\n" {
				t.Errorf("%s at %v:\n%s\nwant topo's on the state then:\n%s", path, tc.at, body, wb)
			}
		}
	}
	for _, tc := range []struct {
		path string
		code int
		says string
	}{
		{"/v1/path?at=" + ms(time.Second) + "&to=10.0.0.2", 400, "want /v1/path?at=TIME&from="},
		{"/v1/whatif?at=" + ms(time.Second) + "&from=10.0.0.1", 400, "want /v1/whatif?at=TIME&fail="},
		{"/v1/path?at=" + ms(time.Second) + "&from=10.9.9.9&to=10.0.0.2", 400, "10.9.9.9"},
		{"/v1/path?at=" + ms(-time.Minute) + "&from=10.0.0.1&to=10.0.0.2", 404, "the earliest is of"},
	} {
		if resp, body := get(t, srv, "GET", tc.path); resp.StatusCode != tc.code || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d %q, want %d and %q", tc.path, resp.StatusCode, body, tc.code, tc.says)
		}
	}
}
