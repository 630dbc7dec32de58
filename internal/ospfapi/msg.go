package ospfapi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
)

// HeaderLen is the length of the message header.
const HeaderLen = 8

// MaxBodyLen is the largest body the 16-bit length field can describe.
const MaxBodyLen = 0xffff

// Header is the header of every OSPF API message (struct apimsghdr), in
// network byte order: version, type, body length (header excluded) and
// sequence number.
type Header struct {
	Version uint8
	Type    MsgType
	Len     uint16 // body length, header excluded
	Seq     uint32
}

// ParseHeader decodes the header at the start of b and checks the version.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, &ProtocolError{Reason: fmt.Sprintf("header truncated (%d of %d bytes)", len(b), HeaderLen)}
	}
	h := Header{
		Version: b[0],
		Type:    MsgType(b[1]),
		Len:     binary.BigEndian.Uint16(b[2:4]),
		Seq:     binary.BigEndian.Uint32(b[4:8]),
	}
	if h.Version != Version {
		return Header{}, &ProtocolError{Reason: fmt.Sprintf(
			"version %d, want %d (header % x: not an OSPF API stream?)", h.Version, Version, b[:HeaderLen])}
	}
	return h, nil
}

// Message is an OSPF API message. The concrete types are the request
// types (*RegisterOpaqueType, *UnregisterOpaqueType, *RegisterEvent,
// *SyncLSDB, *OriginateRequest, *DeleteRequest, *SyncRequest), *Reply,
// the notifications (*ReadyNotify, *LSANotify, *NewIf, *DelIf,
// *ISMChange, *NSMChange, *ReachableChange, *RouterIDChange) and
// *RawMessage for any type this package does not know.
type Message interface {
	// MsgType is the header's message type.
	MsgType() MsgType
	// MsgSeq is the header's sequence number.
	MsgSeq() uint32
	// appendBody appends the body in wire format.
	appendBody(e *encoder)
	// parseBody decodes the body; slices in the message alias b.
	parseBody(b []byte) error
}

// AppendMessage appends m in wire format, header included, to b. It fails
// when a field does not fit the wire format (an IPv6 address, more than 255
// areas, a body over 65,535 bytes); b is then returned unchanged.
func AppendMessage(b []byte, m Message) ([]byte, error) {
	start := len(b)
	e := encoder{b: append(b, Version, byte(m.MsgType()), 0, 0)}
	e.b = binary.BigEndian.AppendUint32(e.b, m.MsgSeq())
	m.appendBody(&e)
	if e.err != nil {
		return b, fmt.Errorf("ospfapi: marshal %s: %w", m.MsgType(), e.err)
	}
	n := len(e.b) - start - HeaderLen
	if n > MaxBodyLen {
		return b, fmt.Errorf("ospfapi: marshal %s: body of %d bytes exceeds %d", m.MsgType(), n, MaxBodyLen)
	}
	binary.BigEndian.PutUint16(e.b[start+2:], uint16(n))
	return e.b, nil
}

// MarshalMessage returns m in wire format, header included.
func MarshalMessage(m Message) ([]byte, error) { return AppendMessage(nil, m) }

// ParseMessage decodes the message at the start of b and returns it with
// the number of bytes it took. Slices in the message alias b. A message of
// an unknown type comes back as *RawMessage; a bad header or a body too
// short for its type is a *ProtocolError; b shorter than the message is
// io.ErrUnexpectedEOF.
func ParseMessage(b []byte) (Message, int, error) {
	h, err := ParseHeader(b)
	if err != nil {
		if len(b) < HeaderLen {
			return nil, 0, io.ErrUnexpectedEOF
		}
		return nil, 0, err
	}
	n := HeaderLen + int(h.Len)
	if len(b) < n {
		return nil, 0, io.ErrUnexpectedEOF
	}
	m, err := parseBody(h, b[HeaderLen:n])
	if err != nil {
		return nil, 0, err
	}
	return m, n, nil
}

// ReadMessage reads one message from r (normally a *bufio.Reader). The
// body is read into buf when it is large enough, into a new slice
// otherwise; slices in the message alias it. It returns io.EOF when r ends
// cleanly between messages and io.ErrUnexpectedEOF when it ends inside one.
func ReadMessage(r io.Reader, buf []byte) (Message, error) {
	var hb [HeaderLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return nil, err
	}
	h, err := ParseHeader(hb[:])
	if err != nil {
		return nil, err
	}
	n := int(h.Len)
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	body := buf[:n]
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return parseBody(h, body)
}

