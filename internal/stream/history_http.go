package stream

import (
	"net/http"
	"net/netip"
)

// IsHistoryRequest reports whether r asks about the past, which the
// archive answers rather than the live view: /v1/events, or /v1/snapshot,
// /v1/view, /v1/path or /v1/whatif with at= (see internal/history).
func IsHistoryRequest(r *http.Request) bool {
	switch r.URL.Path {
	case "/v1/events":
		return true
	case "/v1/snapshot", "/v1/view", "/v1/path", "/v1/whatif":
		return r.URL.Query().Has("at")
	}
	return false
}

// ServeHistory answers a history request with h, or with 501 when the
// server keeps no history. A path or what-if without from= starts from
// self, as the live ones do, when it is known.
func ServeHistory(h http.Handler, self netip.Addr, w http.ResponseWriter, r *http.Request) {
	if h == nil {
		http.Error(w, "this server keeps no history: start it with --events-path-prefix and --snapshots-path-prefix", http.StatusNotImplemented)
		return
	}
	if q := r.URL.Query(); (r.URL.Path == "/v1/path" || r.URL.Path == "/v1/whatif") && q.Get("from") == "" && self.IsValid() {
		q.Set("from", self.String())
		r = r.Clone(r.Context())
		r.URL.RawQuery = q.Encode()
	}
	h.ServeHTTP(w, r)
}
