package history

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// The history over HTTP, as a stream server or a relay serves it beside
// the present (see internal/stream's protocol.go):
//
//	GET /v1/snapshot?at=TIME  {"at":MS,"base":MS,"events":N,"snapshot":{…seed snapshot…}}
//	GET /v1/view?at=TIME      {"at":MS,"base":MS,"events":N,"view":{…lsdb.View…}}
//	GET /v1/events?from=T1&to=T2[&diff=true]
//	                          the archive's lines after T1 up to T2 (application/x-ndjson),
//	                          or the net change between the two states
//	GET /v1/path?at=TIME&from=A&to=B, /v1/whatif?at=TIME&fail=F&from=A
//	                          the live endpoints' answers, on the state at TIME; the
//	                          X-History-At, -Base and -Events headers say what "at",
//	                          "base" and "events" say above
//
// TIME is RFC 3339 or Unix milliseconds; "at" is the time asked, "base"
// the time of the snapshot the state was replayed from and "events" the
// number of events applied to it, and "skipped" (when not 0) the number
// of malformed lines and snapshots passed over. A bad parameter is 400, a
// time the archive holds nothing for 404 (the message says where it
// begins), a server without the archive the question needs 501.
// /v1/events is written as it is read, an hour file at a time; the
// X-History-Skipped trailer counts what was passed over, and a failure
// after the first line cuts the response short.

// Handler serves the history of h (nil: a server that keeps none, which
// answers 501).
func Handler(h *History) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		switch r.URL.Path {
		case "/v1/snapshot", "/v1/view":
			h.serveState(w, r)
		case "/v1/events":
			h.serveEvents(w, r)
		case "/v1/path", "/v1/whatif":
			h.serveTopo(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

// httpError answers err with its status.
func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrNoArchive):
		code = http.StatusNotImplemented
	case errors.Is(err, ErrNoHistory):
		code = http.StatusNotFound
	case errors.Is(err, context.Canceled):
		return
	}
	http.Error(w, err.Error(), code)
}

// badRequest is a parameter error.
type badRequest struct{ error }

func queryTime(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, badRequest{fmt.Errorf("%s=TIME is missing", name)}
	}
	t, err := ParseTime(v)
	if err != nil {
		return time.Time{}, badRequest{fmt.Errorf("%s: %w", name, err)}
	}
	return t, nil
}

// stateAt answers r's at= with the state then, or the error's status: a
// bad time 400, no archive 501, no history then 404.
func (h *History) stateAt(w http.ResponseWriter, r *http.Request) (*lsdb.View, Report, time.Time, bool) {
	t, err := queryTime(r, "at")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil, Report{}, t, false
	}
	if h == nil || !h.HasSnapshots() {
		httpError(w, fmt.Errorf("%w: this server keeps no snapshots and events to replay (start it with --events-path-prefix and --snapshots-path-prefix)", ErrNoArchive))
		return nil, Report{}, t, false
	}
	v, rep, err := h.At(r.Context(), t)
	if err != nil {
		httpError(w, err)
		return nil, rep, t, false
	}
	return v, rep, t, true
}

func (h *History) serveState(w http.ResponseWriter, r *http.Request) {
	v, rep, t, ok := h.stateAt(w, r)
	if !ok {
		return
	}
	b := make([]byte, 0, 64<<10)
	b = append(b, `{"at":`...)
	b = strconv.AppendInt(b, t.UnixMilli(), 10)
	b = append(b, `,"base":`...)
	b = strconv.AppendInt(b, rep.BaseTime.UnixMilli(), 10)
	b = append(b, `,"events":`...)
	b = strconv.AppendInt(b, int64(rep.Events), 10)
	if rep.Skipped > 0 {
		b = append(b, `,"skipped":`...)
		b = strconv.AppendInt(b, int64(rep.Skipped), 10)
	}
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Path == "/v1/view" {
		b = append(b, `,"view":`...)
		b = v.AppendJSON(b)
		b = append(b, "}\n"...)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(b)
		}
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	// A snapshot is written as it is rendered, never whole in memory.
	b = append(b, `,"snapshot":`...)
	bw := bufio.NewWriterSize(w, 64<<10)
	_, _ = bw.Write(b)
	if err := v.Snapshot().WriteJSON(bw); err != nil {
		return
	}
	_, _ = bw.WriteString("}\n")
	_ = bw.Flush()
}

