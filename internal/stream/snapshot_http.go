package stream

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// snapshotCache holds the /v1/snapshot document of the newest state, so
// that a crowd of clients asking at once costs one snapshot, not one each.
// A document is reused while the feed's newest sequence number stands and
// for at most snapshotCacheTTL: a few changes of the state publish no
// event (a router without links, a DR change that changes no membership),
// and those must not wait for the next event to show.
type snapshotCache struct {
	src   Source
	epoch string

	mu   sync.Mutex
	seq  uint64
	at   time.Time
	body []byte
}

// snapshotCacheTTL bounds how long a cached /v1/snapshot document is
// served.
const snapshotCacheTTL = time.Second

// get returns the document and the sequence number it reflects.
func (c *snapshotCache) get() ([]byte, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.body != nil && c.src.Feed().LastSeq() == c.seq && time.Since(c.at) < snapshotCacheTTL {
		return c.body, c.seq
	}
	snap, seq := c.src.Snapshot()
	b := make([]byte, 0, len(c.body)+4096)
	b = append(b, `{"epoch":"`...)
	b = append(b, c.epoch...) // validEpoch: nothing to escape
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"snapshot":`...)
	b = snap.AppendJSON(b)
	b = append(b, "}\n"...)
	c.body, c.seq, c.at = b, seq, time.Now()
	return b, seq
}

// validEpoch reports whether e can name a numbering: 1 to 64 letters,
// digits, dots, dashes or underscores, so that it needs no escaping in
// JSON or URLs.
func validEpoch(e string) bool {
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

// serveSnapshot answers GET /v1/snapshot with
// {"epoch":E,"seq":N,"snapshot":{…}}.
func (s *Server) serveSnapshot(w http.ResponseWriter, r *http.Request) {
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
	body, _ := s.snap.get()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}
