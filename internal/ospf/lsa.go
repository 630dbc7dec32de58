package ospf

import (
	"fmt"
	"net/netip"
)

// LSType is the LS type field of an LSA header (RFC 2328 A.4.1, RFC 3101, RFC 5250).
type LSType uint8

// LS types this package knows by name. Types it does not decode are carried
// as *RawLSA so that they round-trip and can be counted.
const (
	RouterLSAType       LSType = 1
	NetworkLSAType      LSType = 2
	SummaryLSAType      LSType = 3 // type 3, summary-LSA for an IP network
	ASBRSummaryLSAType  LSType = 4
	ASExternalLSAType   LSType = 5
	NSSAExternalLSAType LSType = 7
	OpaqueLinkLSAType   LSType = 9
	OpaqueAreaLSAType   LSType = 10
	OpaqueASLSAType     LSType = 11
)

func (t LSType) String() string {
	switch t {
	case RouterLSAType:
		return "router"
	case NetworkLSAType:
		return "network"
	case SummaryLSAType:
		return "summary"
	case ASBRSummaryLSAType:
		return "asbr-summary"
	case ASExternalLSAType:
		return "as-external"
	case NSSAExternalLSAType:
		return "nssa-external"
	case OpaqueLinkLSAType:
		return "opaque-link"
	case OpaqueAreaLSAType:
		return "opaque-area"
	case OpaqueASLSAType:
		return "opaque-as"
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// ASScoped reports whether LSAs of this type are flooded through the whole
// AS rather than one area (their area ID in the API is meaningless).
func (t LSType) ASScoped() bool { return t == ASExternalLSAType || t == OpaqueASLSAType }

// Architectural constants of RFC 2328 appendix B.
const (
	MaxAge        = 3600   // seconds
	MaxAgeDiff    = 900    // seconds
	DoNotAge      = 0x8000 // RFC 1793 DoNotAge bit of the LS age field
	HeaderLen     = 20
	MaxSeqNum     = int32(0x7fffffff)
	InitialSeqNum = int32(-0x7fffffff) // 0x80000001
)

// Header is the 20-byte LSA header (RFC 2328 A.4.1).
type Header struct {
	Age       uint16 // raw LS age as received; may carry the DoNotAge bit
	Options   uint8
	Type      LSType
	LSID      netip.Addr
	AdvRouter netip.Addr
	SeqNum    int32
	Checksum  uint16
	Length    uint16 // whole LSA, header included
}

// EffectiveAge is the LS age with the DoNotAge bit masked off, capped at MaxAge.
func (h *Header) EffectiveAge() uint16 {
	a := h.Age &^ DoNotAge
	if a > MaxAge {
		a = MaxAge
	}
	return a
}

// IsMaxAge reports whether the LSA is being flushed from the routing domain.
func (h *Header) IsMaxAge() bool { return h.EffectiveAge() >= MaxAge }

// Key identifies an LSA instance in one flooding scope (RFC 2328 12.1).
type Key struct {
	Type      LSType
	LSID      netip.Addr
	AdvRouter netip.Addr
}

// Key returns the LSA's identity without its area.
func (h *Header) Key() Key { return Key{Type: h.Type, LSID: h.LSID, AdvRouter: h.AdvRouter} }

func (k Key) String() string {
	return fmt.Sprintf("%s LSA %s adv %s", k.Type, k.LSID, k.AdvRouter)
}

// LSA is a decoded link-state advertisement. The concrete types are
// *RouterLSA, *NetworkLSA, *SummaryLSA (types 3 and 4), *ExternalLSA
// (types 5 and 7) and *RawLSA (anything else, opaque LSAs included).
type LSA interface {
	Hdr() *Header
	// appendBody appends the body (everything after the header) in wire format.
	appendBody(b []byte) []byte
}

// Router link types (RFC 2328 A.4.2).
const (
	LinkPointToPoint uint8 = 1
	LinkTransit      uint8 = 2
	LinkStub         uint8 = 3
	LinkVirtual      uint8 = 4
)

// Router-LSA flag bits (RFC 2328 A.4.2, RFC 3101 for Nt).
const (
	RouterFlagB  uint8 = 0x01 // area border router
	RouterFlagE  uint8 = 0x02 // AS boundary router
	RouterFlagV  uint8 = 0x04 // virtual link endpoint
	RouterFlagNt uint8 = 0x10 // NSSA translator
)

// RouterLink is one link of a Router-LSA. TOS metrics other than TOS 0 are
// kept only so that the LSA round-trips.
type RouterLink struct {
	ID     netip.Addr // Link ID
	Data   netip.Addr // Link Data (interface address, or mask of a stub network)
	Type   uint8
	Metric uint16
	TOS    []TOSMetric
}

// TOSMetric is an additional TOS metric of a router link (obsolete; RFC 2328 A.4.2).
type TOSMetric struct {
	TOS    uint8
	Metric uint16
}

// RouterLSA is a type 1 LSA.
type RouterLSA struct {
	Header
	Flags uint8
	Links []RouterLink
}

// NetworkLSA is a type 2 LSA, originated by a transit network's DR.
// Its LSID is the DR's interface address.
type NetworkLSA struct {
	Header
	Mask     netip.Addr
	Attached []netip.Addr
}

// SummaryLSA is a type 3 or type 4 LSA. For type 4 the mask is unused (0.0.0.0)
// and the LSID is the router ID of the ASBR.
type SummaryLSA struct {
	Header
	Mask   netip.Addr
	Metric uint32 // 24 bits
	TOS    []TOSRoute
}

// TOSRoute is an additional TOS entry of a summary or external LSA.
type TOSRoute struct {
	TOS     uint8 // for external LSAs the top bit is the E bit
	Metric  uint32
	Forward netip.Addr // external only
	Tag     uint32     // external only
}

// ExternalLSA is a type 5 (AS-external) or type 7 (NSSA) LSA.
type ExternalLSA struct {
	Header
	Mask    netip.Addr
	Type2   bool   // E bit: metric is a type 2 external metric
	Metric  uint32 // 24 bits
	Forward netip.Addr
	Tag     uint32
	TOS     []TOSRoute
}

// RawLSA is an LSA of a type this package does not interpret.
type RawLSA struct {
	Header
	Body []byte
}

var (
	_ LSA = &RouterLSA{}
	_ LSA = &NetworkLSA{}
	_ LSA = &SummaryLSA{}
	_ LSA = &ExternalLSA{}
	_ LSA = &RawLSA{}
)

// Hdr returns the LSA header.
func (l *RouterLSA) Hdr() *Header { return &l.Header }

// Hdr returns the LSA header.
func (l *NetworkLSA) Hdr() *Header { return &l.Header }

// Hdr returns the LSA header.
func (l *SummaryLSA) Hdr() *Header { return &l.Header }

// Hdr returns the LSA header.
func (l *ExternalLSA) Hdr() *Header { return &l.Header }

// Hdr returns the LSA header.
func (l *RawLSA) Hdr() *Header { return &l.Header }

// Prefix is the network an LSA with a mask describes: its LSID masked.
func prefixOf(id, mask netip.Addr) netip.Prefix {
	bits := MaskBits(mask)
	if bits < 0 {
		bits = 32 // non-contiguous mask: treat as host route, never panic
	}
	p, _ := id.Prefix(bits)
	return p
}

// MaskBits returns the prefix length of a contiguous IPv4 mask or -1.
func MaskBits(mask netip.Addr) int {
	if !mask.Is4() {
		return -1
	}
	b := mask.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	if v != 0 {
		return -1
	}
	return n
}

// Prefix returns the network this Network-LSA describes.
func (l *NetworkLSA) Prefix() netip.Prefix { return prefixOf(l.LSID, l.Mask) }

// Prefix returns the destination of a type 3 summary or external LSA.
func (l *SummaryLSA) Prefix() netip.Prefix { return prefixOf(l.LSID, l.Mask) }

// Prefix returns the destination of an AS-external or NSSA LSA.
func (l *ExternalLSA) Prefix() netip.Prefix { return prefixOf(l.LSID, l.Mask) }

// StubPrefix returns the network of a stub link (Link ID masked by Link Data).
func (l *RouterLink) StubPrefix() netip.Prefix { return prefixOf(l.ID, l.Data) }
