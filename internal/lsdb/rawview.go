package lsdb

import (
	"encoding/binary"
	"net/netip"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// The database keeps each LSA as its wire bytes (validated by Decode on
// arrival) and reads what the view needs straight from them: no decoded
// copy is retained, so the heap stays small and pointer-free.

// instance is the part of the header that RFC 2328 13.1 compares.
func instance(raw []byte) ospf.Header {
	return ospf.Header{
		Age:      binary.BigEndian.Uint16(raw[0:2]),
		SeqNum:   int32(binary.BigEndian.Uint32(raw[12:16])),
		Checksum: binary.BigEndian.Uint16(raw[16:18]),
	}
}

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// prefixBits masks id with a contiguous mask; a non-contiguous mask is
// treated as a host route.
func prefixBits(id, mask uint32) (uint32, uint8) {
	n := ospf.MaskBits(addrOf(mask))
	if n < 0 {
		return id, 32
	}
	if n == 0 {
		return 0, 0
	}
	return id & (^uint32(0) << (32 - n)), uint8(n)
}

func prefixOfU(id uint32, bits uint8) netip.Prefix {
	return netip.PrefixFrom(addrOf(id), int(bits))
}

// routerLinks iterates the links of a validated Router-LSA.
type routerLinks struct {
	b    []byte
	left int
}

func newRouterLinks(raw []byte) routerLinks {
	return routerLinks{b: raw[ospf.HeaderLen+4:], left: int(binary.BigEndian.Uint16(raw[ospf.HeaderLen+2:]))}
}

// next returns the next link's type, ID, data and TOS 0 metric.
func (it *routerLinks) next() (typ uint8, id, data uint32, metric uint16, ok bool) {
	if it.left == 0 || len(it.b) < ospf.RouterLinkLen {
		return 0, 0, 0, 0, false
	}
	b := it.b
	id, data, typ = be32(b[0:4]), be32(b[4:8]), b[8]
	metric = binary.BigEndian.Uint16(b[10:12])
	skip := ospf.RouterLinkLen + int(b[9])*ospf.RouterTOSLen
	if skip > len(b) {
		skip = len(b)
	}
	it.b = b[skip:]
	it.left--
	return typ, id, data, metric, true
}

// networkPrefix returns a validated Network-LSA's prefix.
func networkPrefix(raw []byte) netip.Prefix {
	id, bits := prefixBits(be32(raw[4:8]), be32(raw[ospf.HeaderLen:]))
	return prefixOfU(id, bits)
}

// networkOf returns a validated Network-LSA's prefix and attached routers.
func networkOf(raw []byte) (netip.Prefix, []netip.Addr) {
	id, bits := prefixBits(be32(raw[4:8]), be32(raw[ospf.HeaderLen:]))
	body := raw[ospf.HeaderLen+4:]
	members := make([]netip.Addr, 0, len(body)/4)
	for ; len(body) >= 4; body = body[4:] {
		members = append(members, addrOf(be32(body)))
	}
	return prefixOfU(id, bits), members
}

// contributionOf is the link a validated summary, ASBR-summary, external
// or NSSA LSA adds to its originator.
func contributionOf(raw []byte) (Link, bool) {
	lsid := be32(raw[4:8])
	mask := be32(raw[ospf.HeaderLen:])
	metric := be32(raw[ospf.HeaderLen+4:]) & 0xffffff
	switch ospf.LSType(raw[3]) {
	case ospf.SummaryLSAType:
		id, bits := prefixBits(lsid, mask)
		return Link{Kind: KindXNetwork, Bits: bits, id: id, Metric: metric}, true
	case ospf.ASBRSummaryLSAType:
		return Link{Kind: KindXRouter, Bits: 32, id: lsid, Metric: metric}, true
	case ospf.ASExternalLSAType, ospf.NSSAExternalLSAType:
		kind := KindExternal
		if ospf.LSType(raw[3]) == ospf.NSSAExternalLSAType {
			kind = KindNSSAExt
		}
		id, bits := prefixBits(lsid, mask)
		return Link{Kind: kind, Bits: bits, id: id, Metric: metric,
			Type2: raw[ospf.HeaderLen+4]&0x80 != 0, via: be32(raw[ospf.HeaderLen+8:])}, true
	}
	return Link{}, false
}
