package stream

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// corkConn lets a batch of WebSocket messages leave in one system call.
// The stream's data frames are framed once, when the hub publishes them,
// and written from that shared memory with writev(2) by writeFrames: the
// WebSocket library would frame, lock, copy and flush each message on its
// own, for each client, which at thousands of clients times thousands of
// events a second costs more than everything else together. The library
// remains the only writer of control frames (pings, pongs, close); each of
// those reaches the connection in a single Write (the library flushes
// them whole), and Write and writeFrames share mu, so frames never
// interleave.
type corkConn struct {
	net.Conn
	// dmu orders the write deadline's changes; busy is set while
	// writeFrames runs, stopped once interrupt was called. Neither waits
	// for a blocked write.
	dmu           sync.Mutex
	busy, stopped bool

	mu sync.Mutex
	// rest is the end of a data frame that a failed write left unsent:
	// it goes out before the next control frame, so that the close frame
	// that explains the end still arrives as a frame of its own.
	rest net.Buffers
	iov  net.Buffers // room for writeFrames' copy of its slices, which writev consumes
}

// errInterrupted is what writeFrames returns once interrupt was called.
var errInterrupted = errors.New("write interrupted")

// Write writes p, a control frame of the library, after the rest of an
// interrupted data frame.
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rest) > 0 {
		if _, err := c.rest.WriteTo(c.Conn); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}

// writeFrames writes frames, whole frames end to end, and gives up at
// deadline. They are only read, never kept: when the write fails, the
// unsent end of the frame it stopped in is copied to rest.
func (c *corkConn) writeFrames(deadline time.Time, frames net.Buffers) error {
	c.dmu.Lock()
	if c.stopped {
		c.dmu.Unlock()
		return errInterrupted
	}
	c.busy = true
	_ = c.SetWriteDeadline(deadline)
	c.dmu.Unlock()

	c.mu.Lock()
	c.iov = append(c.iov[:0], frames...)
	iov := c.iov
	n, err := iov.WriteTo(c.Conn)
	clear(c.iov) // the shared chunks are not the connection's to keep
	if err != nil {
		c.rest = frameRest(frames, n)
	}
	c.mu.Unlock()

	c.dmu.Lock()
	c.busy = false
	_ = c.SetWriteDeadline(time.Time{})
	c.dmu.Unlock()
	return err
}

// frameRest is a copy of what remains of the frame that the first n bytes
// of frames end in; nil when they end between two frames.
func frameRest(frames net.Buffers, n int64) net.Buffers {
	for _, b := range frames {
		if n >= int64(len(b)) {
			n -= int64(len(b))
			continue
		}
		for off := 0; off < len(b); {
			end := off + frameLen(b[off:])
			if int64(end) > n {
				if int64(off) == n {
					return nil
				}
				return net.Buffers{bytes.Clone(b[n:end])}
			}
			off = end
		}
	}
	return nil
}

// interrupt makes a batch that is being written now fail at once, and
// every later one. It leaves the library's writes alone, so that the
// close frame that explains the end can still be written.
func (c *corkConn) interrupt() {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.stopped = true
	if c.busy {
		_ = c.SetWriteDeadline(time.Unix(1, 0))
	}
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

// frameHeaderLen is the length of appendFrameHeader's header for an
// n-byte payload.
func frameHeaderLen(n int) int {
	switch {
	case n <= 125:
		return 2
	case n <= 0xffff:
		return 4
	default:
		return 10
	}
}

// frameLen is the length, header included, of the frame that b starts
// with: one that appendFrameHeader began, whole in b.
func frameLen(b []byte) int {
	switch n := int(b[1] & 0x7f); n {
	case 126:
		return 4 + int(binary.BigEndian.Uint16(b[2:]))
	case 127:
		return 10 + int(binary.BigEndian.Uint64(b[2:]))
	default:
		return 2 + n
	}
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
