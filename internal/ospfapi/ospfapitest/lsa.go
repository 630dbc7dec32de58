package ospfapitest

import (
	"fmt"
	"net/netip"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// AreaLSA is an LSA with the area it belongs to (0.0.0.0 for AS-scoped
// LSAs, as ospfd reports them).
type AreaLSA struct {
	Area netip.Addr
	LSA  lsdb.LSA
}

// Key identifies an LSA in the fake's database.
type Key struct {
	Area      netip.Addr // 0.0.0.0 for AS-scoped types
	Type      lsdb.LSType
	LSID      netip.Addr
	AdvRouter netip.Addr
}

// KeyOf returns the key of l in area (the area is ignored for AS-scoped types).
func KeyOf(area netip.Addr, l lsdb.LSA) Key {
	h := l.Hdr()
	if h.Type.ASScoped() {
		area = zero4
	}
	return Key{Area: area, Type: h.Type, LSID: h.LSID, AdvRouter: h.AdvRouter}
}

func (k Key) String() string {
	return fmt.Sprintf("%s LSA %s adv %s area %s", k.Type, k.LSID, k.AdvRouter, k.Area)
}

var zero4 = netip.IPv4Unspecified()
