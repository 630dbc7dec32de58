package lsdb

import "net/netip"

// ukey is an LSA's identity inside the database: the public Key and its
// area packed into 16 pointer-free bytes, cheap to hash and invisible to the
// garbage collector. AS-scoped LSAs have area 0.
type ukey struct {
	area, lsid, adv uint32
	typ             LSType
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func keyOf(area netip.Addr, h *Header) ukey {
	k := ukey{lsid: u32(h.LSID), adv: u32(h.AdvRouter), typ: h.Type}
	if !h.Type.ASScoped() && area.Is4() {
		k.area = u32(area)
	}
	return k
}

// Key is the public identity of the LSA.
func (k ukey) Key() Key {
	return Key{Type: k.typ, LSID: addrOf(k.lsid), AdvRouter: addrOf(k.adv)}
}

// slab hands out copies of LSA bytes from large blocks, so that a dump of
// 50,000 LSAs costs a few allocations rather than 50,000.
type slab struct{ block []byte }

const slabBlock = 64 << 10

func (s *slab) copy(b []byte) []byte {
	if len(b) > slabBlock/4 {
		return append([]byte(nil), b...)
	}
	if cap(s.block)-len(s.block) < len(b) {
		s.block = make([]byte, 0, slabBlock)
	}
	n := len(s.block)
	s.block = append(s.block, b...)
	return s.block[n:len(s.block):len(s.block)]
}
