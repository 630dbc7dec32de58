package stream

import (
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

// message is one event, encoded once for every client: env is the
// /v1/stream envelope and raw the seed's event inside it.
type message struct {
	seq uint64
	env []byte
	raw []byte
}

// appendMessages encodes evs into one buffer (one allocation per batch;
// the messages share it and it lives as long as the newest of them is
// referenced) and appends their messages to ms.
func appendMessages(ms []message, evs []lsdb.Event) []message {
	buf := make([]byte, 0, 320*len(evs))
	for i := range evs {
		start := len(buf)
		buf = appendEnvelopeHead(buf, &evs[i])
		mid := len(buf)
		buf = evs[i].AppendJSON(buf)
		end := len(buf)
		buf = append(buf, '}')
		// Full slice expressions: a later append to buf must not be able
		// to reach into an earlier message, even after a reallocation.
		ms = append(ms, message{seq: evs[i].Seq, env: buf[start:len(buf):len(buf)], raw: buf[mid:end:end]})
	}
	return ms
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