// newMessage returns an empty message of type t, or nil for an unknown type.
func newMessage(t MsgType) Message {
	switch t {
	case MsgRegisterOpaqueType:
		return &RegisterOpaqueType{}
	case MsgUnregisterOpaqueType:
		return &UnregisterOpaqueType{}
	case MsgRegisterEvent:
		return &RegisterEvent{}
	case MsgSyncLSDB:
		return &SyncLSDB{}
	case MsgOriginateRequest:
		return &OriginateRequest{}
	case MsgDeleteRequest:
		return &DeleteRequest{}
	case MsgSyncReachable, MsgSyncISM, MsgSyncNSM, MsgSyncRouterID:
		return &SyncRequest{Kind: t}
	case MsgReply:
		return &Reply{}
	case MsgReadyNotify:
		return &ReadyNotify{}
	case MsgLSAUpdateNotify:
		return &LSANotify{}
	case MsgLSADeleteNotify:
		return &LSANotify{Delete: true}
	case MsgNewIf:
		return &NewIf{}
	case MsgDelIf:
		return &DelIf{}
	case MsgISMChange:
		return &ISMChange{}
	case MsgNSMChange:
		return &NSMChange{}
	case MsgReachableChange:
		return &ReachableChange{}
	case MsgRouterIDChange:
		return &RouterIDChange{}
	}
	return nil
}

// parseBody decodes the body of a message whose header is h.
func parseBody(h Header, body []byte) (Message, error) {
	m := newMessage(h.Type)
	if m == nil {
		return &RawMessage{Type: h.Type, Seq: h.Seq, Body: body}, nil
	}
	if err := m.parseBody(body); err != nil {
		return nil, &ProtocolError{Type: h.Type, Seq: h.Seq, Reason: err.Error()}
	}
	setSeq(m, h.Seq)
	return m, nil
}

// setSeq stores the header's sequence number in m.
func setSeq(m Message, seq uint32) {
	switch m := m.(type) {
	case *RegisterOpaqueType:
		m.Seq = seq
	case *UnregisterOpaqueType:
		m.Seq = seq
	case *RegisterEvent:
		m.Seq = seq
	case *SyncLSDB:
		m.Seq = seq
	case *OriginateRequest:
		m.Seq = seq
	case *DeleteRequest:
		m.Seq = seq
	case *SyncRequest:
		m.Seq = seq
	case *Reply:
		m.Seq = seq
	case *ReadyNotify:
		m.Seq = seq
	case *LSANotify:
		m.Seq = seq
	case *NewIf:
		m.Seq = seq
	case *DelIf:
		m.Seq = seq
	case *ISMChange:
		m.Seq = seq
	case *NSMChange:
		m.Seq = seq
	case *ReachableChange:
		m.Seq = seq
	case *RouterIDChange:
		m.Seq = seq
	}
}

// encoder appends fields and remembers the first value that did not fit.
type encoder struct {
	b   []byte
	err error
}

func (e *encoder) u8(v uint8)   { e.b = append(e.b, v) }
func (e *encoder) u16(v uint16) { e.b = binary.BigEndian.AppendUint16(e.b, v) }
func (e *encoder) u32(v uint32) { e.b = binary.BigEndian.AppendUint32(e.b, v) }
func (e *encoder) pad(n int) {
	for range n {
		e.b = append(e.b, 0)
	}
}

// addr appends an IPv4 address; the zero Addr is written as 0.0.0.0.
func (e *encoder) addr(what string, a netip.Addr) {
	switch {
	case !a.IsValid():
		e.b = append(e.b, 0, 0, 0, 0)
	case a.Is4() || a.Is4In6():
		v := a.Unmap().As4()
		e.b = append(e.b, v[:]...)
	default:
		e.fail("%s %s is not an IPv4 address", what, a)
		e.b = append(e.b, 0, 0, 0, 0)
	}
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf(format, args...)
	}
}

// addr4 reads an IPv4 address; b must hold at least 4 bytes.
func addr4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b[:4])) }

// needLen reports a body shorter than its type's fixed part.
func needLen(b []byte, n int) error {
	if len(b) < n {
		return fmt.Errorf("body of %d bytes shorter than %d", len(b), n)
	}
	return nil
}
