package ospfapi

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// Messages from ospfd: the reply on the synchronous channel, notifications
// on the asynchronous one. Encoding rules as for requests.

// lsaNotifyFixed is the length of msg_lsa_change_notify before the LSA.
const lsaNotifyFixed = 12

// Reply is MSG_REPLY, ospfd's answer to a request, with the request's
// sequence number.
type Reply struct {
	Seq  uint32
	Code int8
}

// MsgType returns the message type of Reply; it implements Message.
func (m *Reply) MsgType() MsgType { return MsgReply }

// MsgSeq returns the sequence number of Reply; it implements Message.
func (m *Reply) MsgSeq() uint32 { return m.Seq }

// Err returns nil for CodeOK and an *APIError otherwise; req names the
// request answered in the error's text.
func (m *Reply) Err(req MsgType) error {
	if m.Code == CodeOK {
		return nil
	}
	return &APIError{Code: m.Code, Request: req}
}

func (m *Reply) appendBody(e *encoder) {
	e.u8(uint8(m.Code))
	e.pad(3)
}

func (m *Reply) parseBody(b []byte) error {
	if err := needLen(b, 4); err != nil {
		return err
	}
	m.Code = int8(b[0])
	return nil
}

var _ Message = &Reply{}

// ReadyNotify is MSG_READY_NOTIFY.
type ReadyNotify struct {
	Seq        uint32
	LSAType    uint8
	OpaqueType uint8
	Addr       netip.Addr
}

// MsgType returns the message type of ReadyNotify; it implements Message.
func (m *ReadyNotify) MsgType() MsgType { return MsgReadyNotify }

// MsgSeq returns the sequence number of ReadyNotify; it implements Message.
func (m *ReadyNotify) MsgSeq() uint32 { return m.Seq }

func (m *ReadyNotify) appendBody(e *encoder) {
	e.u8(m.LSAType)
	e.u8(m.OpaqueType)
	e.pad(2)
	e.addr("address", m.Addr)
}

func (m *ReadyNotify) parseBody(b []byte) error {
	if err := needLen(b, 8); err != nil {
		return err
	}
	m.LSAType, m.OpaqueType, m.Addr = b[0], b[1], addr4(b[4:])
	return nil
}

var _ Message = &ReadyNotify{}

// LSANotify is MSG_LSA_UPDATE_NOTIFY or, with Delete, MSG_LSA_DELETE_NOTIFY
// (struct msg_lsa_change_notify). Seq is 0 for a live change and the
// SYNC_LSDB request's number for an LSA of the dump.
type LSANotify struct {
	Seq    uint32
	Delete bool
	// IfAddr is the interface of a type 9 LSA; 0.0.0.0 otherwise.
	IfAddr netip.Addr
	// Area is the LSA's area; 0.0.0.0 for AS-scoped LSAs.
	Area           netip.Addr
	SelfOriginated bool
	// LSA is the whole LSA as ospfd holds it, header included, with its
	// raw age (which may carry the DoNotAge bit). It is not decoded here.
	LSA []byte
	// Arrival is when the message's last byte was read from the network
	// (set by Decoder; zero for a message built otherwise).
	Arrival time.Time
}

// MsgType is MsgLSADeleteNotify when Delete is set, else MsgLSAUpdateNotify.
func (m *LSANotify) MsgType() MsgType {
	if m.Delete {
		return MsgLSADeleteNotify
	}
	return MsgLSAUpdateNotify
}

// MsgSeq returns the sequence number of LSANotify; it implements Message.
func (m *LSANotify) MsgSeq() uint32 { return m.Seq }

func (m *LSANotify) appendBody(e *encoder) {
	e.addr("interface", m.IfAddr)
	e.addr("area", m.Area)
	var self uint8
	if m.SelfOriginated {
		self = 1
	}
	e.u8(self)
	e.pad(3)
	if _, err := lsaAt(m.LSA); err != nil {
		e.fail("%v", err)
	}
	e.b = append(e.b, m.LSA...)
}

func (m *LSANotify) parseBody(b []byte) error {
	if err := needLen(b, lsaNotifyFixed+lsaHeaderLen); err != nil {
		return err
	}
	lsa, err := lsaAt(b[lsaNotifyFixed:])
	if err != nil {
		return err
	}
	m.IfAddr, m.Area = addr4(b[0:]), addr4(b[4:])
	m.SelfOriginated = b[8] != 0
	m.LSA = lsa
	return nil
}

var _ Message = &LSANotify{}

// NewIf is MSG_NEW_IF.
type NewIf struct {
	Seq    uint32
	IfAddr netip.Addr
	Area   netip.Addr
}

// MsgType returns the message type of NewIf; it implements Message.
func (m *NewIf) MsgType() MsgType { return MsgNewIf }

// MsgSeq returns the sequence number of NewIf; it implements Message.
func (m *NewIf) MsgSeq() uint32 { return m.Seq }

func (m *NewIf) appendBody(e *encoder) {
	e.addr("interface", m.IfAddr)
	e.addr("area", m.Area)
}

func (m *NewIf) parseBody(b []byte) error {
	if err := needLen(b, 8); err != nil {
		return err
	}
	m.IfAddr, m.Area = addr4(b[0:]), addr4(b[4:])
	return nil
}

var _ Message = &NewIf{}

// DelIf is MSG_DEL_IF.
type DelIf struct {
	Seq    uint32
	IfAddr netip.Addr
}

// MsgType returns the message type of DelIf; it implements Message.
func (m *DelIf) MsgType() MsgType { return MsgDelIf }

// MsgSeq returns the sequence number of DelIf; it implements Message.
func (m *DelIf) MsgSeq() uint32 { return m.Seq }

func (m *DelIf) appendBody(e *encoder) { e.addr("interface", m.IfAddr) }

