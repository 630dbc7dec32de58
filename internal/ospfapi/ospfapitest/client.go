package ospfapitest

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

// client is the server side of one API client (struct ospf_apiserver).
type client struct {
	s      *Server
	sc, ac *net.TCPConn
	peer   string
	// filter is the REGISTER_EVENT filter; nil selects nothing, as
	// ospfd's initial type mask of 0 does.
	filter        *ospfapi.LSAFilter
	syncQ, asyncQ *fifo
	crash         bool // close once the queued messages are written
	done          chan struct{}
	closeOnce     sync.Once
}

func newClient(s *Server, sc, ac *net.TCPConn) *client {
	return &client{
		s:      s,
		sc:     sc,
		ac:     ac,
		peer:   sc.RemoteAddr().String(),
		syncQ:  newFIFO(),
		asyncQ: newFIFO(),
		done:   make(chan struct{}),
	}
}

// close frees the client as ospf_apiserver_free does: both connections
// close and whatever was queued is dropped.
func (c *client) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.sc.Close()
		c.ac.Close()
		c.s.mu.Lock()
		delete(c.s.clients, c)
		c.s.mu.Unlock()
	})
}

// writer writes what handlers queue on q to conn, a chunk per system call.
func (c *client) writer(conn *net.TCPConn, q *fifo) {
	for {
		select {
		case <-q.wake:
		case <-c.done:
			return
		}
		for {
			c.s.mu.Lock()
			chunks := q.take()
			c.s.mu.Unlock()
			if len(chunks) == 0 {
				break
			}
			for _, b := range chunks {
				if _, err := conn.Write(b); err != nil {
					c.close()
					return
				}
				recycle(b)
			}
			c.s.mu.Lock()
			q.written()
			crash := c.crash && c.asyncQ.pending == 0
			c.s.mu.Unlock()
			if crash {
				c.close()
				return
			}
		}
	}
}

// serve reads requests until the client goes away or misbehaves.
func (c *client) serve() {
	defer c.close()
	r := bufio.NewReaderSize(c.sc, 64<<10)
	buf := make([]byte, 0, 1600)
	for {
		hb, err := r.Peek(ospfapi.HeaderLen)
		if err != nil {
			return
		}
		h, err := ospfapi.ParseHeader(hb)
		if err != nil {
			c.s.mu.Lock()
			c.s.fault("%s: %v", c.peer, err)
			c.s.mu.Unlock()
			return
		}
		if h.Len == 0 {
			// ospfd's msg_new calls stream_new(0), which asserts: the
			// whole daemon aborts. The fake drops the client.
			c.s.mu.Lock()
			c.s.fault("%s: %s seq %d with an empty body would make ospfd abort", c.peer, h.Type, h.Seq)
			c.s.mu.Unlock()
			return
		}
		m, err := ospfapi.ReadMessage(r, buf)
		if err != nil {
			var pe *ospfapi.ProtocolError
			if errors.As(err, &pe) {
				c.s.mu.Lock()
				c.s.fault("%s: %v", c.peer, err)
				c.s.mu.Unlock()
			}
			return
		}
		c.s.mu.Lock()
		c.handle(m, h)
		crash := c.crash
		c.s.mu.Unlock()
		if crash {
			// Read nothing more; the writer closes once the part of the
			// dump before the crash is out.
			<-c.done
			return
		}
		select {
		case <-c.done:
			return
		default:
		}
	}
}

// handle carries out one request, under s.mu.
func (c *client) handle(m ospfapi.Message, h ospfapi.Header) {
	s := c.s
	code := ospfapi.CodeOK
	if s.cfg.Reply != nil {
		code = s.cfg.Reply(m)
	}
	switch m := m.(type) {
	case *ospfapi.RegisterEvent:
		if code == ospfapi.CodeOK {
			if int(h.Len) >= ospfapi.MaxLSAMessageBody {
				code = ospfapi.CodeNoMemory
			} else {
				f := m.Filter
				f.Areas = slices.Clone(f.Areas)
				c.filter = &f
			}
		}
		c.reply(m.Seq, code)
	case *ospfapi.SyncLSDB:
		if c.s.cfg.ReplyFirst {
			c.reply(m.Seq, code)
		}
		if code == ospfapi.CodeOK {
			c.dump(m.Seq, &m.Filter)
		}
		if c.crash {
			return
		}
		if !c.s.cfg.ReplyFirst {
			c.reply(m.Seq, code)
		}
	case *ospfapi.SyncRequest:
		if c.s.cfg.ReplyFirst {
			c.reply(m.Seq, code)
		}
		if code == ospfapi.CodeOK && m.Kind == ospfapi.MsgSyncRouterID {
			c.send(&ospfapi.RouterIDChange{Seq: m.Seq, RouterID: s.routerID})
		}
		if !c.s.cfg.ReplyFirst {
			c.reply(m.Seq, code)
		}
	case *ospfapi.RawMessage:
		// ospfd logs "Unknown message type" and sends no reply.
		s.log.Warn("Unknown request type", "peer", c.peer, "type", m.Type)
	default:
		// Opaque LSA requests: not implemented by the fake.
		if code == ospfapi.CodeOK {
			code = ospfapi.CodeError
		}
		c.reply(m.MsgSeq(), code)
	}
}

