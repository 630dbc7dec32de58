package stream

import (
	"net"

	"github.com/coder/websocket"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// The WebSocket protocol of Server.
//
// "/" (and any path outside /v1/): the seed's stream. Every client gets an
// identical copy of the event stream, one event per text message, exactly
// as the seed's stdout and WebSocket lines (stream_event.schema.json), from
// the moment it connects. Nothing is expected from the client.
//
// "GET /v1/snapshot" (plain HTTP): the current snapshot and the position of
// the event stream it reflects, as one JSON object:
//
//	{"epoch":"6f1c…","seq":1234,"snapshot":{…seed snapshot…}}
//
// "GET /v1/view" (plain HTTP): the same for the typed view (lsdb.View),
// which holds what the snapshot's strings leave out (Router-LSA flags, the
// DR's interface address, route tags and forwarding addresses, NSSA
// areas, routers without links; see lsdb/view_json.go), and, once the
// server knows it (ServerConfig.Self), the router whose LSDB it is: the
// root of its path queries, which a relay learns from here and serves in
// turn:
//
//	{"epoch":"6f1c…","seq":1234,"self":"10.69.7.31","view":{…lsdb.View…}}
//
// "GET /v1/snapshot?at=TIME", "GET /v1/view?at=TIME", "GET
// /v1/events?from=T1&to=T2", and /v1/path and /v1/whatif with at=TIME
// (plain HTTP): the past, from the archive the server writes
// (ServerConfig.History, internal/history's Handler, which documents the
// answers; a path's from= defaults to "self" as live); 501 when the
// server keeps no archive.
//
// "/v1/stream?since=SEQ&epoch=EPOCH": the changes after SEQ, one per text
// message, each in an envelope that carries its sequence number
// (lsdb/event_json.go). An event carries, beside the seed's event, what
// the seed's format leaves out: its area and, for a network event, the
// network's designated router after the change (absent when the network
// left):
//
//	{"seq":1235,"area":"0.0.0.0","event":{…seed event…}}
//	{"seq":1236,"area":"0.0.0.0","dr":"10.0.0.1","event":{…network event…}}
//
// After the events of each change of the database come its state records:
// the whole state, after the change, of every router and network of an
// area that it may have touched, or null for one that left the area:
//
//	{"seq":1237,"area":"0.0.0.0","timestamp":1700000000000,"router":"10.0.0.1","state":{…}}
//	{"seq":1238,"area":"0.0.0.0","timestamp":1700000000000,"network":"10.0.0.0/24","state":null}
//
// They are what a replica (a relay) needs to rebuild the exact view from
// /v1/view and the records after it (lsdb.Replica), including what no
// event shows (a router without links, a DR change, flags, tags). A
// client that wants only the events skips the envelopes without "event".
// The seed's stream ("/"), stdout and the archive never carry records.
//
// Sequence numbers count from 1 and number events and records together,
// without gaps, so a client that takes a snapshot (or a view) and then
// follows /v1/stream?since=<its seq> sees every later change exactly once; after a disconnect it resumes with the seq of the
// last envelope it read. Without since it starts with the next event. The
// epoch names this server's numbering (it restarts with the process); a
// client that passes the epoch of its snapshot learns that the numbering
// changed instead of silently resuming at the wrong place. A since that
// has left the server's window of recent events, is ahead of the newest
// event, or comes with another epoch is refused with close code
// CloseResnapshot: the client takes a new snapshot.
//
// Close codes a client may see: CloseResnapshot (4001), CloseTooSlow
// (4002: it fell more than the queue length behind, records counted; reconnect, with since
// on /v1/stream), 1008 (policy violation: it sent a message, or flooded
// pings), 1001 (server shutting down), 1013 (the server itself fell behind
// its change feed; reconnect). Extra clients beyond the connection cap are
// answered with HTTP 503 before the upgrade.
const (
	// CloseResnapshot closes a /v1/stream client whose since cannot be
	// served: it must take /v1/snapshot and follow on from its seq.
	CloseResnapshot websocket.StatusCode = 4001
	// CloseTooSlow closes a client that fell more than its queue behind.
	CloseTooSlow websocket.StatusCode = 4002
)

// message is one event, framed once for every client: raw is the seed's
// event and env its /v1/stream envelope, each a whole WebSocket text
// frame (header and payload) as a server sends it. Every client of an
// endpoint receives the same bytes, so they are written straight from
// here, and consecutive messages lie end to end in a shared chunk: a
// client's batch leaves in one writev(2) of one or two slices.
type message struct {
	seq      uint64
	raw, env frame
}

// frame is where a message's frame lies in a chunk.
type frame struct {
	c        *chunk
	off, end int
}

func (f frame) bytes() []byte { return f.c.data[f.off:f.end] }

// chunk holds frames end to end. data never changes once written and is
// never reallocated: the framer appends after the frames that clients may
// be writing, so that readers and writer never touch the same bytes.
type chunk struct {
	data []byte // full length; the framer fills it from the start
	fill int    // bytes written, seen only by the framer
}

// chunkSize is the size of a chunk; a frame that does not fit one gets a
// chunk of its own.
const chunkSize = 128 << 10

// framer encodes and frames events into chunks. One goroutine uses it; the
// frames it returns stay valid and unchanged for as long as they are
// referenced.
type framer struct {
	raw, env *chunk
	scratch  []byte
}

// appendMessages frames evs and appends their messages to ms. A state
// record has no frame for the seed's stream (raw.c is nil).
func (f *framer) appendMessages(ms []message, evs []lsdb.Event) []message {
	for i := range evs {
		ev := &evs[i]
		m := message{seq: ev.Seq}
		if !ev.IsState() {
			f.scratch = ev.AppendJSON(f.scratch[:0])
			m.raw = f.frame(&f.raw, f.scratch)
		}
		f.scratch = ev.AppendEnvelope(f.scratch[:0])
		m.env = f.frame(&f.env, f.scratch)
		ms = append(ms, m)
	}
	return ms
}

// frame copies p, framed, to the end of *cur, or to a new chunk when it
// does not fit.
func (f *framer) frame(cur **chunk, p []byte) frame {
	n := frameHeaderLen(len(p)) + len(p)
	c := *cur
	if c == nil || len(c.data)-c.fill < n {
		c = &chunk{data: make([]byte, max(chunkSize, n))}
		*cur = c
	}
	off := c.fill
	b := appendFrameHeader(c.data[off:off], len(p))
	b = append(b, p...)
	c.fill += len(b)
	return frame{c: c, off: off, end: c.fill}
}

// frame is m's frame for the seed's stream or, with envelope set, for
// /v1/stream.
func (m *message) frame(envelope bool) frame {
	if envelope {
		return m.env
	}
	return m.raw
}

// appendFrames appends to bufs the frames of ms for the seed's stream or,
// with envelope set, /v1/stream, as few slices as they allow.
func appendFrames(bufs net.Buffers, ms []message, envelope bool) net.Buffers {
	var run frame
	for i := range ms {
		if f := ms[i].frame(envelope); f.c != nil {
			bufs = joinFrame(bufs, &run, f)
		}
	}
	return bufs
}

// joinFrame appends f to bufs, as part of its last slice when f follows
// that slice's frames (run) end to end, and updates run.
func joinFrame(bufs net.Buffers, run *frame, f frame) net.Buffers {
	if run.c == f.c && run.end == f.off && len(bufs) > 0 {
		run.end = f.end
		bufs[len(bufs)-1] = run.bytes()
		return bufs
	}
	*run = f
	return append(bufs, f.bytes())
}
