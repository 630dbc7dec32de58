package ospfapitest

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// AreaLSA is an LSA with the area it belongs to (0.0.0.0 for AS-scoped
// LSAs, as ospfd reports them).
type AreaLSA struct {
	Area netip.Addr
	LSA  ospf.LSA
}

// Key identifies an LSA in the fake's database.
type Key struct {
	Area      netip.Addr // 0.0.0.0 for AS-scoped types
	Type      ospf.LSType
	LSID      netip.Addr
	AdvRouter netip.Addr
}

// KeyOf returns the key of l in area (the area is ignored for AS-scoped types).
func KeyOf(area netip.Addr, l ospf.LSA) Key {
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

// LoadDB applies lsas to db as one full dump arriving at now, without a
// server: for tests and benchmarks that need a loaded database. On an
// error the dump is left unfinished.
func LoadDB(db *lsdb.DB, lsas []AreaLSA, now time.Time) error {
	db.BeginSync()
	for _, l := range lsas {
		raw, err := ospf.Marshal(l.LSA)
		if err != nil {
			return fmt.Errorf("encode %s: %w", KeyOf(l.Area, l.LSA), err)
		}
		if err := db.Update(l.Area, raw, now); err != nil {
			return fmt.Errorf("apply %s: %w", KeyOf(l.Area, l.LSA), err)
		}
	}
	db.EndSync()
	return nil
}
