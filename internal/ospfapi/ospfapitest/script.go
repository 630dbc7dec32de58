package ospfapitest

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

// Scripted changes. Each changes the database and notifies the connected
// clients exactly as ospfd up to FRR 10.3 does: installing an instance
// over an older one (ospf_lsdb_add) first deletes the old one, so clients
// get LSA_DELETE_NOTIFY of the old instance, then LSA_UPDATE_NOTIFY of the
// new one, unless the new one is at MaxAge (ospf_apiserver_lsa_update
// does not notify MaxAge updates). Removing an LSA from the database
// (ospf_lsdb_delete) notifies LSA_DELETE_NOTIFY with the removed bytes.

// RefreshAge is the LS age of the instances the scripted changes
// originate: a neighbour's new instance arrives with an age of about one.
const RefreshAge = 1

// Install installs l in area (ignored for AS-scoped types), replacing any
// instance with its key; it marshals l, setting its length and checksum.
func (s *Server) Install(area netip.Addr, l ospf.LSA) error {
	raw, err := ospf.Marshal(l)
	if err != nil {
		return err
	}
	if !area.IsValid() {
		area = zero4
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.install(KeyOf(area, l), raw)
	return nil
}

// install stores raw under k and notifies, under s.mu.
func (s *Server) install(k Key, raw []byte) {
	e := s.db[k]
	if e != nil {
		s.notifyAll(ospfapi.MsgLSADeleteNotify, e)
		e.raw = raw // same key, same place in the dump order
	} else {
		e = &entry{key: k, raw: raw}
		s.db[k] = e
		s.order = nil
	}
	if !isMaxAge(raw) {
		s.notifyAll(ospfapi.MsgLSAUpdateNotify, e)
	}
}

// remove deletes e from the database and notifies, under s.mu.
func (s *Server) remove(e *entry) {
	s.notifyAll(ospfapi.MsgLSADeleteNotify, e)
	delete(s.db, e.key)
	s.order = nil
}

func (s *Server) notifyAll(t ospfapi.MsgType, e *entry) {
	for c := range s.clients {
		c.notify(t, e)
	}
}

// Change originates the next instance of the LSA with key k: fn edits a
// decoded copy, then the sequence number goes up by one, the age is
// RefreshAge, and the result is installed.
func (s *Server) Change(k Key, fn func(l ospf.LSA) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change(s.norm(k), fn)
}

func (s *Server) change(k Key, fn func(l ospf.LSA) error) error {
	e := s.db[k]
	if e == nil {
		return fmt.Errorf("ospfapitest: no %s", k)
	}
	l, err := ospf.Decode(e.raw)
	if err != nil {
		return err
	}
	if fn != nil {
		if err := fn(l); err != nil {
			return err
		}
	}
	h := l.Hdr()
	if h.SeqNum == ospf.MaxSeqNum {
		return fmt.Errorf("ospfapitest: %s is at the maximum sequence number", k)
	}
	h.SeqNum++
	h.Age = RefreshAge
	raw, err := ospf.Marshal(l)
	if err != nil {
		return err
	}
	if KeyOf(k.Area, l) != k {
		return fmt.Errorf("ospfapitest: change of %s must not change its key", k)
	}
	s.install(k, raw)
	return nil
}

// SetLinkMetric changes the metric of link i (0-based) of router's
// Router-LSA in area.
func (s *Server) SetLinkMetric(area, router netip.Addr, i int, metric uint16) error {
	k := Key{Area: area, Type: ospf.RouterLSAType, LSID: router, AdvRouter: router}
	return s.Change(k, func(l ospf.LSA) error {
		rl, ok := l.(*ospf.RouterLSA)
		if !ok || i < 0 || i >= len(rl.Links) {
			return fmt.Errorf("ospfapitest: %s has no link %d", k, i)
		}
		rl.Links[i].Metric = metric
		return nil
	})
}

// AddExternal originates an AS-external LSA of router for p (LSID: the
// prefix's address), or its next instance if there is one. metric is a
// type 2 metric if type2 is set; via is the forwarding address (zero:
// none).
func (s *Server) AddExternal(router netip.Addr, p netip.Prefix, metric uint32, type2 bool, via netip.Addr) error {
	if !via.IsValid() {
		via = zero4
	}
	p = p.Masked()
	k := Key{Area: zero4, Type: ospf.ASExternalLSAType, LSID: p.Addr(), AdvRouter: router}
	s.mu.Lock()
	defer s.mu.Unlock()
	edit := func(l ospf.LSA) error {
		x := l.(*ospf.ExternalLSA)
		x.Mask, x.Metric, x.Type2, x.Forward = maskOf(p.Bits()), metric, type2, via
		return nil
	}
	if e := s.db[k]; e != nil && !isMaxAge(e.raw) {
		return s.change(k, edit)
	}
	seq := ospf.InitialSeqNum
	if e := s.db[k]; e != nil {
		// Reoriginating over a MaxAge copy continues its numbering.
		if h, err := ospf.DecodeHeader(e.raw); err == nil && h.SeqNum < ospf.MaxSeqNum {
			seq = h.SeqNum + 1
		}
	}
	x := &ospf.ExternalLSA{Header: ospf.Header{Age: RefreshAge, Options: optionE, Type: ospf.ASExternalLSAType,
		LSID: p.Addr(), AdvRouter: router, SeqNum: seq}}
	_ = edit(x)
	raw, err := ospf.Marshal(x)
	if err != nil {
		return err
	}
	s.install(k, raw)
	return nil
}

// WithdrawExternal flushes router's AS-external LSA for p (see Flush).
func (s *Server) WithdrawExternal(router netip.Addr, p netip.Prefix) error {
	return s.Flush(Key{Type: ospf.ASExternalLSAType, LSID: p.Masked().Addr(), AdvRouter: router})
}

// Flush flushes an LSA by premature aging, as its originator does: the
// instance is set to MaxAge with the same sequence number. For an LSA of
// another router ospfd installs the MaxAge copy it receives, so clients get
// LSA_DELETE_NOTIFY of the old instance and nothing for the MaxAge one,
// which stays in the database (and in dumps) until PurgeMaxAge. For an LSA
// of the fake ospfd itself, ospfd ages its copy in place: no notification
// until PurgeMaxAge.
func (s *Server) Flush(k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k = s.norm(k)
	e := s.db[k]
	if e == nil {
		return fmt.Errorf("ospfapitest: no %s", k)
	}
	raw := slices.Clone(e.raw)
	binary.BigEndian.PutUint16(raw[0:2], ospf.MaxAge) // the age is outside the checksum
	if k.AdvRouter == s.routerID {
		e.raw = raw
		return nil
	}
	s.install(k, raw)
	return nil
}

// PurgeMaxAge removes every MaxAge LSA, as ospfd's MaxAge remover does
// once its neighbours have acknowledged them: clients get
// LSA_DELETE_NOTIFY of each MaxAge copy. It returns how many it removed.
func (s *Server) PurgeMaxAge() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.sorted() {
		if isMaxAge(e.raw) {
			s.remove(e)
			n++
		}
	}
	return n
}