func (h *History) serveEvents(w http.ResponseWriter, r *http.Request) {
	from, err := queryTime(r, "from")
	var to time.Time
	if err == nil {
		to, err = queryTime(r, "to")
	}
	diff := false
	if err == nil {
		if v := r.URL.Query().Get("diff"); v != "" {
			if diff, err = strconv.ParseBool(v); err != nil {
				err = badRequest{fmt.Errorf("diff=%.10q: want true or false", v)}
			}
		}
	}
	if err == nil && to.Before(from) {
		err = badRequest{fmt.Errorf("to %s is before from %s", formatTime(to), formatTime(from))}
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch {
	case h == nil || !h.HasEvents():
		httpError(w, fmt.Errorf("%w: this server keeps no event archive (start it with --events-path-prefix)", ErrNoArchive))
		return
	case diff && !h.HasSnapshots():
		httpError(w, fmt.Errorf("%w: this server keeps no snapshots to take states from (start it with --snapshots-path-prefix)", ErrNoArchive))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	if diff {
		evs, rep, err := h.Diff(r.Context(), from, to)
		if err != nil {
			httpError(w, err)
			return
		}
		if rep.Skipped > 0 {
			w.Header().Set("X-History-Skipped", strconv.Itoa(rep.Skipped))
		}
		if r.Method == http.MethodHead {
			return
		}
		writeEvents(w, evs)
		return
	}
	if err := h.covered(to); err != nil {
		httpError(w, err)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	w.Header().Set("Trailer", "X-History-Skipped")
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 32<<10)
	rep, err := h.Events(r.Context(), from, to, func(line []byte) error {
		if _, err := bw.Write(line); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case err == nil:
		w.Header().Set("X-History-Skipped", strconv.Itoa(rep.Skipped))
	case cw.n == 0:
		w.Header().Del("Trailer")
		httpError(w, err)
	default:
		// The status is sent: cut the response short, so that the client
		// sees a broken answer rather than a short one.
		panic(http.ErrAbortHandler)
	}
}

func writeEvents(w io.Writer, evs []lsdb.Event) {
	bw := bufio.NewWriterSize(w, 32<<10)
	var b []byte
	for i := range evs {
		b = append(evs[i].AppendJSON(b[:0]), '\n')
		if _, err := bw.Write(b); err != nil {
			return
		}
	}
	_ = bw.Flush()
}

// countingWriter counts what reached w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// serveTopo answers /v1/path and /v1/whatif at a time: the live answers'
// questions (internal/topo) on the state the archive says the network
// was in then.
func (h *History) serveTopo(w http.ResponseWriter, r *http.Request) {
	if _, err := queryTime(r, "at"); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	from := q.Get("from")
	var ask func(*topo.Graph) (any, error)
	switch r.URL.Path {
	case "/v1/path":
		to := q.Get("to")
		if from == "" || to == "" {
			http.Error(w, "want /v1/path?at=TIME&from=ROUTER&to=ROUTER|PREFIX|ADDRESS", http.StatusBadRequest)
			return
		}
		ask = func(g *topo.Graph) (any, error) { return g.Path(from, to) }
	default:
		fail := q.Get("fail")
		if from == "" || fail == "" {
			http.Error(w, "want /v1/whatif?at=TIME&fail=ROUTER|A-B&from=ROOT", http.StatusBadRequest)
			return
		}
		ask = func(g *topo.Graph) (any, error) { return g.WhatIf(from, fail) }
	}
	v, rep, t, ok := h.stateAt(w, r)
	if !ok {
		return
	}
	ans, err := ask(topo.Build(v))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b, err := json.Marshal(ans)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Header().Set("X-History-At", strconv.FormatInt(t.UnixMilli(), 10))
	w.Header().Set("X-History-Base", strconv.FormatInt(rep.BaseTime.UnixMilli(), 10))
	w.Header().Set("X-History-Events", strconv.Itoa(rep.Events))
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
