package ospf

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Marshal returns the wire form of l, header included. It sets Length and
// Checksum both in the returned bytes and in l.Hdr(); the LS age is written
// as it is.
func Marshal(l LSA) ([]byte, error) {
	return AppendLSA(make([]byte, 0, encodedLen(l)), l)
}

// AppendLSA appends the wire form of l to dst and returns the extended
// slice. Like Marshal it updates l.Hdr().Length and l.Hdr().Checksum.
// On error dst is returned unchanged.
func AppendLSA(dst []byte, l LSA) ([]byte, error) {
	if l == nil {
		return dst, fmt.Errorf("ospf: marshal nil LSA")
	}
	h := l.Hdr()
	if h == nil {
		return dst, fmt.Errorf("ospf: marshal LSA with nil header")
	}
	if err := validate(l); err != nil {
		return dst, err
	}
	start := len(dst)
	b := appendHeader(dst, h)
	b = l.appendBody(b)
	n := len(b) - start
	if n > 0xffff {
		return dst, fmt.Errorf("ospf: marshal %s: %d bytes exceed the 65535-byte LSA limit", h.Key(), n)
	}
	lsa := b[start:]
	binary.BigEndian.PutUint16(lsa[18:20], uint16(n))
	sum := Checksum(lsa)
	binary.BigEndian.PutUint16(lsa[16:18], sum)
	h.Length = uint16(n)
	h.Checksum = sum
	return b, nil
}

// encodedLen is the wire length of l, used only to size buffers.
func encodedLen(l LSA) int {
	switch l := l.(type) {
	case *RouterLSA:
		n := HeaderLen + 4 + 12*len(l.Links)
		for i := range l.Links {
			n += 4 * len(l.Links[i].TOS)
		}
		return n
	case *NetworkLSA:
		return HeaderLen + 4 + 4*len(l.Attached)
	case *SummaryLSA:
		return HeaderLen + 8 + 4*len(l.TOS)
	case *ExternalLSA:
		return HeaderLen + 16 + 12*len(l.TOS)
	case *RawLSA:
		return HeaderLen + len(l.Body)
	}
	return HeaderLen
}

// validate reports values that do not fit their wire fields, so that
// appendBody never has to truncate silently.
func validate(l LSA) error {
	h := l.Hdr()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("ospf: marshal %s: %s", h.Key(), fmt.Sprintf(format, args...))
	}
	if err := checkAddr(h.LSID); err != nil {
		return bad("link state ID: %v", err)
	}
	if err := checkAddr(h.AdvRouter); err != nil {
		return bad("advertising router: %v", err)
	}
	switch l := l.(type) {
	case *RouterLSA:
		if h.Type != RouterLSAType {
			return bad("router LSA with LS type %d", uint8(h.Type))
		}
		if len(l.Links) > 0xffff {
			return bad("%d links exceed 65535", len(l.Links))
		}
		for i := range l.Links {
			k := &l.Links[i]
			if err := checkAddr(k.ID); err != nil {
				return bad("link %d ID: %v", i+1, err)
			}
			if err := checkAddr(k.Data); err != nil {
				return bad("link %d data: %v", i+1, err)
			}
			if len(k.TOS) > 0xff {
				return bad("link %d: %d TOS metrics exceed 255", i+1, len(k.TOS))
			}
		}
	case *NetworkLSA:
		if h.Type != NetworkLSAType {
			return bad("network LSA with LS type %d", uint8(h.Type))
		}
		if err := checkAddr(l.Mask); err != nil {
			return bad("mask: %v", err)
		}
		for i, a := range l.Attached {
			if err := checkAddr(a); err != nil {
				return bad("attached router %d: %v", i+1, err)
			}
		}
	case *SummaryLSA:
		if h.Type != SummaryLSAType && h.Type != ASBRSummaryLSAType {
			return bad("summary LSA with LS type %d", uint8(h.Type))
		}
		if err := checkAddr(l.Mask); err != nil {
			return bad("mask: %v", err)
		}
		if l.Metric > 0xffffff {
			return bad("metric %d exceeds 24 bits", l.Metric)
		}
		for i, t := range l.TOS {
			if t.Metric > 0xffffff {
				return bad("TOS entry %d: metric %d exceeds 24 bits", i+1, t.Metric)
			}
		}
	case *ExternalLSA:
		if h.Type != ASExternalLSAType && h.Type != NSSAExternalLSAType {
			return bad("external LSA with LS type %d", uint8(h.Type))
		}
		if err := checkAddr(l.Mask); err != nil {
			return bad("mask: %v", err)
		}
		if err := checkAddr(l.Forward); err != nil {
			return bad("forwarding address: %v", err)
		}
		if l.Metric > 0xffffff {
			return bad("metric %d exceeds 24 bits", l.Metric)
		}
		for i, t := range l.TOS {
			if t.Metric > 0xffffff {
				return bad("TOS entry %d: metric %d exceeds 24 bits", i+1, t.Metric)
			}
			if err := checkAddr(t.Forward); err != nil {
				return bad("TOS entry %d forwarding address: %v", i+1, err)
			}
		}
	case *RawLSA:
		// Any type may travel raw, a known one included.
	default:
		return bad("unknown LSA implementation %T", l)
	}
	return nil
}

