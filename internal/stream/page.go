package stream

import (
	_ "embed"
	"net/http"
	"strconv"
)

// page is the live page: a self-contained HTML document (no external
// script, style or font) that takes /v1/snapshot, follows /v1/stream and
// shows each change as it happens, with counters of the current state and
// a filter by router or network.
//
//go:embed page.html
var page []byte

// PageHandler serves the live page to any GET or HEAD. Server uses it for
// plain HTTP requests outside /v1/ when ServerConfig.NonWebSocket is
// PageHandler(), as `stream --ws-listen` and the relay set it.
func PageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(page)))
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self' ws: wss:; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(page)
	})
}
