package ospf

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// Fixed body sizes of the decoded LSA types (RFC 2328 A.4.2-A.4.5).
const (
	routerBodyFixed   = 4  // flags, reserved, #links
	RouterLinkLen     = 12 // link ID, link data, type, #TOS, metric
	RouterTOSLen      = 4  // TOS, reserved, metric
	networkBodyFixed  = 4  // mask
	summaryBodyFixed  = 8  // mask, reserved, metric
	summaryTOSLen     = 4  // TOS, metric
	externalBodyFixed = 16 // mask, E bit and metric, forwarding address, tag
	externalTOSLen    = 12 // E bit and TOS, metric, forwarding address, tag
)

// DecodeHeader decodes the 20-byte LSA header at the start of b. It checks
// that the Length field covers at least a header but not that b holds the
// whole LSA, so it also serves for bare headers.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, &DecodeError{
			Offset: len(b),
			Reason: fmt.Sprintf("header truncated (%d of %d bytes)", len(b), HeaderLen),
			Err:    ErrTruncated,
		}
	}
	h := Header{
		Age:       binary.BigEndian.Uint16(b[0:2]),
		Options:   b[2],
		Type:      LSType(b[3]),
		LSID:      addr4(b[4:8]),
		AdvRouter: addr4(b[8:12]),
		SeqNum:    int32(binary.BigEndian.Uint32(b[12:16])),
		Checksum:  binary.BigEndian.Uint16(b[16:18]),
		Length:    binary.BigEndian.Uint16(b[18:20]),
	}
	if h.Length < HeaderLen {
		return Header{}, &DecodeError{
			Key:    h.Key(),
			Offset: 18,
			Reason: fmt.Sprintf("length %d shorter than the header", h.Length),
			Err:    ErrMalformed,
		}
	}
	return h, nil
}

// Decode decodes the LSA at the start of b: exactly as many bytes as its
// Length field says, which b must hold (bytes after it are ignored). It
// verifies the checksum. Types 1, 2, 3, 4, 5 and 7 come back as
// *RouterLSA, *NetworkLSA, *SummaryLSA or *ExternalLSA; any other type as
// *RawLSA. Errors are *DecodeError wrapping ErrTruncated, ErrChecksum or
// ErrMalformed. The result does not refer to b, so b may be reused.
func Decode(b []byte) (LSA, error) {
	var h Header
	lsa, err := frame(b, &h)
	if err != nil {
		return nil, err
	}
	return decodeBody(&h, lsa)
}

// frame reads the header of the LSA at the start of b into h, checks that
// b holds its Length bytes and that its checksum is right, and returns
// those bytes: what Decode and Validate check before the body.
func frame(b []byte, h *Header) ([]byte, error) {
	var err error
	if *h, err = DecodeHeader(b); err != nil {
		return nil, err
	}
	if int(h.Length) > len(b) {
		return nil, &DecodeError{
			Key:    h.Key(),
			Offset: len(b),
			Reason: fmt.Sprintf("length %d exceeds the %d bytes available", h.Length, len(b)),
			Err:    ErrTruncated,
		}
	}
	lsa := b[:h.Length]
	if !VerifyChecksum(lsa) {
		return nil, &DecodeError{
			Key:    h.Key(),
			Offset: checksumOffset,
			Reason: fmt.Sprintf("checksum 0x%04x does not match the content (want 0x%04x)", h.Checksum, Checksum(lsa)),
			Err:    ErrChecksum,
		}
	}
	return lsa, nil
}

// decodeBody decodes the body of lsa, whose header h has been read and
// whose length is exactly h.Length.
func decodeBody(h *Header, lsa []byte) (LSA, error) {
	switch h.Type {
	case RouterLSAType:
		return decodeRouter(h, lsa)
	case NetworkLSAType:
		return decodeNetwork(h, lsa)
	case SummaryLSAType, ASBRSummaryLSAType:
		return decodeSummary(h, lsa)
	case ASExternalLSAType, NSSAExternalLSAType:
		return decodeExternal(h, lsa)
	}
	l := &RawLSA{Header: *h}
	if len(lsa) > HeaderLen {
		l.Body = append([]byte(nil), lsa[HeaderLen:]...)
	}
	return l, nil
}

