package ospfapi

import (
	"encoding/binary"
	"net/netip"
)

// Requests, sent by the client on the synchronous channel. Each
// appendBody writes what the matching parseBody reads; pad bytes are
// written as zero and ignored when read, and bytes after a fixed layout
// are ignored, as ospfd ignores them.

// RegisterOpaqueType is MSG_REGISTER_OPAQUETYPE.
type RegisterOpaqueType struct {
	Seq        uint32
	LSAType    uint8
	OpaqueType uint8
}

// MsgType returns the message type of RegisterOpaqueType; it implements Message.
func (m *RegisterOpaqueType) MsgType() MsgType { return MsgRegisterOpaqueType }

// MsgSeq returns the sequence number of RegisterOpaqueType; it implements Message.
func (m *RegisterOpaqueType) MsgSeq() uint32 { return m.Seq }

func (m *RegisterOpaqueType) appendBody(e *encoder) {
	e.u8(m.LSAType)
	e.u8(m.OpaqueType)
	e.pad(2)
}

func (m *RegisterOpaqueType) parseBody(b []byte) error {
	if err := needLen(b, 4); err != nil {
		return err
	}
	m.LSAType, m.OpaqueType = b[0], b[1]
	return nil
}

var _ Message = &RegisterOpaqueType{}

// UnregisterOpaqueType is MSG_UNREGISTER_OPAQUETYPE.
type UnregisterOpaqueType struct {
	Seq        uint32
	LSAType    uint8
	OpaqueType uint8
}

// MsgType returns the message type of UnregisterOpaqueType; it implements Message.
func (m *UnregisterOpaqueType) MsgType() MsgType { return MsgUnregisterOpaqueType }

// MsgSeq returns the sequence number of UnregisterOpaqueType; it implements Message.
func (m *UnregisterOpaqueType) MsgSeq() uint32 { return m.Seq }

func (m *UnregisterOpaqueType) appendBody(e *encoder) {
	e.u8(m.LSAType)
	e.u8(m.OpaqueType)
	e.pad(2)
}

func (m *UnregisterOpaqueType) parseBody(b []byte) error {
	if err := needLen(b, 4); err != nil {
		return err
	}
	m.LSAType, m.OpaqueType = b[0], b[1]
	return nil
}

var _ Message = &UnregisterOpaqueType{}

// RegisterEvent is MSG_REGISTER_EVENT: ospfd notifies the LSAs the filter
// selects as they change. It replaces any earlier filter.
type RegisterEvent struct {
	Seq    uint32
	Filter LSAFilter
}

// MsgType returns the message type of RegisterEvent; it implements Message.
func (m *RegisterEvent) MsgType() MsgType { return MsgRegisterEvent }

// MsgSeq returns the sequence number of RegisterEvent; it implements Message.
func (m *RegisterEvent) MsgSeq() uint32 { return m.Seq }

func (m *RegisterEvent) appendBody(e *encoder) { m.Filter.append(e) }

func (m *RegisterEvent) parseBody(b []byte) error { return m.Filter.parse(b) }

var _ Message = &RegisterEvent{}

// SyncLSDB is MSG_SYNC_LSDB: ospfd queues every LSA of its database that
// the filter selects on the asynchronous channel, as LSA_UPDATE_NOTIFY
// messages carrying this request's sequence number, then replies. NSSA
// (type 7) LSAs are never part of the dump.
type SyncLSDB struct {
	Seq    uint32
	Filter LSAFilter
}

// MsgType returns the message type of SyncLSDB; it implements Message.
func (m *SyncLSDB) MsgType() MsgType { return MsgSyncLSDB }

// MsgSeq returns the sequence number of SyncLSDB; it implements Message.
func (m *SyncLSDB) MsgSeq() uint32 { return m.Seq }

func (m *SyncLSDB) appendBody(e *encoder) { m.Filter.append(e) }

func (m *SyncLSDB) parseBody(b []byte) error { return m.Filter.parse(b) }

var _ Message = &SyncLSDB{}

// OriginateRequest is MSG_ORIGINATE_REQUEST (opaque LSAs only).
type OriginateRequest struct {
	Seq    uint32
	IfAddr netip.Addr // type 9 only
	Area   netip.Addr // type 10 only
	LSA    []byte
}

// MsgType returns the message type of OriginateRequest; it implements Message.
func (m *OriginateRequest) MsgType() MsgType { return MsgOriginateRequest }

// MsgSeq returns the sequence number of OriginateRequest; it implements Message.
func (m *OriginateRequest) MsgSeq() uint32 { return m.Seq }

func (m *OriginateRequest) appendBody(e *encoder) {
	e.addr("interface", m.IfAddr)
	e.addr("area", m.Area)
	if _, err := lsaAt(m.LSA); err != nil {
		e.fail("%v", err)
	}
	e.b = append(e.b, m.LSA...)
}

func (m *OriginateRequest) parseBody(b []byte) error {
	if err := needLen(b, 8+lsaHeaderLen); err != nil {
		return err
	}
	lsa, err := lsaAt(b[8:])
	if err != nil {
		return err
	}
	m.IfAddr, m.Area, m.LSA = addr4(b[0:]), addr4(b[4:]), lsa
	return nil
}

var _ Message = &OriginateRequest{}

// DeleteRequest is MSG_DELETE_REQUEST (opaque LSAs only).
type DeleteRequest struct {
	Seq        uint32
	Addr       netip.Addr // interface for type 9, area for type 10
	LSAType    uint8
	OpaqueType uint8
	Flags      uint8
	OpaqueID   uint32
}

// MsgType returns the message type of DeleteRequest; it implements Message.
func (m *DeleteRequest) MsgType() MsgType { return MsgDeleteRequest }

// MsgSeq returns the sequence number of DeleteRequest; it implements Message.
func (m *DeleteRequest) MsgSeq() uint32 { return m.Seq }

func (m *DeleteRequest) appendBody(e *encoder) {
	e.addr("address", m.Addr)
	e.u8(m.LSAType)
	e.u8(m.OpaqueType)
	e.pad(1)
	e.u8(m.Flags)
	e.u32(m.OpaqueID)
}

func (m *DeleteRequest) parseBody(b []byte) error {
	if err := needLen(b, 12); err != nil {
		return err
	}
	m.Addr = addr4(b[0:])
	m.LSAType, m.OpaqueType, m.Flags = b[4], b[5], b[7]
	m.OpaqueID = binary.BigEndian.Uint32(b[8:12])
	return nil
}

var _ Message = &DeleteRequest{}

// SyncRequest is one of the requests whose body ospfd ignores:
// MSG_SYNC_REACHABLE, MSG_SYNC_ISM, MSG_SYNC_NSM and MSG_SYNC_ROUTER_ID.
// It is sent with 4 zero bytes of body, as FRR's ospfclient.py does: an
// empty body would make ospfd abort (its stream_new asserts a non-zero
// size).
type SyncRequest struct {
	Kind MsgType
	Seq  uint32
}

// MsgType returns the message type of SyncRequest; it implements Message.
func (m *SyncRequest) MsgType() MsgType { return m.Kind }

// MsgSeq returns the sequence number of SyncRequest; it implements Message.
func (m *SyncRequest) MsgSeq() uint32 { return m.Seq }

func (m *SyncRequest) appendBody(e *encoder) {
	switch m.Kind {
	case MsgSyncReachable, MsgSyncISM, MsgSyncNSM, MsgSyncRouterID:
	default:
		e.fail("SyncRequest of type %s", m.Kind)
	}
	e.pad(4)
}

func (m *SyncRequest) parseBody([]byte) error { return nil }

var _ Message = &SyncRequest{}
