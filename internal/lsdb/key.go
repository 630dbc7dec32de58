package lsdb

import (
	"cmp"
	"net/netip"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// ukey is an LSA's identity inside the database: the public Key and its
// area packed into 16 pointer-free bytes, cheap to hash and invisible to the
// garbage collector. AS-scoped LSAs have area 0. The type takes a whole
// uint32 so that the key has no padding: a key of plain memory is hashed
// and compared as 16 bytes at once rather than field by field.
type ukey struct {
	area, lsid, adv uint32
	t               uint32
}

func (k ukey) typ() ospf.LSType { return ospf.LSType(k.t) }

// compare orders keys by area, type, LSID and advertising router.
func (k ukey) compare(o ukey) int {
	return cmp.Or(cmp.Compare(k.area, o.area), cmp.Compare(k.t, o.t),
		cmp.Compare(k.lsid, o.lsid), cmp.Compare(k.adv, o.adv))
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func keyOf(area netip.Addr, h *ospf.Header) ukey {
	k := ukey{lsid: u32(h.LSID), adv: u32(h.AdvRouter), t: uint32(h.Type)}
	if !h.Type.ASScoped() && area.Is4() {
		k.area = u32(area)
	}
	return k
}

// Key is the public identity of the LSA.
func (k ukey) Key() ospf.Key {
	return ospf.Key{Type: k.typ(), LSID: addrOf(k.lsid), AdvRouter: addrOf(k.adv)}
}

// slab hands out copies of pointer-free values (LSA bytes, links) from
// large blocks, so that a dump of 50,000 LSAs costs a few allocations
// rather than 50,000. Each copy is capped at its length: appending to it
// reallocates rather than overwriting its neighbours.
type slab[T any] struct{ block []T }

// slabBlock is the number of values per block.
const slabBlock = 64 << 10

func (s *slab[T]) copy(b []T, block int) []T {
	if len(b) > block/4 {
		return append([]T(nil), b...)
	}
	if cap(s.block)-len(s.block) < len(b) {
		s.block = make([]T, 0, block)
	}
	n := len(s.block)
	s.block = append(s.block, b...)
	return s.block[n:len(s.block):len(s.block)]
}
