package ospfapi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Conn is a session with ospfd's OSPF API: a synchronous channel for
// requests and replies and an asynchronous one for notifications. Dial
// returns it; Sync runs it, once; Close ends it. A session is not
// reconnected: after any error, close it and dial again.
type Conn struct {
	addr   string // server, for errors
	server netip.AddrPort
	log    *slog.Logger
	opts   options

	sc, ac *net.TCPConn
	syncR  *bufio.Reader
	dec    *Decoder
	seq    uint32 // last sequence number used; owned by whoever sends

	started   atomic.Bool
	closeOnce sync.Once
	done      chan struct{} // closed on the first failure or Close
	errMu     sync.Mutex
	err       error
}

func newConn(addr string, server netip.AddrPort, sc, ac *net.TCPConn, o options) *Conn {
	c := &Conn{
		addr:   addr,
		server: server,
		log:    o.log,
		opts:   o,
		sc:     sc,
		ac:     ac,
		syncR:  bufio.NewReaderSize(sc, 256),
		done:   make(chan struct{}),
	}
	var r io.Reader = ac
	if o.probeInterval > 0 {
		// Probes make ospfd write on the asynchronous channel at least
		// once per interval, so silence beyond interval plus timeout means
		// the channel or ospfd is stuck. The deadline counts only time
		// spent waiting for the network, never time in handlers.
		r = &idleReader{c: ac, idle: o.probeInterval + o.timeout}
	}
	c.dec = NewDecoder(r)
	return c
}

// ServerAddr is the address of ospfd's API server.
func (c *Conn) ServerAddr() netip.AddrPort { return c.server }

// LocalPorts returns the local ports of the synchronous and asynchronous
// channels (the second is the first plus one).
func (c *Conn) LocalPorts() (syncPort, asyncPort uint16) {
	return addrPort(c.sc.LocalAddr()).Port(), addrPort(c.ac.LocalAddr()).Port()
}

// Close closes both channels. It is safe to call more than once and
// concurrently with Sync, which then returns ErrClosed.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	return nil
}

// fail records the first error of the session and closes it.
func (c *Conn) fail(err error) {
	if err == nil {
		return
	}
	c.errMu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.errMu.Unlock()
	c.closeOnce.Do(func() {
		close(c.done)
		c.sc.Close()
		c.ac.Close()
	})
}

// firstErr is the error that ended the session.
func (c *Conn) firstErr() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	return c.err
}

// nextSeq returns the next request sequence number, wrapping within
// [MinSeq, MaxSeq].
func (c *Conn) nextSeq() uint32 {
	c.seq++
	if c.seq > MaxSeq || c.seq < MinSeq {
		c.seq = MinSeq
	}
	return c.seq
}

// opErr wraps a read or write error of operation op, naming ospfd's going
// away plainly.
func (c *Conn) opErr(op string, err error) error {
	return &OpError{Op: op, Addr: c.addr, Err: plainErr(err)}
}

// plainErr says what a read or write error means for the session:
// ErrPeerClosed when ospfd closed the connection, ErrProbeTimeout when it
// was silent for too long.
func plainErr(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w in the middle of a message", ErrPeerClosed)
	case errors.Is(err, io.EOF):
		return ErrPeerClosed
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%w (%w)", ErrPeerClosed, err)
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", ErrProbeTimeout, err)
	}
	return err
}

// idleReader sets a read deadline before every read from the network, so
// that a deadline error means the peer was silent for idle.
type idleReader struct {
	c    *net.TCPConn
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	if err := r.c.SetReadDeadline(time.Now().Add(r.idle)); err != nil {
		return 0, err
	}
	return r.c.Read(p)
}
