package ospfapi

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// Handlers receive what Sync reads from the asynchronous channel, in
// stream order, on Sync's goroutine. A nil handler ignores its messages; a
// handler that returns an error ends Sync with that error. Handlers
// should return quickly: ospfd keeps sending while they run.
type Handlers struct {
	// LSA receives every LSA_UPDATE_NOTIFY and LSA_DELETE_NOTIFY, those of
	// the dump (Seq is the SYNC_LSDB request's) and live ones (Seq 0),
	// which can arrive before, among and after the dump's. n and its LSA
	// bytes are reused for the next message: copy what you keep.
	LSA func(n *LSANotify) error
	// DumpDone is called once, when the dump is complete: every LSA of
	// ospfd's database at the time of the request has been delivered.
	DumpDone func(d Dump) error
	// Other receives every other message (ROUTER_ID_CHANGE when ospfd's
	// router ID changes, NEW_IF, ISM_CHANGE, unknown types, ...), for
	// logging. It is valid only during the call.
	Other func(m Message) error
}

// Dump describes a completed LSDB dump.
type Dump struct {
	RouterID netip.Addr    // ospfd's router ID
	LSAs     int           // LSA notifications of the dump
	Live     int           // live LSA notifications received before its end
	Bytes    int64         // bytes read on the asynchronous channel until its end
	Duration time.Duration // from the requests to the end of the dump
}

// Sync registers for every change (REGISTER_EVENT), requests the whole
// LSDB (SYNC_LSDB) and then ospfd's router ID (SYNC_ROUTER_ID), whose
// answer ospfd queues behind the last LSA of the dump: its arrival marks
// the dump's end. The LSA filter is AllLSAs unless WithFilter says
// otherwise. Sync delivers the dump and then live changes to h until ctx
// is done (it then returns ctx.Err()), a handler fails (its error), Close
// is called (ErrClosed) or the session fails (an *OpError wrapping
// ErrPeerClosed, ErrProbeTimeout, an *APIError, a *ProtocolError, or a
// net error). It never returns nil, and may be called only once; the
// session is closed when it returns.
func (c *Conn) Sync(ctx context.Context, h Handlers) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("ospfapi: Sync called twice on one session")
	}
	if err := c.firstErr(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { c.fail(ctx.Err()) })
	defer stop()

	s := &syncState{
		c:         c,
		h:         h,
		start:     time.Now(),
		register:  c.nextSeq(),
		lsdb:      c.nextSeq(),
		routerID:  c.nextSeq(),
		repliesOK: make(chan struct{}),
		dumpDone:  make(chan struct{}),
	}
	var wg sync.WaitGroup
	wg.Go(s.control)
	err := s.readAsync()
	c.fail(err)
	wg.Wait()
	return c.firstErr()
}

// syncState is one run of Sync.
type syncState struct {
	c     *Conn
	h     Handlers
	start time.Time
	// Sequence numbers of the three requests.
	register, lsdb, routerID uint32
	repliesOK                chan struct{} // closed when all three were answered OK
	dumpDone                 chan struct{} // closed at the end of the dump
}

// control sends the requests, checks the replies and then probes ospfd.
// It owns the synchronous channel; any error ends the session.
func (s *syncState) control() {
	c := s.c
	f := c.opts.filter
	reqs := []Message{
		&RegisterEvent{Seq: s.register, Filter: f},
		&SyncLSDB{Seq: s.lsdb, Filter: f},
		&SyncRequest{Kind: MsgSyncRouterID, Seq: s.routerID},
	}
	// ospfd handles requests in order, so they can go at once.
	var buf []byte
	for _, m := range reqs {
		var err error
		if buf, err = AppendMessage(buf, m); err != nil {
			c.fail(&OpError{Op: "sync", Addr: c.addr, Err: err})
			return
		}
	}
	if err := c.writeSync(buf); err != nil {
		c.fail(err)
		return
	}
	for _, m := range reqs {
		if err := c.readReply(m); err != nil {
			c.failSync(err)
			return
		}
	}
	close(s.repliesOK)
	if c.opts.probeInterval <= 0 {
		return
	}
	select {
	case <-s.dumpDone:
	case <-c.done:
		return
	}
	t := time.NewTicker(c.opts.probeInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
		}
		m := &SyncRequest{Kind: MsgSyncRouterID, Seq: c.nextSeq()}
		b, _ := MarshalMessage(m) // cannot fail
		if err := c.writeSync(b); err != nil {
			c.fail(err)
			return
		}
		if err := c.readReply(m); err != nil {
			c.failSync(err)
			return
		}
	}
}

