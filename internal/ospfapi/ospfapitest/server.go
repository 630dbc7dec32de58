package ospfapitest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

// Config configures a Server. The zero value behaves like Debian's ospfd
// 8.4.4.
type Config struct {
	// ListenAddr is where the API server listens (default 127.0.0.1:0).
	ListenAddr string
	// RouterID is ospfd's own router ID: LSAs it advertises are
	// self-originated, and ROUTER_ID_CHANGE carries it. Default: the
	// advertising router of the first Router-LSA.
	RouterID netip.Addr
	// Logger receives the fake's log (default: none).
	Logger *slog.Logger
	// Oversize is what happens to messages over 1,500 bytes of body.
	Oversize OversizeMode
	// ReplyFirst writes each REPLY before anything the request queues on
	// the asynchronous channel, so that a SYNC_LSDB reply surely arrives
	// before its dump. By default the reply is queued after the dump, as
	// ospfd does, and either may arrive first.
	ReplyFirst bool
	// AsyncSource is the source address of the connection back to the
	// client (default: chosen by the kernel, as ospfd does).
	AsyncSource netip.Addr
	// BeforeConnectBack, if set, is called with the client's address
	// before the fake connects back to its port plus one.
	BeforeConnectBack func(peer netip.AddrPort)
	// CrashDuringDump, if positive, makes ospfd go away in the middle of
	// each dump: after writing that many LSAs of it, it closes the
	// client's connections.
	CrashDuringDump int
	// Reply, if set, chooses the code of each reply (ospfapi.CodeOK and
	// the request is carried out; otherwise it is not). By default every
	// request this fake implements succeeds.
	Reply func(req ospfapi.Message) int8
}

// Server is a fake ospfd OSPF API server over real TCP: it accepts the
// synchronous connection, connects back to the client's port plus one
// for the asynchronous channel, answers REGISTER_EVENT, SYNC_LSDB and the
// SYNC_* requests like ospfd, and plays scripted changes of its database
// to the clients as ospfd would notify them. All methods are safe for
// concurrent use.
type Server struct {
	cfg  Config
	log  *slog.Logger
	port uint16
	addr string

	// mu is ospfd's thread: it guards the database, the clients and their
	// FIFOs, and handlers run under it.
	mu       sync.Mutex
	ln       *net.TCPListener
	db       map[Key]*entry
	order    []*entry // dump order, nil when stale
	clients  map[*client]struct{}
	routerID netip.Addr
	lost     int
	faults   []string
	wg       sync.WaitGroup
	closed   bool
}

// entry is one LSA of the database.
type entry struct {
	key Key
	raw []byte // marshalled, checksum valid
}

// NewServer starts a fake ospfd serving lsas.
func NewServer(cfg Config, lsas []AreaLSA) (*Server, error) {
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = "127.0.0.1:0"
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		db:       make(map[Key]*entry, len(lsas)),
		clients:  map[*client]struct{}{},
		routerID: cfg.RouterID,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, al := range lsas {
		if err := s.put(al.Area, al.LSA); err != nil {
			return nil, err
		}
		if !s.routerID.IsValid() && al.LSA.Hdr().Type == ospf.RouterLSAType {
			s.routerID = al.LSA.Hdr().AdvRouter
		}
	}
	if !s.routerID.IsValid() {
		s.routerID = zero4
	}
	if err := s.listen(cfg.ListenAddr); err != nil {
		return nil, err
	}
	return s, nil
}

// put stores l without notifying anyone.
func (s *Server) put(area netip.Addr, l ospf.LSA) error {
	raw, err := ospf.Marshal(l)
	if err != nil {
		return err
	}
	if !area.IsValid() {
		area = zero4
	}
	k := KeyOf(area, l)
	s.db[k] = &entry{key: k, raw: raw}
	s.order = nil
	return nil
}

func (s *Server) listen(addr string) error {
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return err
	}
	ln := l.(*net.TCPListener)
	s.mu.Lock()
	s.ln = ln
	s.addr = ln.Addr().String()
	s.port = uint16(ln.Addr().(*net.TCPAddr).Port)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.acceptLoop(ln)
	return nil
}