// checkAddr accepts IPv4 (plain or IPv4-mapped) addresses and the zero
// Addr, which is written as 0.0.0.0.
func checkAddr(a netip.Addr) error {
	if !a.IsValid() || a.Is4() || a.Is4In6() {
		return nil
	}
	return fmt.Errorf("%s is not an IPv4 address", a)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return append(b, 0, 0, 0, 0)
	}
	if a.Is6() {
		if !a.Is4In6() {
			return append(b, 0, 0, 0, 0) // rejected by validate; never panic
		}
		a = a.Unmap()
	}
	v := a.As4()
	return append(b, v[0], v[1], v[2], v[3])
}

func appendUint24(b []byte, top uint8, v uint32) []byte {
	return append(b, top, byte(v>>16), byte(v>>8), byte(v))
}

// appendHeader writes the header with Checksum and Length zero; AppendLSA
// fills them in once the body is known.
func appendHeader(b []byte, h *Header) []byte {
	b = binary.BigEndian.AppendUint16(b, h.Age)
	b = append(b, h.Options, byte(h.Type))
	b = appendAddr(b, h.LSID)
	b = appendAddr(b, h.AdvRouter)
	b = binary.BigEndian.AppendUint32(b, uint32(h.SeqNum))
	return append(b, 0, 0, 0, 0)
}

// appendBody writes flags, link count and links (RFC 2328 A.4.2).
func (l *RouterLSA) appendBody(b []byte) []byte {
	b = append(b, l.Flags, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(len(l.Links)))
	for i := range l.Links {
		k := &l.Links[i]
		b = appendAddr(b, k.ID)
		b = appendAddr(b, k.Data)
		b = append(b, k.Type, uint8(len(k.TOS)))
		b = binary.BigEndian.AppendUint16(b, k.Metric)
		for _, t := range k.TOS {
			b = append(b, t.TOS, 0)
			b = binary.BigEndian.AppendUint16(b, t.Metric)
		}
	}
	return b
}

// appendBody writes the mask and attached routers (RFC 2328 A.4.3).
func (l *NetworkLSA) appendBody(b []byte) []byte {
	b = appendAddr(b, l.Mask)
	for _, a := range l.Attached {
		b = appendAddr(b, a)
	}
	return b
}

// appendBody writes mask, metric and TOS entries (RFC 2328 A.4.4).
func (l *SummaryLSA) appendBody(b []byte) []byte {
	b = appendAddr(b, l.Mask)
	b = appendUint24(b, 0, l.Metric)
	for _, t := range l.TOS {
		b = appendUint24(b, t.TOS, t.Metric)
	}
	return b
}

// appendBody writes mask, E bit, metric, forwarding address, tag and TOS
// entries (RFC 2328 A.4.5; RFC 3101 for type 7, same layout).
func (l *ExternalLSA) appendBody(b []byte) []byte {
	b = appendAddr(b, l.Mask)
	var e uint8
	if l.Type2 {
		e = externalEBit
	}
	b = appendUint24(b, e, l.Metric)
	b = appendAddr(b, l.Forward)
	b = binary.BigEndian.AppendUint32(b, l.Tag)
	for _, t := range l.TOS {
		b = appendUint24(b, t.TOS, t.Metric)
		b = appendAddr(b, t.Forward)
		b = binary.BigEndian.AppendUint32(b, t.Tag)
	}
	return b
}

// appendBody writes the body as it was received.
func (l *RawLSA) appendBody(b []byte) []byte { return append(b, l.Body...) }

// externalEBit is the E bit in the first byte of an external metric word.
const externalEBit = 0x80
