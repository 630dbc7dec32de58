package ospfapitest

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// EncodeOptions tune FromSnapshot.
type EncodeOptions struct {
	// Age is the LS age of every LSA (default 10 s).
	Age uint16
	// SeqNum is the sequence number of every LSA (default
	// ospf.InitialSeqNum, 0x80000001).
	SeqNum int32
}

// Options byte of the LSAs FromSnapshot makes: E (external routing
// capable) in normal areas, N/P for the NSSA-LSAs of NSSA areas.
const (
	optionE = 0x02
	optionP = 0x08
)

// LoadSnapshotFile reads a snapshot-format file (db_snapshot.schema.json)
// and encodes it with FromSnapshot.
func LoadSnapshotFile(path string, opts EncodeOptions) ([]AreaLSA, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s lsdb.Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return FromSnapshot(&s, opts)
}

// FromSnapshot encodes a snapshot as the LSAs of an OSPF database, with
// valid lengths and checksums, in a deterministic order:
//
//   - every router of an area gets a Router-LSA in that area: its router
//     links become point-to-point links (Link Data: the router's ID),
//     its network links transit links (Link ID: the DR's interface
//     address on that network, Link Data: its own), its stubnets stub
//     links (Link ID: the prefix, Link Data: the mask), in the
//     snapshot's order, kind by kind. Flag E is set on routers with
//     external or NSSA routes, B on routers in more than one area or with
//     summary routes;
//   - every network gets a Network-LSA from its DR: LSID the DR's
//     interface address, mask from the prefix, attached routers in the
//     snapshot's order. Interface addresses are invented inside the
//     prefix: a router whose ID lies in the prefix uses it, the others
//     take the lowest free host addresses in the order of the routers
//     list;
//   - every external route becomes an AS-external LSA of its router
//     (metric: type 1, metric2: type 2, via: forwarding address), every
//     xnetwork a type 3 and every xrouter a type 4 summary-LSA, every
//     nssa-ext a type 7 LSA in its area. Routes of one router and type that
//     share an address with different masks get LSIDs with host bits set
//     as in RFC 2328 appendix E (the shortest mask keeps the address).
func FromSnapshot(s *lsdb.Snapshot, opts EncodeOptions) ([]AreaLSA, error) {
	if opts.Age == 0 {
		opts.Age = 10
	}
	if opts.SeqNum == 0 {
		opts.SeqNum = ospf.InitialSeqNum
	}
	e := &encoderState{opts: opts, areasOf: map[netip.Addr]int{}, summaries: map[netip.Addr]bool{}, externals: map[netip.Addr]bool{}}
	areas, err := sortedAddrKeys(s.Areas, "area")
	if err != nil {
		return nil, err
	}
	for _, aid := range areas {
		a := s.Areas[findKey(s.Areas, aid)]
		if a == nil {
			continue
		}
		for rs, r := range a.Routers {
			rid, err := netip.ParseAddr(rs)
			if err != nil || !rid.Is4() {
				return nil, fmt.Errorf("area %s: router %q is not an IPv4 router ID", aid, rs)
			}
			e.areasOf[rid]++
			if r == nil {
				continue
			}
			if len(r.Links.XNetwork) > 0 || len(r.Links.XRouter) > 0 {
				e.summaries[rid] = true
			}
			if len(r.Links.External) > 0 || len(r.Links.NSSAExt) > 0 {
				e.externals[rid] = true
			}
		}
	}
	var out []AreaLSA
	ext := &routeSet{}
	for _, aid := range areas {
		key := findKey(s.Areas, aid)
		lsas, err := e.area(aid, s.Areas[key], ext)
		if err != nil {
			return nil, fmt.Errorf("area %s: %w", aid, err)
		}
		out = append(out, lsas...)
	}
	exts, err := ext.lsas(e, ospf.ASExternalLSAType, zero4)
	if err != nil {
		return nil, err
	}
	out = append(out, exts...)
	for _, al := range out {
		if _, err := ospf.Marshal(al.LSA); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type encoderState struct {
	opts      EncodeOptions
	areasOf   map[netip.Addr]int // number of areas a router is in
	summaries map[netip.Addr]bool
	externals map[netip.Addr]bool
}

func (e *encoderState) header(t ospf.LSType, lsid, adv netip.Addr, options uint8) ospf.Header {
	return ospf.Header{Age: e.opts.Age, Options: options, Type: t, LSID: lsid, AdvRouter: adv, SeqNum: e.opts.SeqNum}
}

// area encodes the routers and networks of one area; its external routes
// go into ext (AS-wide), its summary and NSSA routes are encoded here.
func (e *encoderState) area(aid netip.Addr, a *lsdb.AreaSnapshot, ext *routeSet) ([]AreaLSA, error) {
	if a == nil {
		return nil, nil
	}
	nets, err := sortedPrefixKeys(a.Networks)
	if err != nil {
		return nil, err
	}
	routers, err := sortedAddrKeys(a.Routers, "router")
	if err != nil {
		return nil, err
	}
	// Interface addresses on transit networks.
	ifaddr := map[netip.Prefix]map[netip.Addr]netip.Addr{}
	netInfo := map[netip.Prefix]*lsdb.NetworkSnapshot{}
	for _, p := range nets {
		n := a.Networks[p.key]
		if n == nil {
			return nil, fmt.Errorf("network %s is null", p.key)
		}
		netInfo[p.p] = n
		members := make([]string, 0, len(n.Routers)+1)
		members = append(members, n.Routers...)
		members = append(members, n.DR)
		// Routers with a link to the network that its list does not name.
		for _, r := range routers {
			rs := a.Routers[r.String()]
			if rs == nil {
				continue
			}
			for _, l := range rs.Links.Network {
				if lp, err := parsePrefix(l.ID); err == nil && lp == p.p {
					members = append(members, r.String())
				}
			}
		}
		m, err := assignAddrs(p.p, members)
		if err != nil {
			return nil, fmt.Errorf("network %s: %w", p.p, err)
		}
		ifaddr[p.p] = m
	}

	var out []AreaLSA
	sum := &routeSet{}
	nssa := &routeSet{}
	for _, rid := range routers {
		r := a.Routers[rid.String()]
		rl := &ospf.RouterLSA{Header: e.header(ospf.RouterLSAType, rid, rid, optionE)}
		if e.externals[rid] {
			rl.Flags |= ospf.RouterFlagE
		}
		if e.areasOf[rid] > 1 || e.summaries[rid] {
			rl.Flags |= ospf.RouterFlagB
		}
		if r != nil {
			if err := e.routerLinks(rl, rid, &r.Links, ifaddr, netInfo); err != nil {
				return nil, err
			}
			for _, x := range r.Links.External {
				if err := ext.addExternal(rid, x); err != nil {
					return nil, fmt.Errorf("router %s: %w", rid, err)
				}
			}
			for _, x := range r.Links.NSSAExt {
				if err := nssa.addExternal(rid, x); err != nil {
					return nil, fmt.Errorf("router %s: %w", rid, err)
				}
			}
			for _, x := range r.Links.XNetwork {
				p, err := parsePrefix(x.ID)
				if err != nil {
					return nil, fmt.Errorf("router %s: xnetwork: %w", rid, err)
				}
				sum.add(rid, route{prefix: p, metric: x.Metric, kind: ospf.SummaryLSAType})
			}
			for _, x := range r.Links.XRouter {
				id, err := parseAddrOrHost(x.ID)
				if err != nil {
					return nil, fmt.Errorf("router %s: xrouter: %w", rid, err)
				}
				sum.add(rid, route{prefix: netip.PrefixFrom(id, 32), metric: x.Metric, kind: ospf.ASBRSummaryLSAType})
			}
		}
		out = append(out, AreaLSA{Area: aid, LSA: rl})
	}
	for _, p := range nets {
		n := netInfo[p.p]
		dr, err := netip.ParseAddr(n.DR)
		if err != nil {
			return nil, fmt.Errorf("network %s: DR %q: %w", p.p, n.DR, err)
		}
		nl := &ospf.NetworkLSA{
			Header: e.header(ospf.NetworkLSAType, ifaddr[p.p][dr], dr, optionE),
			Mask:   maskOf(p.p.Bits()),
		}
		for _, rs := range n.Routers {
			r, err := netip.ParseAddr(rs)
			if err != nil {
				return nil, fmt.Errorf("network %s: router %q: %w", p.p, rs, err)
			}
			nl.Attached = append(nl.Attached, r)
		}
		out = append(out, AreaLSA{Area: aid, LSA: nl})
	}
	sums, err := sum.lsas(e, ospf.SummaryLSAType, aid)
	if err != nil {
		return nil, err
	}
	out = append(out, sums...)
	ns, err := nssa.lsas(e, ospf.NSSAExternalLSAType, aid)
	if err != nil {
		return nil, err
	}
	return append(out, ns...), nil
}

// routerLinks fills the links of a Router-LSA, kind by kind.
func (e *encoderState) routerLinks(rl *ospf.RouterLSA, rid netip.Addr, L *lsdb.Links,
	ifaddr map[netip.Prefix]map[netip.Addr]netip.Addr, nets map[netip.Prefix]*lsdb.NetworkSnapshot) error {
	metric := func(kind, id string, m uint32) (uint16, error) {
		if m > 0xffff {
			return 0, fmt.Errorf("router %s: %s link %s: metric %d exceeds 65535", rid, kind, id, m)
		}
		return uint16(m), nil
	}
	for _, l := range L.Router {
		nb, err := netip.ParseAddr(l.ID)
		if err != nil || !nb.Is4() {
			return fmt.Errorf("router %s: router link %q is not a router ID", rid, l.ID)
		}
		m, err := metric("router", l.ID, l.Metric)
		if err != nil {
			return err
		}
		rl.Links = append(rl.Links, ospf.RouterLink{ID: nb, Data: rid, Type: ospf.LinkPointToPoint, Metric: m})
	}
	for _, l := range L.Network {
		p, err := parsePrefix(l.ID)
		if err != nil {
			return fmt.Errorf("router %s: network link: %w", rid, err)
		}
		n := nets[p]
		if n == nil {
			return fmt.Errorf("router %s: network link to %s, which the area does not have", rid, p)
		}
		dr, err := netip.ParseAddr(n.DR)
		if err != nil {
			return fmt.Errorf("network %s: DR %q: %w", p, n.DR, err)
		}
		m, err := metric("network", l.ID, l.Metric)
		if err != nil {
			return err
		}
		rl.Links = append(rl.Links, ospf.RouterLink{ID: ifaddr[p][dr], Data: ifaddr[p][rid], Type: ospf.LinkTransit, Metric: m})
	}
	for _, l := range L.Stubnet {
		p, err := parsePrefix(l.ID)
		if err != nil {
			return fmt.Errorf("router %s: stubnet: %w", rid, err)
		}
		m, err := metric("stubnet", l.ID, l.Metric)
		if err != nil {
			return err
		}
		rl.Links = append(rl.Links, ospf.RouterLink{ID: p.Addr(), Data: maskOf(p.Bits()), Type: ospf.LinkStub, Metric: m})
	}
	return nil
}
