package stream

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// corkConn lets a batch of WebSocket messages leave in one write(2). The
// WebSocket library flushes every message to the connection on its own;
// while corked, those flushes collect here and uncork sends them together.
// At a few events a second a batch is one message and nothing changes;
// under load a client catching up gets its backlog in a few large writes
// instead of one system call per event.
type corkConn struct {
	net.Conn
	// dmu orders the write deadline's changes; busy is set between cork
	// and uncork. Neither waits for a blocked write.
	dmu  sync.Mutex
	busy bool

	mu     sync.Mutex
	corked bool
	buf    []byte
}

// corkLimit is how much a corked connection holds before it writes anyway.
const corkLimit = 64 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) >= corkLimit {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// appendFrame queues p as one unfragmented, unmasked text frame, as a
// server sends it, behind whatever the WebSocket library wrote before.
// The stream's data frames are framed here rather than by the library:
// the library frames, locks and copies each message on its own, which at
// thousands of clients times thousands of events a second costs more than
// everything else together. It remains the only writer of control frames
// (pings, pongs, close); each of those reaches the connection in a single
// Write (the library flushes them whole), and Write and appendFrame share
// the lock, so frames never interleave. The connection must be corked.
func (c *corkConn) appendFrame(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		c.buf = make([]byte, 0, corkLimit+4<<10)
	}
	c.buf = appendFrameHeader(c.buf, len(p))
	c.buf = append(c.buf, p...)
	if len(c.buf) >= corkLimit {
		return c.flushLocked()
	}
	return nil
}

// appendFrameHeader appends the header of a final, unmasked text frame
// with an n-byte payload (RFC 6455 section 5.2).
func appendFrameHeader(b []byte, n int) []byte {
	const finText = 0x81
	switch {
	case n <= 125:
		return append(b, finText, byte(n))
	case n <= 0xffff:
		return append(b, finText, 126, byte(n>>8), byte(n))
	default:
		return append(b, finText, 127, byte(uint64(n)>>56), byte(uint64(n)>>48), byte(uint64(n)>>40), byte(uint64(n)>>32),
			byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// cork holds writes until uncork, and bounds every write until then by
// deadline.
func (c *corkConn) cork(deadline time.Time) {
	c.dmu.Lock()
	c.busy = true
	_ = c.SetWriteDeadline(deadline)
	c.dmu.Unlock()
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what collected and lifts the deadline.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	c.corked = false
	var err error
	if len(c.buf) > 0 {
		err = c.flushLocked()
	}
	c.mu.Unlock()
	c.dmu.Lock()
	c.busy = false
	_ = c.SetWriteDeadline(time.Time{})
	c.dmu.Unlock()
	return err
}

// interrupt makes a batch that is being written now fail at once. It
// leaves an idle connection alone, so that the close frame that explains
// the end can still be written.
func (c *corkConn) interrupt() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	if c.busy {
		_ = c.SetWriteDeadline(time.Unix(1, 0))
	}
}

func (c *corkConn) flushLocked() error {
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 4*corkLimit {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// corkWriter hands the WebSocket library a corkConn when it hijacks the
// HTTP connection.
type corkWriter struct {
	http.ResponseWriter
	conn *corkConn
}

// Hijack wraps the hijacked connection in a corkConn, and gives the
// library a fresh write buffer on top of it (the server's is already
// flushed and writes to the bare connection).
func (w *corkWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &corkConn{Conn: nc}
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.conn, 4096)), nil
}
