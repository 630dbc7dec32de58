package stream

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"

	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// graphCache holds the topology graph of the newest view, rebuilt when the
// feed moves: path and what-if queries between changes share one graph.
type graphCache struct {
	mu  sync.Mutex
	seq uint64
	g   *topo.Graph
}

func (s *Server) graph() *topo.Graph {
	c := &s.graphs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.g == nil || s.cfg.Source.Feed().LastSeq() != c.seq {
		v := s.cfg.Source.View()
		c.g, c.seq = topo.Build(v), v.Seq
	}
	return c.g
}

// queryReady answers a query that cannot be served yet, and says whether
// it can.
func (s *Server) queryReady(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return false
	}
	if !sourceLoaded(s.cfg.Source) {
		w.Header().Set("Retry-After", "5")
		http.Error(w, "the LSDB is not loaded yet: try again shortly", http.StatusServiceUnavailable)
		return false
	}
	return true
}

// contentTypes are the exports' media types.
var contentTypes = map[string]string{
	"netjson": "application/json",
	"dot":     "text/vnd.graphviz; charset=utf-8",
	"graphml": "application/graphml+xml",
}

// serveExport answers GET /v1/snapshot?format=netjson|dot|graphml.
func (s *Server) serveExport(w http.ResponseWriter, r *http.Request, format string) {
	ct, ok := contentTypes[format]
	if !ok {
		http.Error(w, "unknown format "+strconv.Quote(format)+": want json, netjson, dot or graphml", http.StatusBadRequest)
		return
	}
	if !s.queryReady(w, r) {
		return
	}
	var b bytes.Buffer
	if err := s.graph().Export(&b, format, s.self()); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, r, ct, b.Bytes())
}

// servePath answers GET /v1/path?from=A&to=B.
func (s *Server) servePath(w http.ResponseWriter, r *http.Request) {
	if !s.queryReady(w, r) {
		return
	}
	q := r.URL.Query()
	from, to := q.Get("from"), q.Get("to")
	if from == "" {
		from = s.selfString()
	}
	if from == "" || to == "" {
		http.Error(w, "want /v1/path?from=ROUTER&to=ROUTER|PREFIX|ADDRESS", http.StatusBadRequest)
		return
	}
	ans, err := s.graph().Path(from, to)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, r, ans)
}

// serveWhatIf answers GET /v1/whatif?fail=ROUTER|A-B[&from=ROOT].
func (s *Server) serveWhatIf(w http.ResponseWriter, r *http.Request) {
	if !s.queryReady(w, r) {
		return
	}
	q := r.URL.Query()
	from, fail := q.Get("from"), q.Get("fail")
	if from == "" {
		from = s.selfString()
	}
	if from == "" || fail == "" {
		http.Error(w, "want /v1/whatif?fail=ROUTER|A-B&from=ROOT (from defaults to the agent's router)", http.StatusBadRequest)
		return
	}
	ans, err := s.graph().WhatIf(from, fail)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, r, ans)
}

func (s *Server) selfString() string {
	if a := s.self(); a.IsValid() {
		return a.String()
	}
	return ""
}

func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeBody(w, r, "application/json", append(b, '\n'))
}

func writeBody(w http.ResponseWriter, r *http.Request, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}