// Addr is the server's address, HOST:PORT, for ospfapi.Dial.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// RouterID is the fake ospfd's router ID.
func (s *Server) RouterID() netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.routerID
}

// Clients is the number of connected clients (both channels up).
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// WaitClients waits until exactly n clients are connected.
func (s *Server) WaitClients(ctx context.Context, n int) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		if got := s.Clients(); got == n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ospfapitest: %d clients, want %d: %w", s.Clients(), n, ctx.Err())
		case <-t.C:
		}
	}
}

// Freeze makes ospfd hang: requests are not answered and nothing is
// written until Thaw. Every other method of the server blocks meanwhile,
// Close included.
func (s *Server) Freeze() { s.mu.Lock() }

// Thaw ends Freeze.
func (s *Server) Thaw() { s.mu.Unlock() }

// WaitDrained waits until every client's queued messages have been
// written to its sockets.
func (s *Server) WaitDrained(ctx context.Context) error {
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for {
		s.mu.Lock()
		busy := 0
		for c := range s.clients {
			busy += c.syncQ.pending + c.syncQ.inflight + c.asyncQ.pending + c.asyncQ.inflight
		}
		s.mu.Unlock()
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ospfapitest: %d messages still queued: %w", busy, ctx.Err())
		case <-t.C:
		}
	}
}

// Lost is the number of messages that oversize handling dropped so far.
func (s *Server) Lost() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lost
}

// Faults lists what clients did that would have made ospfd abort or drop
// them (an empty request body, a bad version, ...).
func (s *Server) Faults() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.faults)
}

func (s *Server) fault(format string, args ...any) {
	f := fmt.Sprintf(format, args...)
	s.faults = append(s.faults, f)
	s.log.Warn("Client fault", "fault", f)
}

// Len is the number of LSAs in the database, MaxAge ones included.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.db)
}

// LSAs returns the database in dump order, NSSA-LSAs (which ospfd never
// dumps) last; each LSA is freshly decoded.
func (s *Server) LSAs() []AreaLSA {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AreaLSA
	for _, e := range s.sorted() {
		l, err := ospf.Decode(e.raw)
		if err != nil {
			continue // put marshalled it; cannot happen
		}
		out = append(out, AreaLSA{Area: e.key.Area, LSA: l})
	}
	return out
}

// Raw returns the wire bytes of the LSA with key k.
func (s *Server) Raw(k Key) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.db[s.norm(k)]
	if !ok {
		return nil, false
	}
	return slices.Clone(e.raw), true
}

// norm fixes the area of AS-scoped keys.
func (s *Server) norm(k Key) Key {
	if k.Type.ASScoped() || !k.Area.IsValid() {
		k.Area = zero4
	}
	return k
}

// sorted returns the database in ospfd's dump order: areas in order,
// within an area types 1, 2, 3, 4, 9, 10 (7 are kept last: never dumped),
// then AS-external and AS-opaque LSAs; within a type by LSID then
// advertising router, as ospfd's route tables order them.
func (s *Server) sorted() []*entry {
	if s.order != nil {
		return s.order
	}
	order := make([]*entry, 0, len(s.db))
	for _, e := range s.db {
		order = append(order, e)
	}
	slices.SortFunc(order, func(a, b *entry) int {
		ka, kb := a.key, b.key
		if c := dumpRank(ka) - dumpRank(kb); c != 0 {
			return c
		}
		if !ka.Type.ASScoped() {
			if c := ka.Area.Compare(kb.Area); c != 0 {
				return c
			}
		}
		if c := int(typeRank(ka.Type)) - int(typeRank(kb.Type)); c != 0 {
			return c
		}
		if c := ka.LSID.Compare(kb.LSID); c != 0 {
			return c
		}
		return ka.AdvRouter.Compare(kb.AdvRouter)
	})
	s.order = order
	return order
}

