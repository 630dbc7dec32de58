package stream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// The past goes to the history handler, the present stays with the
// server; a server without a history answers the past with 501.
func TestHistoryRequestsGoToTheHistory(t *testing.T) {
	db := streamtest.LoadFixture(t)
	var asked []string
	hist := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.String())
		_, _ = io.WriteString(w, "from the archive")
	})
	with := startServer(t, ServerConfig{Source: db, History: hist}, nil)
	without := startServer(t, ServerConfig{Source: db}, nil)
	base := func(ts *testServer) string { return "http" + strings.TrimPrefix(ts.url, "ws") }
	past := []string{"/v1/snapshot?at=0", "/v1/view?at=2024-03-01T10:00:00Z", "/v1/events?from=0&to=1", "/v1/events",
		"/v1/path?at=0&from=10.0.0.1&to=10.0.0.2", "/v1/whatif?at=0&fail=10.0.0.2"}
	for _, p := range past {
		if code, _, body := get(t, base(with)+p); code != 200 || body != "from the archive" {
			t.Errorf("%s: %d %q, want the history's answer", p, code, body)
		}
		if code, _, body := get(t, base(without)+p); code != http.StatusNotImplemented || !strings.Contains(body, "--events-path-prefix") {
			t.Errorf("%s without a history: %d %q, want 501", p, code, body)
		}
	}
	if len(asked) != len(past) {
		t.Errorf("the history was asked %v", asked)
	}
	for _, p := range []string{"/v1/snapshot", "/v1/view", "/v1/snapshot?format=dot", "/v1/path?from=10.69.2.27&to=10.69.2.27"} {
		if code, _, body := get(t, base(with)+p); code != 200 || body == "from the archive" {
			t.Errorf("%s: %d, want the live answer", p, code)
		}
	}
}

// TestServeHistory: the history questions go to the archive's handler; a
// path or what-if there without from= starts from the server's router,
// as the live ones do; without an archive, 501.
func TestServeHistory(t *testing.T) {
	self := netip.MustParseAddr("10.0.0.9")
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(r.URL.RawQuery)) })
	for _, tc := range []struct {
		target  string
		self    netip.Addr
		history bool
		want    string
	}{
		{"/v1/path?at=5&to=10.0.0.2", self, true, "at=5&from=10.0.0.9&to=10.0.0.2"},
		{"/v1/whatif?at=5&fail=10.0.0.2", self, true, "at=5&fail=10.0.0.2&from=10.0.0.9"},
		{"/v1/path?at=5&from=10.0.0.1&to=10.0.0.2", self, true, "at=5&from=10.0.0.1&to=10.0.0.2"},
		{"/v1/path?at=5&to=10.0.0.2", netip.Addr{}, true, "at=5&to=10.0.0.2"},
		{"/v1/view?at=5", self, true, "at=5"},
		{"/v1/path", self, false, ""},
		{"/v1/path?to=10.0.0.2", self, false, ""},
		{"/v1/whatif?at=1", self, true, "at=1&from=10.0.0.9"},
		{"/v1/events?from=1&to=2", self, true, "from=1&to=2"},
	} {
		r := httptest.NewRequest(http.MethodGet, tc.target, nil)
		if got := IsHistoryRequest(r); got != tc.history {
			t.Errorf("IsHistoryRequest(%s) = %v, want %v", tc.target, got, tc.history)
			continue
		}
		if !tc.history {
			continue
		}
		rec := httptest.NewRecorder()
		ServeHistory(echo, tc.self, rec, r)
		if rec.Body.String() != tc.want {
			t.Errorf("%s with self %v: the archive's handler got %q, want %q", tc.target, tc.self, rec.Body.String(), tc.want)
		}
		rec = httptest.NewRecorder()
		ServeHistory(nil, tc.self, rec, r)
		if rec.Code != http.StatusNotImplemented {
			t.Errorf("%s without an archive: %d, want 501", tc.target, rec.Code)
		}
	}
}
