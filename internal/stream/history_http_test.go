package stream

import (
	"io"
	"net/http"
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
	past := []string{"/v1/snapshot?at=0", "/v1/view?at=2024-03-01T10:00:00Z", "/v1/events?from=0&to=1", "/v1/events"}
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
	for _, p := range []string{"/v1/snapshot", "/v1/view", "/v1/snapshot?format=dot"} {
		if code, _, body := get(t, base(with)+p); code != 200 || body == "from the archive" {
			t.Errorf("%s: %d, want the live answer", p, code)
		}
	}
}