// dumpRank: area-scoped first, then AS-scoped, then NSSA (not dumped).
func dumpRank(k Key) int {
	switch {
	case k.Type == ospf.NSSAExternalLSAType:
		return 2
	case k.Type.ASScoped():
		return 1
	}
	return 0
}

func typeRank(t ospf.LSType) int {
	switch t {
	case ospf.RouterLSAType, ospf.NetworkLSAType, ospf.SummaryLSAType, ospf.ASBRSummaryLSAType:
		return int(t)
	case ospf.OpaqueLinkLSAType, ospf.OpaqueAreaLSAType:
		return int(t)
	case ospf.ASExternalLSAType:
		return 20
	case ospf.OpaqueASLSAType:
		return 21
	}
	return 100 + int(t) // unknown area-scoped types: never dumped by ospfd either
}

// dumped reports whether ospfd's SYNC_LSDB walks LSAs of type t.
func dumped(t ospf.LSType) bool {
	switch t {
	case ospf.RouterLSAType, ospf.NetworkLSAType, ospf.SummaryLSAType, ospf.ASBRSummaryLSAType,
		ospf.OpaqueLinkLSAType, ospf.OpaqueAreaLSAType, ospf.ASExternalLSAType, ospf.OpaqueASLSAType:
		return true
	}
	return false
}

// Stop makes ospfd go away: the listener and every client connection
// close. Restart brings it back on the same address.
func (s *Server) Stop() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	cs := s.clientList()
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	for _, c := range cs {
		c.close()
	}
}

// Restart listens again on the address of the first start, after Stop.
func (s *Server) Restart() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("ospfapitest: server closed")
	}
	if s.ln != nil {
		s.mu.Unlock()
		return errors.New("ospfapitest: server running")
	}
	addr := s.addr
	s.mu.Unlock()
	return s.listen(addr)
}

// Close stops the server for good and waits for its goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.Stop()
	s.wg.Wait()
}

// DropClients closes every client's connections, as ospfd does when it
// frees a client.
func (s *Server) DropClients() {
	s.mu.Lock()
	cs := s.clientList()
	s.mu.Unlock()
	for _, c := range cs {
		c.close()
	}
}

func (s *Server) clientList() []*client {
	cs := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		cs = append(cs, c)
	}
	return cs
}

func (s *Server) acceptLoop(ln *net.TCPListener) {
	defer s.wg.Done()
	for {
		c, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handshake(c)
		}()
	}
}

// handshake connects back to the client's port plus one, as
// ospf_apiserver_accept does, then serves the client.
func (s *Server) handshake(sc *net.TCPConn) {
	peer := sc.RemoteAddr().(*net.TCPAddr).AddrPort()
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	asyncPort := peer.Port() + 1 // wraps to 0 as in C
	if asyncPort == s.port {
		s.log.Warn("Invalid async port number", "peer", peer.String())
		sc.Close()
		return
	}
	if s.cfg.BeforeConnectBack != nil {
		s.cfg.BeforeConnectBack(peer)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	if s.cfg.AsyncSource.IsValid() {
		d.LocalAddr = &net.TCPAddr{IP: s.cfg.AsyncSource.AsSlice()}
	}
	a, err := d.Dial("tcp4", netip.AddrPortFrom(peer.Addr(), asyncPort).String())
	if err != nil {
		s.log.Warn("Cannot connect back to the client", "peer", peer.String(), "err", err)
		sc.Close()
		return
	}
	ac := a.(*net.TCPConn)
	// ospfd makes the asynchronous channel write-only.
	_ = ac.CloseRead()
	c := newClient(s, sc, ac)
	s.mu.Lock()
	if s.closed || s.ln == nil {
		s.mu.Unlock()
		sc.Close()
		ac.Close()
		return
	}
	s.clients[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	s.log.Debug("New API client", "peer", peer.String())
	go func() {
		defer s.wg.Done()
		c.writer(c.ac, c.asyncQ)
	}()
	go func() {
		defer s.wg.Done()
		c.writer(c.sc, c.syncQ)
	}()
	c.serve()
}
