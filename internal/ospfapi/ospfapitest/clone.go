package ospfapitest

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// MaxClones is the largest n Clone accepts: the clone number goes into the
// first octet of every address.
const MaxClones = 256

// CloneAddr maps an address of the original database into clone k (0 is
// the original): its first octet is XORed with k. 0.0.0.0 stays as it is
// (it means "none" in a forwarding address or a default route).
func CloneAddr(a netip.Addr, k int) netip.Addr {
	if !a.IsValid() || a == zero4 || k == 0 {
		return a
	}
	b := a.As4()
	b[0] ^= byte(k)
	return netip.AddrFrom4(b)
}

// Clone returns n copies of a database in disjoint address space, clone 0
// being the original, for scale tests: every address of clone k (router
// IDs, LSIDs, link IDs and data, attached routers, forwarding addresses,
// prefixes) goes through CloneAddr(a, k), which keeps prefixes aligned
// for masks of /8 and longer. Prefixes shorter than /8 (default routes)
// cannot move and are copied unchanged; their LSAs still differ by
// advertising router. Areas are shared: the clones are disconnected
// islands of the same areas. Clone checks that no mapped address of one
// clone is an address of another and fails otherwise. LSAs are marshalled
// again, so checksums are valid.
func Clone(lsas []AreaLSA, n int) ([]AreaLSA, error) {
	if n < 1 || n > MaxClones {
		return nil, fmt.Errorf("ospfapitest: %d clones, want 1 to %d", n, MaxClones)
	}
	owner := map[netip.Addr]int{}
	out := make([]AreaLSA, 0, len(lsas)*n)
	for k := range n {
		cm := cloneMap{k: k, owner: owner}
		for _, al := range lsas {
			l, err := cm.lsa(al.LSA)
			if err != nil {
				return nil, err
			}
			if cm.err != nil {
				return nil, cm.err
			}
			if _, err := ospf.Marshal(l); err != nil {
				return nil, err
			}
			out = append(out, AreaLSA{Area: al.Area, LSA: l})
		}
	}
	return out, nil
}

// cloneMap maps the addresses of clone k and records which clone each
// mapped address belongs to.
type cloneMap struct {
	k     int
	owner map[netip.Addr]int
	err   error
}

func (m *cloneMap) addr(a netip.Addr) netip.Addr {
	if !a.IsValid() || a == zero4 {
		return a
	}
	b := CloneAddr(a, m.k)
	if o, ok := m.owner[b]; ok && o != m.k && m.err == nil {
		m.err = fmt.Errorf("ospfapitest: clone %d maps %s to %s, an address of clone %d", m.k, a, b, o)
	}
	m.owner[b] = m.k
	return b
}

// prefixAddr maps the address of a prefix of length bits, which moves only
// when the first octet is inside the prefix.
func (m *cloneMap) prefixAddr(a netip.Addr, bits int) netip.Addr {
	if bits < 8 {
		return a
	}
	return m.addr(a)
}

func (m *cloneMap) lsa(l ospf.LSA) (ospf.LSA, error) {
	switch l := l.(type) {
	case *ospf.RouterLSA:
		c := *l
		c.Header = m.header(l.Header)
		c.Links = slices.Clone(l.Links)
		for i := range c.Links {
			k := &c.Links[i]
			k.TOS = slices.Clone(k.TOS)
			if k.Type == ospf.LinkStub {
				k.ID = m.prefixAddr(k.ID, maskLen(k.Data))
				continue
			}
			k.ID, k.Data = m.addr(k.ID), m.addr(k.Data)
		}
		return &c, nil
	case *ospf.NetworkLSA:
		if maskLen(l.Mask) < 8 {
			return nil, fmt.Errorf("ospfapitest: cannot clone network LSA %s with a mask shorter than /8", l.LSID)
		}
		c := *l
		c.Header = m.header(l.Header)
		c.Attached = make([]netip.Addr, len(l.Attached))
		for i, a := range l.Attached {
			c.Attached[i] = m.addr(a)
		}
		return &c, nil
	case *ospf.SummaryLSA:
		c := *l
		c.Header = m.header(l.Header)
		if l.Type == ospf.SummaryLSAType {
			c.LSID = m.prefixAddr(l.LSID, maskLen(l.Mask))
		}
		c.TOS = slices.Clone(l.TOS)
		return &c, nil
	case *ospf.ExternalLSA:
		c := *l
		c.Header = m.header(l.Header)
		c.LSID = m.prefixAddr(l.LSID, maskLen(l.Mask))
		c.Forward = m.addr(l.Forward)
		c.TOS = slices.Clone(l.TOS)
		for i := range c.TOS {
			c.TOS[i].Forward = m.addr(c.TOS[i].Forward)
		}
		return &c, nil
	case *ospf.RawLSA:
		c := *l
		c.Header = m.header(l.Header)
		c.Body = slices.Clone(l.Body)
		return &c, nil
	}
	return nil, fmt.Errorf("ospfapitest: cannot clone %T", l)
}

// header maps the advertising router and the LSID when it is a router ID
// or an interface address (types 1, 2 and 4); the callers map prefixes.
func (m *cloneMap) header(h ospf.Header) ospf.Header {
	switch h.Type {
	case ospf.RouterLSAType, ospf.NetworkLSAType, ospf.ASBRSummaryLSAType:
		h.LSID = m.addr(h.LSID)
	}
	h.AdvRouter = m.addr(h.AdvRouter)
	return h
}

// maskLen is the number of leading one bits of a mask.
func maskLen(mask netip.Addr) int {
	if !mask.Is4() {
		return 0
	}
	v := u32(mask)
	n := 0
	for v&0x80000000 != 0 {
		n++
		v <<= 1
	}
	return n
}