func (m *DelIf) parseBody(b []byte) error {
	if err := needLen(b, 4); err != nil {
		return err
	}
	m.IfAddr = addr4(b)
	return nil
}

var _ Message = &DelIf{}

// ISMChange is MSG_ISM_CHANGE: an interface state machine change.
type ISMChange struct {
	Seq    uint32
	IfAddr netip.Addr
	Area   netip.Addr
	Status uint8
}

// MsgType returns the message type of ISMChange; it implements Message.
func (m *ISMChange) MsgType() MsgType { return MsgISMChange }

// MsgSeq returns the sequence number of ISMChange; it implements Message.
func (m *ISMChange) MsgSeq() uint32 { return m.Seq }

func (m *ISMChange) appendBody(e *encoder) {
	e.addr("interface", m.IfAddr)
	e.addr("area", m.Area)
	e.u8(m.Status)
	e.pad(3)
}

func (m *ISMChange) parseBody(b []byte) error {
	if err := needLen(b, 12); err != nil {
		return err
	}
	m.IfAddr, m.Area, m.Status = addr4(b[0:]), addr4(b[4:]), b[8]
	return nil
}

var _ Message = &ISMChange{}

// NSMChange is MSG_NSM_CHANGE: a neighbor state machine change.
type NSMChange struct {
	Seq      uint32
	IfAddr   netip.Addr
	NbrAddr  netip.Addr
	RouterID netip.Addr
	Status   uint8
}

// MsgType returns the message type of NSMChange; it implements Message.
func (m *NSMChange) MsgType() MsgType { return MsgNSMChange }

// MsgSeq returns the sequence number of NSMChange; it implements Message.
func (m *NSMChange) MsgSeq() uint32 { return m.Seq }

func (m *NSMChange) appendBody(e *encoder) {
	e.addr("interface", m.IfAddr)
	e.addr("neighbor", m.NbrAddr)
	e.addr("router ID", m.RouterID)
	e.u8(m.Status)
	e.pad(3)
}

func (m *NSMChange) parseBody(b []byte) error {
	if err := needLen(b, 16); err != nil {
		return err
	}
	m.IfAddr, m.NbrAddr, m.RouterID, m.Status = addr4(b[0:]), addr4(b[4:]), addr4(b[8:]), b[12]
	return nil
}

var _ Message = &NSMChange{}

// ReachableChange is MSG_REACHABLE_CHANGE: routers that became reachable
// or unreachable.
type ReachableChange struct {
	Seq     uint32
	Added   []netip.Addr
	Removed []netip.Addr
}

// MsgType returns the message type of ReachableChange; it implements Message.
func (m *ReachableChange) MsgType() MsgType { return MsgReachableChange }

// MsgSeq returns the sequence number of ReachableChange; it implements Message.
func (m *ReachableChange) MsgSeq() uint32 { return m.Seq }

func (m *ReachableChange) appendBody(e *encoder) {
	if len(m.Added) > 0xffff || len(m.Removed) > 0xffff {
		e.fail("%d added and %d removed routers exceed 65535", len(m.Added), len(m.Removed))
	}
	e.u16(uint16(len(m.Added)))
	e.u16(uint16(len(m.Removed)))
	for _, a := range m.Added {
		e.addr("router ID", a)
	}
	for _, a := range m.Removed {
		e.addr("router ID", a)
	}
}

func (m *ReachableChange) parseBody(b []byte) error {
	if err := needLen(b, 4); err != nil {
		return err
	}
	nadd, nrem := int(binary.BigEndian.Uint16(b[0:2])), int(binary.BigEndian.Uint16(b[2:4]))
	if err := needLen(b, 4+4*(nadd+nrem)); err != nil {
		return fmt.Errorf("%d added and %d removed routers: %w", nadd, nrem, err)
	}
	list := func(off, n int) []netip.Addr {
		if n == 0 {
			return nil
		}
		out := make([]netip.Addr, n)
		for i := range out {
			out[i] = addr4(b[off+4*i:])
		}
		return out
	}
	m.Added = list(4, nadd)
	m.Removed = list(4+4*nadd, nrem)
	return nil
}

var _ Message = &ReachableChange{}

// RouterIDChange is MSG_ROUTER_ID_CHANGE. Answering SYNC_ROUTER_ID it
// carries the request's sequence number and, queued behind any dump
// requested before, marks the dump's end.
type RouterIDChange struct {
	Seq      uint32
	RouterID netip.Addr
}

// MsgType returns the message type of RouterIDChange; it implements Message.
func (m *RouterIDChange) MsgType() MsgType { return MsgRouterIDChange }

// MsgSeq returns the sequence number of RouterIDChange; it implements Message.
func (m *RouterIDChange) MsgSeq() uint32 { return m.Seq }

func (m *RouterIDChange) appendBody(e *encoder) { e.addr("router ID", m.RouterID) }

func (m *RouterIDChange) parseBody(b []byte) error {
	if err := needLen(b, 4); err != nil {
		return err
	}
	m.RouterID = addr4(b)
	return nil
}

var _ Message = &RouterIDChange{}

// RawMessage is a message of a type this package does not know; it
// round-trips unchanged.
type RawMessage struct {
	Type MsgType
	Seq  uint32
	Body []byte
}

// MsgType returns the message type of RawMessage; it implements Message.
func (m *RawMessage) MsgType() MsgType { return m.Type }

// MsgSeq returns the sequence number of RawMessage; it implements Message.
func (m *RawMessage) MsgSeq() uint32 { return m.Seq }

func (m *RawMessage) appendBody(e *encoder) { e.b = append(e.b, m.Body...) }

func (m *RawMessage) parseBody(b []byte) error { m.Body = b; return nil }

var _ Message = &RawMessage{}
