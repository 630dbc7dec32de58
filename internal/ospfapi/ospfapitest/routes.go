package ospfapitest

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// route is one external, summary or NSSA route of a router.
type route struct {
	prefix netip.Prefix
	metric uint32
	type2  bool
	via    netip.Addr
	kind   ospf.LSType // summary routes only: 3 or 4
}

// routeSet collects routes by advertising router, in the order added.
type routeSet struct {
	order  []netip.Addr
	routes map[netip.Addr][]route
}

func (s *routeSet) add(adv netip.Addr, r route) {
	if s.routes == nil {
		s.routes = map[netip.Addr][]route{}
	}
	if _, ok := s.routes[adv]; !ok {
		s.order = append(s.order, adv)
	}
	if slices.Contains(s.routes[adv], r) {
		return // the same route listed under another area
	}
	s.routes[adv] = append(s.routes[adv], r)
}

func (s *routeSet) addExternal(adv netip.Addr, x lsdb.SnapshotExternal) error {
	p, err := parsePrefix(x.ID)
	if err != nil {
		return fmt.Errorf("external: %w", err)
	}
	r := route{prefix: p}
	switch {
	case x.Metric != nil && x.Metric2 != nil:
		return fmt.Errorf("external %s has both metric and metric2", x.ID)
	case x.Metric != nil:
		r.metric = *x.Metric
	case x.Metric2 != nil:
		r.metric, r.type2 = *x.Metric2, true
	default:
		return fmt.Errorf("external %s has no metric", x.ID)
	}
	if x.Via != "" {
		v, err := netip.ParseAddr(x.Via)
		if err != nil || !v.Is4() {
			return fmt.Errorf("external %s: via %q is not an IPv4 address", x.ID, x.Via)
		}
		r.via = v
	}
	s.add(adv, r)
	return nil
}

// lsas encodes the set: t is ospf.ASExternalLSAType, ospf.NSSAExternalLSAType or
// ospf.SummaryLSAType (the routes then say 3 or 4).
func (s *routeSet) lsas(e *encoderState, t ospf.LSType, area netip.Addr) ([]AreaLSA, error) {
	var out []AreaLSA
	advs := slices.Clone(s.order)
	slices.SortFunc(advs, netip.Addr.Compare)
	for _, adv := range advs {
		rs := s.routes[adv]
		ids, err := appendixE(rs)
		if err != nil {
			return nil, fmt.Errorf("router %s: %w", adv, err)
		}
		for i, r := range rs {
			kind := t
			if t == ospf.SummaryLSAType {
				kind = r.kind
			}
			var l ospf.LSA
			switch kind {
			case ospf.SummaryLSAType:
				l = &ospf.SummaryLSA{Header: e.header(kind, ids[i], adv, optionE), Mask: maskOf(r.prefix.Bits()), Metric: r.metric}
			case ospf.ASBRSummaryLSAType:
				l = &ospf.SummaryLSA{Header: e.header(kind, r.prefix.Addr(), adv, optionE), Mask: zero4, Metric: r.metric}
			default:
				opt := uint8(optionE)
				if kind == ospf.NSSAExternalLSAType {
					opt = optionP
				}
				via := r.via
				if !via.IsValid() {
					via = zero4
				}
				l = &ospf.ExternalLSA{Header: e.header(kind, ids[i], adv, opt), Mask: maskOf(r.prefix.Bits()),
					Type2: r.type2, Metric: r.metric, Forward: via}
			}
			if r.metric > 0xffffff {
				return nil, fmt.Errorf("router %s: %s %s: metric %d exceeds 24 bits", adv, kind, r.prefix, r.metric)
			}
			out = append(out, AreaLSA{Area: area, LSA: l})
		}
	}
	return out, nil
}

// appendixE returns the LSID of each route: its address, or, when routes
// of one router share an address with different masks, the address with
// host bits set for all but the shortest mask (RFC 2328 appendix E).
// Type 4 routes are keyed by router ID and never clash with the others.
func appendixE(rs []route) ([]netip.Addr, error) {
	ids := make([]netip.Addr, len(rs))
	shortest := map[netip.Addr]int{}
	for _, r := range rs {
		if r.kind == ospf.ASBRSummaryLSAType {
			continue
		}
		a := r.prefix.Addr()
		if b, ok := shortest[a]; !ok || r.prefix.Bits() < b {
			shortest[a] = r.prefix.Bits()
		}
	}
	type lsKey struct {
		id   netip.Addr
		kind ospf.LSType
	}
	seen := map[lsKey]netip.Prefix{}
	for i, r := range rs {
		a := r.prefix.Addr()
		id := a
		if r.kind != ospf.ASBRSummaryLSAType && r.prefix.Bits() != shortest[a] {
			id = lastAddr(r.prefix)
		}
		ids[i] = id
		k := lsKey{id, r.kind}
		if q, ok := seen[k]; ok {
			return nil, fmt.Errorf("routes %s and %s need the same LSID %s", q, r.prefix, id)
		}
		seen[k] = r.prefix
	}
	return ids, nil
}
