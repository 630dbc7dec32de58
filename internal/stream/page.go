package stream

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// page is the live page: an HTML document whose script and style are the
// server's own (assets/), with no CDN, that draws the map of /v1/view at
// the places of /v1/layout, lists the recent events (/v1/recent), follows
// /v1/stream, and answers paths and what-ifs on the map.
//
//go:embed page.html
var page []byte

// assets are the page's script, style and vendored libraries, served under
// /assets/ (see assets/vendor/README.md).
//
//go:embed assets
var assets embed.FS

// pageCSP allows the page only what comes from the server itself.
const pageCSP = "default-src 'self'; connect-src 'self' ws: wss:; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// assetTypes are the media types of the assets by extension.
var assetTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".md":  "text/plain; charset=utf-8",
}

// PageHandler serves the live page to any GET or HEAD, and its assets
// under /assets/. Server uses it for plain HTTP requests outside /v1/ when
// ServerConfig.NonWebSocket is PageHandler(), as `stream --ws-listen` and
// the relay set it.
func PageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		body, ctype, cache := page, "text/html; charset=utf-8", "no-cache"
		if i := strings.Index(r.URL.Path, "/assets/"); i >= 0 {
			name := path.Clean(r.URL.Path[i+1:])
			b, err := fs.ReadFile(assets, name)
			ct, known := assetTypes[path.Ext(name)]
			if err != nil || !known || !strings.HasPrefix(name, "assets/") {
				http.NotFound(w, r)
				return
			}
			body, ctype = b, ct
			if strings.HasPrefix(name, "assets/vendor/") {
				cache = "public, max-age=31536000, immutable" // the path names the version
			}
		}
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Cache-Control", cache)
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