func decodeRouter(h *Header, lsa []byte) (LSA, error) {
	end := len(lsa)
	if end < HeaderLen+routerBodyFixed {
		return nil, truncated(h, end, "router LSA body (%d of %d bytes)", end-HeaderLen, routerBodyFixed)
	}
	n := int(binary.BigEndian.Uint16(lsa[HeaderLen+2:]))
	if end == HeaderLen+routerBodyFixed+n*RouterLinkLen {
		// The usual case: the length leaves no room for TOS metrics.
		if l := decodeRouterNoTOS(h, lsa, n); l != nil {
			return l, nil
		}
	}
	// First pass: check every length and count TOS metrics, so that all
	// the TOS metrics take one allocation.
	off := HeaderLen + routerBodyFixed
	ntos := 0
	for i := range n {
		if end-off < RouterLinkLen {
			return nil, truncated(h, end, "link %d of %d", i+1, n)
		}
		t := int(lsa[off+9])
		if end-off < RouterLinkLen+t*RouterTOSLen {
			return nil, truncated(h, end, "TOS metrics of link %d of %d", i+1, n)
		}
		off += RouterLinkLen + t*RouterTOSLen
		ntos += t
	}
	if off != end {
		return nil, malformed(h, off, "%d bytes after the last of %d links", end-off, n)
	}

	l := newRouterLSA(n)
	l.Header = *h
	l.Flags = lsa[HeaderLen]
	var tos []TOSMetric
	if ntos > 0 {
		tos = make([]TOSMetric, ntos)
	}
	off = HeaderLen + routerBodyFixed
	for i := range l.Links {
		p := lsa[off : off+RouterLinkLen]
		k := &l.Links[i]
		k.ID = addr4(p[0:4])
		k.Data = addr4(p[4:8])
		k.Type = p[8]
		t := int(p[9])
		k.Metric = binary.BigEndian.Uint16(p[10:12])
		off += RouterLinkLen
		if t > 0 {
			k.TOS, tos = tos[:t:t], tos[t:]
			for j := range k.TOS {
				q := lsa[off : off+RouterTOSLen]
				k.TOS[j] = TOSMetric{TOS: q[0], Metric: binary.BigEndian.Uint16(q[2:4])}
				off += RouterTOSLen
			}
		}
	}
	return l, nil
}

// decodeRouterNoTOS decodes a router LSA whose length is exactly that of
// n links without TOS metrics. It returns nil if a link claims TOS
// metrics after all, which the general path then reports.
func decodeRouterNoTOS(h *Header, lsa []byte, n int) *RouterLSA {
	for off := HeaderLen + routerBodyFixed + 9; off < len(lsa); off += RouterLinkLen {
		if lsa[off] != 0 {
			return nil
		}
	}
	l := newRouterLSA(n)
	l.Header = *h
	l.Flags = lsa[HeaderLen]
	body := lsa[HeaderLen+routerBodyFixed:]
	for i := range l.Links {
		p := body[i*RouterLinkLen : (i+1)*RouterLinkLen]
		l.Links[i] = RouterLink{
			ID:     addr4(p[0:4]),
			Data:   addr4(p[4:8]),
			Type:   p[8],
			Metric: binary.BigEndian.Uint16(p[10:12]),
		}
	}
	return l
}

func decodeNetwork(h *Header, lsa []byte) (LSA, error) {
	end := len(lsa)
	if end < HeaderLen+networkBodyFixed {
		return nil, truncated(h, end, "network mask")
	}
	if (end-HeaderLen)%4 != 0 {
		return nil, malformed(h, end-(end-HeaderLen)%4, "network LSA body of %d bytes is not a multiple of 4", end-HeaderLen)
	}
	l := &NetworkLSA{Header: *h, Mask: addr4(lsa[HeaderLen:])}
	off := HeaderLen + networkBodyFixed
	if n := (end - off) / 4; n > 0 {
		l.Attached = make([]netip.Addr, n)
		for i := range l.Attached {
			l.Attached[i] = addr4(lsa[off : off+4])
			off += 4
		}
	}
	return l, nil
}

