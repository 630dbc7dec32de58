package stream

import "net/http"

// IsHistoryRequest reports whether r asks about the past, which the
// archive answers rather than the live view: /v1/events, or /v1/snapshot
// or /v1/view with at= (see internal/history).
func IsHistoryRequest(r *http.Request) bool {
	switch r.URL.Path {
	case "/v1/events":
		return true
	case "/v1/snapshot", "/v1/view":
		return r.URL.Query().Has("at")
	}
	return false
}

// ServeHistory answers a history request with h, or with 501 when the
// server keeps no history.
func ServeHistory(h http.Handler, w http.ResponseWriter, r *http.Request) {
	if h == nil {
		http.Error(w, "this server keeps no history: start it with --events-path-prefix and --snapshots-path-prefix", http.StatusNotImplemented)
		return
	}
	h.ServeHTTP(w, r)
}