// reply answers a request on the synchronous channel.
func (c *client) reply(seq uint32, code int8) {
	b, _ := ospfapi.MarshalMessage(&ospfapi.Reply{Seq: seq, Code: code})
	if c.s.cfg.ReplyFirst {
		// Written at once, before anything queued after it; replies are
		// written only here in this mode, so they stay in order.
		if _, err := c.sc.Write(b); err != nil {
			go c.close()
		}
		return
	}
	c.s.lost += c.syncQ.push(c.s.cfg.Oversize, b)
}

// send queues a notification on the asynchronous channel.
func (c *client) send(m ospfapi.Message) {
	b, err := ospfapi.MarshalMessage(m)
	if err != nil {
		c.s.log.Warn("Cannot marshal notification", "err", err)
		return
	}
	c.s.lost += c.asyncQ.push(c.s.cfg.Oversize, b)
}

// pushLSA queues an LSA notification without building a Message.
func (c *client) pushLSA(t ospfapi.MsgType, seq uint32, e *entry) {
	var hdr [ospfapi.HeaderLen + 12]byte
	hdr[0] = ospfapi.Version
	hdr[1] = byte(t)
	n := 12 + len(e.raw)
	if n > ospfapi.MaxBodyLen {
		c.s.log.Warn("LSA too long for any message", "lsa", e.key.String())
		return
	}
	binary.BigEndian.PutUint16(hdr[2:], uint16(n))
	binary.BigEndian.PutUint32(hdr[4:], seq)
	// ifaddr stays 0.0.0.0: the fake has no type 9 LSAs on interfaces.
	area := e.key.Area.As4()
	copy(hdr[12:16], area[:])
	if e.key.AdvRouter == c.s.routerID {
		hdr[16] = 1
	}
	c.s.lost += c.asyncQ.push(c.s.cfg.Oversize, hdr[:], e.raw)
}

// dump queues the LSAs f selects as ospf_apiserver_handle_sync_lsdb does.
func (c *client) dump(seq uint32, f *ospfapi.LSAFilter) {
	n := 0
	for _, e := range c.s.sorted() {
		if c.s.cfg.CrashDuringDump > 0 && n == c.s.cfg.CrashDuringDump {
			c.crash = true
			return
		}
		k := e.key
		if !dumped(k.Type) {
			continue
		}
		if !k.Type.ASScoped() && len(f.Areas) > 0 && !slices.Contains(f.Areas, k.Area) {
			continue
		}
		if !selects(f, k, c.s.routerID) {
			continue
		}
		c.pushLSA(ospfapi.MsgLSAUpdateNotify, seq, e)
		n++
	}
}

// selects applies a filter's type mask and origin.
func selects(f *ospfapi.LSAFilter, k Key, self netip.Addr) bool {
	if f.TypeMask&ospfapi.TypeBit(uint8(k.Type)) == 0 {
		return false
	}
	isSelf := k.AdvRouter == self
	switch f.Origin {
	case ospfapi.AnyOrigin:
		return true
	case ospfapi.SelfOriginated:
		return isSelf
	case ospfapi.NonSelfOriginated:
		return !isSelf
	}
	return false
}

// notify queues a live change for this client if its filter selects it,
// as apiserver_clients_lsa_change_notify does.
func (c *client) notify(t ospfapi.MsgType, e *entry) {
	f := c.filter
	if f == nil {
		return
	}
	k := e.key
	if !k.Type.ASScoped() && len(f.Areas) > 0 && !slices.Contains(f.Areas, k.Area) {
		return
	}
	if !selects(f, k, c.s.routerID) {
		return
	}
	c.pushLSA(t, 0, e)
}

// isMaxAge reports whether an LSA's raw bytes are at MaxAge.
func isMaxAge(raw []byte) bool {
	h, err := ospf.DecodeHeader(raw)
	return err == nil && h.IsMaxAge()
}