func decodeSummary(h *Header, lsa []byte) (LSA, error) {
	end := len(lsa)
	if end < HeaderLen+summaryBodyFixed {
		return nil, truncated(h, end, "summary LSA body (%d of %d bytes)", end-HeaderLen, summaryBodyFixed)
	}
	off := HeaderLen + summaryBodyFixed
	if rest := (end - off) % summaryTOSLen; rest != 0 {
		return nil, truncated(h, end, "TOS entry %d", (end-off)/summaryTOSLen+1)
	}
	l := &SummaryLSA{
		Header: *h,
		Mask:   addr4(lsa[HeaderLen:]),
		Metric: uint24(lsa[HeaderLen+4:]),
	}
	if n := (end - off) / summaryTOSLen; n > 0 {
		l.TOS = make([]TOSRoute, n)
		for i := range l.TOS {
			l.TOS[i] = TOSRoute{TOS: lsa[off], Metric: uint24(lsa[off : off+4])}
			off += summaryTOSLen
		}
	}
	return l, nil
}

func decodeExternal(h *Header, lsa []byte) (LSA, error) {
	end := len(lsa)
	if end < HeaderLen+externalBodyFixed {
		return nil, truncated(h, end, "external LSA body (%d of %d bytes)", end-HeaderLen, externalBodyFixed)
	}
	off := HeaderLen + externalBodyFixed
	if rest := (end - off) % externalTOSLen; rest != 0 {
		return nil, truncated(h, end, "TOS entry %d", (end-off)/externalTOSLen+1)
	}
	p := lsa[HeaderLen:off]
	l := &ExternalLSA{
		Header:  *h,
		Mask:    addr4(p[0:4]),
		Type2:   p[4]&externalEBit != 0,
		Metric:  uint24(p[4:8]),
		Forward: addr4(p[8:12]),
		Tag:     binary.BigEndian.Uint32(p[12:16]),
	}
	if n := (end - off) / externalTOSLen; n > 0 {
		l.TOS = make([]TOSRoute, n)
		for i := range l.TOS {
			q := lsa[off : off+externalTOSLen]
			l.TOS[i] = TOSRoute{
				TOS:     q[0],
				Metric:  uint24(q[0:4]),
				Forward: addr4(q[4:8]),
				Tag:     binary.BigEndian.Uint32(q[8:12]),
			}
			off += externalTOSLen
		}
	}
	return l, nil
}

// addr4 reads an IPv4 address from the first 4 bytes of b.
func addr4(b []byte) netip.Addr {
	_ = b[3]
	return netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
}

// uint24 reads the low 24 bits of the big-endian word at the start of b.
func uint24(b []byte) uint32 {
	_ = b[3]
	return uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func truncated(h *Header, off int, format string, args ...any) error {
	return &DecodeError{Key: h.Key(), Offset: off, Reason: fmt.Sprintf(format, args...) + " truncated", Err: ErrTruncated}
}

func malformed(h *Header, off int, format string, args ...any) error {
	return &DecodeError{Key: h.Key(), Offset: off, Reason: fmt.Sprintf(format, args...), Err: ErrMalformed}
}

// newRouterLSA returns a RouterLSA with n zero links. Up to 16 links, the
// LSA and its links share one allocation: router LSAs are the most
// numerous after externals, and allocation dominates their decoding.
func newRouterLSA(n int) *RouterLSA {
	switch {
	case n == 0:
		return new(RouterLSA)
	case n <= 1:
		p := new(struct {
			l RouterLSA
			a [1]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 2:
		p := new(struct {
			l RouterLSA
			a [2]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 3:
		p := new(struct {
			l RouterLSA
			a [3]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 4:
		p := new(struct {
			l RouterLSA
			a [4]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 5:
		p := new(struct {
			l RouterLSA
			a [5]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 6:
		p := new(struct {
			l RouterLSA
			a [6]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 8:
		p := new(struct {
			l RouterLSA
			a [8]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 12:
		p := new(struct {
			l RouterLSA
			a [12]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	case n <= 16:
		p := new(struct {
			l RouterLSA
			a [16]RouterLink
		})
		p.l.Links = p.a[:n:n]
		return &p.l
	}
	return &RouterLSA{Links: make([]RouterLink, n)}
}
