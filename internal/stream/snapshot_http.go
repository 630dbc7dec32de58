package stream

import (
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// docCache holds the /v1/snapshot (or /v1/view) document of the newest
// state, so that a crowd of clients asking at once costs one snapshot, not
// one each. A document is reused while the feed's newest sequence number
// stands, and for at most docCacheTTL: every change of a database moves
// its feed (state records number even the changes no event shows), but a
// source may render a change of its own that moves nothing.
type docCache struct {
	feed   *lsdb.Feed
	epoch  string
	key    string                               // "snapshot" or "view"
	render func() (uint64, func([]byte) []byte) // takes the document: its seq, and what appends it
	self   func() netip.Addr                    // when set, the document names the router (ServerConfig.Self)

	mu   sync.Mutex
	seq  uint64
	at   time.Time
	who  netip.Addr // the self the body names
	body []byte
}

// docCacheTTL bounds how long a cached document is served.
const docCacheTTL = time.Second

// get returns the document and the sequence number it reflects.
func (c *docCache) get() ([]byte, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var who netip.Addr
	if c.self != nil {
		who = c.self()
	}
	if c.body != nil && c.feed.LastSeq() == c.seq && time.Since(c.at) < docCacheTTL && who == c.who {
		return c.body, c.seq
	}
	b := make([]byte, 0, len(c.body)+4096)
	b = append(b, `{"epoch":"`...)
	b = append(b, c.epoch...) // ValidEpoch: nothing to escape
	b = append(b, `","seq":`...)
	seq, appendDoc := c.render()
	b = strconv.AppendUint(b, seq, 10)
	if who.IsValid() {
		b = append(b, `,"self":"`...)
		b = who.AppendTo(b) // an address: nothing to escape
		b = append(b, '"')
	}
	b = append(b, `,"`...)
	b = append(b, c.key...)
	b = append(b, `":`...)
	b = appendDoc(b)
	b = append(b, "}\n"...)
	c.body, c.seq, c.at, c.who = b, seq, time.Now(), who
	return b, seq
}

// ValidEpoch reports whether e can name a numbering (ServerConfig.Epoch):
// 1 to 64 letters, digits, dots, dashes or underscores, so that it needs
// no escaping in JSON or URLs.
func ValidEpoch(e string) bool {
	if len(e) == 0 || len(e) > 64 {
		return false
	}
	for _, r := range e {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
		default:
			return false
		}
	}
	return true
}

// serveDoc answers GET /v1/snapshot with {"epoch":E,"seq":N,"snapshot":{…}}
// and GET /v1/view with {"epoch":E,"seq":N,"self":ID,"view":{…}} ("self"
// when the server knows its router).
func (s *Server) serveDoc(w http.ResponseWriter, r *http.Request, c *docCache) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	if !sourceLoaded(s.cfg.Source) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "the LSDB is not loaded yet: try again shortly", http.StatusServiceUnavailable)
		return
	}
	body, _ := c.get()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}
