package stream

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// The map's endpoints (plain HTTP):
//
// "GET /v1/layout": where the live page draws each vertex of the current
// graph, by topo.Graph.Key (router ID, or prefix@area for a transit
// network), with the position of the feed it reflects:
//
//	{"epoch":"6f1c…","seq":1234,"nodes":{"10.0.0.1":[12.5,-40],"10.1.0.0/24@0.0.0.0":[70,3.5]}}
//
// The server lays the graph out once and keeps every place it gave: later
// calls place only the vertices it has not seen, near their neighbours
// (topo.Graph.Layout), so that pages opened at different times draw the
// same map.
//
// "GET /v1/recent?until=SEQ&n=N": the newest N (default 500, at most
// 5000) events numbered at most SEQ (default: the newest) that the window
// of recent events still holds, oldest first, as /v1/stream envelopes: a
// page that took /v1/view at SEQ shows them as what happened before it
// opened, and follows /v1/stream?since=SEQ for what comes next.
//
//	{"epoch":"6f1c…","events":[{"seq":1201,"area":"0.0.0.0","event":{…}},…]}

// layoutCache holds every place the server gave a vertex.
type layoutCache struct {
	mu  sync.Mutex
	pos map[string]topo.Point
}

// serveLayout answers GET /v1/layout.
func (s *Server) serveLayout(w http.ResponseWriter, r *http.Request) {
	if !s.queryReady(w, r) {
		return
	}
	seq := s.cfg.Source.Feed().LastSeq()
	g := s.graph()
	c := &s.layout
	c.mu.Lock()
	pos := g.Layout(c.pos)
	if c.pos == nil {
		c.pos = make(map[string]topo.Point, len(pos))
	}
	for k, p := range pos {
		c.pos[k] = p
	}
	c.mu.Unlock()
	b := make([]byte, 0, 32*len(pos)+64)
	b = append(b, `{"epoch":"`...)
	b = append(b, s.cfg.Epoch...)
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"nodes":{`...)
	for v := range g.Vertices {
		if v > 0 {
			b = append(b, ',')
		}
		k := g.Key(int32(v))
		p := pos[k]
		b = append(b, '"')
		b = append(b, k...) // an address or prefix@area: nothing to escape
		b = append(b, `":[`...)
		b = strconv.AppendFloat(b, p.X, 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p.Y, 'f', -1, 64)
		b = append(b, ']')
	}
	b = append(b, "}}\n"...)
	writeBody(w, r, "application/json", b)
}

// Limits of /v1/recent.
const (
	defaultRecent = 500
	maxRecent     = 5000
)

// serveRecent answers GET /v1/recent?until=SEQ&n=N.
func (s *Server) serveRecent(w http.ResponseWriter, r *http.Request) {
	if !s.queryReady(w, r) {
		return
	}
	q := r.URL.Query()
	until, n := s.cfg.Source.Feed().LastSeq(), defaultRecent
	if v := q.Get("until"); v != "" {
		u, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			http.Error(w, "until="+strconv.Quote(v)+": not a sequence number", http.StatusBadRequest)
			return
		}
		until = min(until, u)
	}
	if v := q.Get("n"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 {
			http.Error(w, "n="+strconv.Quote(v)+": not a count", http.StatusBadRequest)
			return
		}
		n = min(k, maxRecent)
	}
	evs := s.cfg.Source.Feed().Recent(nil, until, n)
	b := make([]byte, 0, 400*len(evs)+64)
	b = append(b, `{"epoch":"`...)
	b = append(b, s.cfg.Epoch...)
	b = append(b, `","events":[`...)
	for i := range evs {
		if i > 0 {
			b = append(b, ',')
		}
		b = evs[i].AppendEnvelope(b)
	}
	b = append(b, "]}\n"...)
	writeBody(w, r, "application/json", b)
}
