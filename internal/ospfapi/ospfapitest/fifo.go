package ospfapitest

import (
	"sync"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

// OversizeMode is what the fake does with a message whose body exceeds
// ospfapi.MaxLSAMessageBody (1,500 bytes), such as the notification of a
// Router-LSA with more than 122 links.
type OversizeMode int

const (
	// OversizeFRR84 is what ospfd 8.1 to 10.x does: msg_dup refuses the
	// message and ospfd pushes the NULL it got onto the client's output
	// FIFO. That leaves the FIFO's tail pointer NULL, so the next message
	// queued replaces the FIFO's head: every message still waiting to be
	// written when the oversized one came is lost with it (in a dump,
	// every LSA queued before it), silently. The connection stays up.
	OversizeFRR84 OversizeMode = iota
	// OversizeDrop drops just the oversized message.
	OversizeDrop
	// OversizeSend sends it, as an ospfd without the limit would.
	OversizeSend
)

// chunkSize is the size of the buffers queued messages are packed into, so
// that the writer makes one system call per chunk, not per message.
const chunkSize = 256 << 10

// fifo models one of ospfd's per-client output FIFOs (out_sync_fifo,
// out_async_fifo): messages queued by request handlers and live changes,
// written out by a writer goroutine. Every method runs under Server.mu,
// as everything in ospfd runs on its one thread.
type fifo struct {
	chunks   [][]byte
	pending  int  // messages queued and not yet taken by the writer
	inflight int  // messages taken by the writer and not yet written
	broken   bool // ospfd's tail pointer is NULL (OversizeFRR84)
	wake     chan struct{}
}

func newFIFO() *fifo { return &fifo{wake: make(chan struct{}, 1)} }

// push queues the message made of parts. It returns how many messages
// were lost (oversize handling).
func (q *fifo) push(mode OversizeMode, parts ...[]byte) (lost int) {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if n-ospfapi.HeaderLen > ospfapi.MaxLSAMessageBody {
		switch mode {
		case OversizeDrop:
			return 1
		case OversizeFRR84:
			// msg_fifo_push(fifo, NULL): tail = NULL with the head kept.
			q.broken = q.pending > 0
			return 1
		}
	}
	if q.broken {
		// msg_fifo_push with a NULL tail sets head to the new message:
		// whatever was queued is gone.
		lost = q.pending
		q.chunks, q.pending, q.broken = nil, 0, false
	}
	var last []byte
	if k := len(q.chunks); k > 0 && len(q.chunks[k-1])+n <= cap(q.chunks[k-1]) {
		last = q.chunks[k-1]
	} else {
		last = newChunk(n)
		q.chunks = append(q.chunks, last)
	}
	for _, p := range parts {
		last = append(last, p...)
	}
	q.chunks[len(q.chunks)-1] = last
	q.pending++
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return lost
}

// take hands everything queued to the writer: the FIFO is then empty
// (and, in ospfd, its head and tail NULL: no longer broken).
func (q *fifo) take() [][]byte {
	c := q.chunks
	q.inflight += q.pending
	q.chunks, q.pending, q.broken = nil, 0, false
	return c
}

// written tells the FIFO that the writer wrote what it took.
func (q *fifo) written() { q.inflight = 0 }

// chunkPool recycles chunk buffers between dumps.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, chunkSize); return &b }}

func newChunk(n int) []byte {
	if n > chunkSize {
		return make([]byte, 0, n)
	}
	return (*chunkPool.Get().(*[]byte))[:0]
}

// recycle returns a written chunk to the pool.
func recycle(b []byte) {
	if cap(b) == chunkSize {
		b = b[:0]
		chunkPool.Put(&b)
	}
}
