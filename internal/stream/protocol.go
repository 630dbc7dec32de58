package stream

import (
	"net"
	"strconv"

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
// "/v1/stream?since=SEQ&epoch=EPOCH": the events after SEQ, one per text
// message, each in an envelope that carries its sequence number:
//
//	{"seq":1235,"area":"0.0.0.0","event":{…seed event…}}
//	{"seq":1236,"area":"0.0.0.0","dr":"10.0.0.1","event":{…network event…}}
//
// beside the event, what the seed's format leaves out: its area and, for
// a network event, the network's designated router after the change
// (absent when the network left), so that a relay can rebuild the
// snapshot from the events.
//
// Sequence numbers count from 1 and have no gaps, so a client that takes a
// snapshot and then follows /v1/stream?since=<its seq> sees every later
// change exactly once; after a disconnect it resumes with the seq of the
// last envelope it read. Without since it starts with the next event. The
// epoch names this server's numbering (it restarts with the process); a
// client that passes the epoch of its snapshot learns that the numbering
// changed instead of silently resuming at the wrong place. A since that
// has left the server's window of recent events, is ahead of the newest
// event, or comes with another epoch is refused with close code
// CloseResnapshot: the client takes a new snapshot.
//
// Close codes a client may see: CloseResnapshot (4001), CloseTooSlow
// (4002: it fell more than the queue length behind; reconnect, with since
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

// appendMessages frames evs and appends their messages to ms.
func (f *framer) appendMessages(ms []message, evs []lsdb.Event) []message {
	for i := range evs {
		b := appendEnvelopeHead(f.scratch[:0], &evs[i])
		mid := len(b)
		b = evs[i].AppendJSON(b)
		end := len(b)
		b = append(b, '}')
		f.scratch = b
		ms = append(ms, message{seq: evs[i].Seq, raw: f.frame(&f.raw, b[mid:end]), env: f.frame(&f.env, b)})
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
		bufs = joinFrame(bufs, &run, ms[i].frame(envelope))
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

func appendEnvelopeHead(b []byte, ev *lsdb.Event) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, ev.Seq, 10)
	if ev.Area.IsValid() {
		b = append(b, `,"area":"`...)
		b = ev.Area.AppendTo(b)
		b = append(b, '"')
	}
	if ev.Entity == lsdb.EntityNetwork && ev.DR.IsValid() {
		b = append(b, `,"dr":"`...)
		b = ev.DR.AppendTo(b)
		b = append(b, '"')
	}
	return append(b, `,"event":`...)
}