// Remove removes the LSA with key k with a bare LSA_DELETE_NOTIFY.
func (s *Server) Remove(k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.db[s.norm(k)]
	if e == nil {
		return fmt.Errorf("ospfapitest: no %s", k)
	}
	s.remove(e)
	return nil
}

// RefreshAll originates the next instance of every LSA that is not at
// MaxAge, with the same content, as the 30-minute refresh does: each
// comes as LSA_DELETE_NOTIFY of the old instance and LSA_UPDATE_NOTIFY of
// the new one. It returns how many LSAs it refreshed.
func (s *Server) RefreshAll() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range slices.Clone(s.sorted()) {
		if isMaxAge(e.raw) {
			continue
		}
		if err := s.change(e.key, nil); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// SetRouterID changes the fake ospfd's router ID and notifies every
// client with ROUTER_ID_CHANGE (sequence number 0), as ospfd does.
func (s *Server) SetRouterID(id netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routerID = id
	for c := range s.clients {
		c.send(&ospfapi.RouterIDChange{RouterID: id})
	}
}

// Notify queues m on the asynchronous channel of every client (NEW_IF,
// ISM_CHANGE, REACHABLE_CHANGE, ...).
func (s *Server) Notify(m ospfapi.Message) error {
	b, err := ospfapi.MarshalMessage(m)
	if err != nil {
		return err
	}
	s.pushAll(b, s.cfg.Oversize)
	return nil
}

// SendRaw queues raw bytes on the asynchronous channel of every client:
// garbage, a truncated message, anything. Oversize handling applies only
// to whole messages, so b is queued as is.
func (s *Server) SendRaw(b []byte) {
	s.pushAll(b, OversizeSend)
}

func (s *Server) pushAll(b []byte, mode OversizeMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		s.lost += c.asyncQ.push(mode, b)
	}
}