// failSync ends the session on an error of the synchronous channel. When
// ospfd closed it, it closed the asynchronous one too, where data may
// still wait to be read: give the reader of that channel the time to
// reach the end and report what happened there (how far the dump got),
// which says more.
func (c *Conn) failSync(err error) {
	if errors.Is(err, ErrPeerClosed) {
		t := time.NewTimer(c.opts.timeout)
		defer t.Stop()
		select {
		case <-c.done:
			return
		case <-t.C:
		}
	}
	c.fail(err)
}

// opName names a request in errors.
func opName(t MsgType) string {
	switch t {
	case MsgRegisterEvent:
		return "register event"
	case MsgSyncLSDB:
		return "sync lsdb"
	case MsgSyncRouterID:
		return "sync router id"
	}
	return t.String()
}

// writeSync writes requests on the synchronous channel.
func (c *Conn) writeSync(b []byte) error {
	if err := c.sc.SetWriteDeadline(time.Now().Add(c.opts.timeout)); err != nil {
		return c.opErr("write sync", err)
	}
	if _, err := c.sc.Write(b); err != nil {
		return c.opErr("write sync", err)
	}
	return nil
}

// readReply reads the reply to req within the timeout and returns its
// code as an error.
func (c *Conn) readReply(req Message) error {
	if err := c.sc.SetReadDeadline(time.Now().Add(c.opts.timeout)); err != nil {
		return c.opErr("read sync", err)
	}
	var buf [16]byte
	m, err := ReadMessage(c.syncR, buf[:])
	if err != nil {
		return &OpError{Op: "read sync", Addr: c.addr,
			Err: fmt.Errorf("reply to %s seq %d: %w", req.MsgType(), req.MsgSeq(), plainErr(err))}
	}
	r, ok := m.(*Reply)
	if !ok {
		return c.opErr("read sync", &ProtocolError{Type: m.MsgType(), Seq: m.MsgSeq(),
			Reason: fmt.Sprintf("on the synchronous channel, want the REPLY to %s seq %d", req.MsgType(), req.MsgSeq())})
	}
	if r.Seq != req.MsgSeq() {
		return c.opErr("read sync", &ProtocolError{Type: MsgReply, Seq: r.Seq,
			Reason: fmt.Sprintf("want the REPLY to %s seq %d", req.MsgType(), req.MsgSeq())})
	}
	if err := r.Err(req.MsgType()); err != nil {
		return &OpError{Op: opName(req.MsgType()), Addr: c.addr, Err: err}
	}
	return nil
}

// readAsync reads the asynchronous channel until an error.
func (s *syncState) readAsync() error {
	c, h := s.c, s.h
	var dump Dump
	inDump := true
	var routerID netip.Addr
	for {
		m, err := c.dec.Next()
		if err != nil {
			err = plainErr(err)
			if inDump {
				err = fmt.Errorf("during the LSDB dump, after %d LSAs: %w", dump.LSAs, err)
			}
			return &OpError{Op: "read async", Addr: c.addr, Err: err}
		}
		switch m := m.(type) {
		case *LSANotify:
			if inDump {
				if m.Seq == s.lsdb {
					dump.LSAs++
				} else {
					dump.Live++
				}
			}
			if h.LSA != nil {
				if err := h.LSA(m); err != nil {
					return err
				}
			}
			continue
		case *RouterIDChange:
			switch {
			case inDump && m.Seq == s.routerID:
				// The replies come on the other channel and may still be
				// on their way; the dump counts only once they are OK.
				select {
				case <-s.repliesOK:
				case <-c.done:
					return c.firstErr()
				}
				inDump = false
				routerID = m.RouterID
				dump.RouterID = m.RouterID
				dump.Bytes = c.dec.Bytes()
				dump.Duration = time.Since(s.start)
				close(s.dumpDone)
				c.log.Debug("LSDB dump complete", "server", c.addr, "router_id", m.RouterID.String(),
					"lsas", dump.LSAs, "live", dump.Live, "bytes", dump.Bytes, "duration", dump.Duration)
				if h.DumpDone != nil {
					if err := h.DumpDone(dump); err != nil {
						return err
					}
				}
				continue
			case !inDump && m.Seq != 0 && m.RouterID == routerID:
				continue // the answer to a probe, nothing new
			case !inDump:
				routerID = m.RouterID
			}
		}
		if h.Other != nil {
			if err := h.Other(m); err != nil {
				return err
			}
		}
	}
}
