package frrlab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Database is an ospfd's link-state database as it reports it itself
// through `show ip ospf database <type> json`, for comparison with ours.
type Database struct {
	RouterID netip.Addr
	Areas    map[netip.Addr]*AreaDatabase
	External []ExternalLSA // AS-external (type 5)
}

// AreaDatabase holds the area-scoped LSAs of one area.
type AreaDatabase struct {
	Router       []RouterLSA
	Network      []NetworkLSA
	Summary      []SummaryLSA // type 3
	ASBRSummary  []SummaryLSA // type 4
	NSSAExternal []ExternalLSA
}

// Count returns the number of LSAs of the area, all types together.
func (a *AreaDatabase) Count() int {
	return len(a.Router) + len(a.Network) + len(a.Summary) + len(a.ASBRSummary) + len(a.NSSAExternal)
}

// LSA types, as in RFC 2328 and RFC 3101.
const (
	TypeRouter       = 1
	TypeNetwork      = 2
	TypeSummary      = 3
	TypeASBRSummary  = 4
	TypeASExternal   = 5
	TypeNSSAExternal = 7
)

// LSAHeader is the part of an LSA header ospfd shows. Age is the current
// age; Options is ospfd's rendering of the options byte ("*|-|-|-|-|-|E|-").
type LSAHeader struct {
	Type      uint8
	Age       uint16
	Options   string
	LSID      netip.Addr
	AdvRouter netip.Addr
	SeqNum    uint32
	Checksum  uint16
	Length    uint16
}

// RouterLinkType is the type of a router-LSA link (RFC 2328 A.4.2).
type RouterLinkType uint8

// Router link types.
const (
	LinkPointToPoint RouterLinkType = 1
	LinkTransit      RouterLinkType = 2
	LinkStub         RouterLinkType = 3
	LinkVirtual      RouterLinkType = 4
)

// RouterLSA is a type 1 LSA.
type RouterLSA struct {
	LSAHeader
	ABR, ASBR, Virtual bool
	Links              []RouterLink
}

// RouterLink is one link of a router-LSA: ID and Data as RFC 2328 defines
// them for its type (neighbour ID and interface address; DR address and
// interface address; network and mask).
type RouterLink struct {
	Type   RouterLinkType
	ID     netip.Addr
	Data   netip.Addr
	Metric uint16
}

// NetworkLSA is a type 2 LSA.
type NetworkLSA struct {
	LSAHeader
	Prefix          netip.Prefix // LSID (the DR's address) with the mask, masked
	AttachedRouters []netip.Addr // in address order (ospfd shows them as an object)
}

// SummaryLSA is a type 3 or type 4 LSA.
type SummaryLSA struct {
	LSAHeader
	Bits   int // mask length; 0 for type 4
	Metric uint32
}

// ExternalLSA is a type 5 or type 7 LSA.
type ExternalLSA struct {
	LSAHeader
	Prefix     netip.Prefix
	MetricType int // 1 or 2
	Metric     uint32
	Forwarding netip.Addr
	Tag        uint32
}

// databaseCommands are the show commands OSPFDatabaseJSON runs, in order,
// in one vtysh session.
var databaseCommands = []string{
	"show ip ospf database router json",
	"show ip ospf database network json",
	"show ip ospf database summary json",
	"show ip ospf database asbr-summary json",
	"show ip ospf database external json",
	"show ip ospf database nssa-external json",
}

// OSPFDatabaseJSON returns router's LSDB as ospfd shows it, from the
// detailed `show ip ospf database <type> json` of each LSA type FRR 8.4
// supports. Lists are in (LSID, advertising router) order.
func (l *Lab) OSPFDatabaseJSON(router string) (*Database, error) {
	out, err := l.Vtysh(router, databaseCommands...)
	if err != nil {
		return nil, err
	}
	db, err := parseDatabase([]byte(out))
	if err != nil {
		return nil, fmt.Errorf("frrlab: database of %s: %w", router, err)
	}
	return db, nil
}

// jsonHeader is the header ospfd puts on every detailed LSA.
type jsonHeader struct {
	LSAAge            int    `json:"lsaAge"`
	Options           string `json:"options"`
	LinkStateID       string `json:"linkStateId"`
	AdvertisingRouter string `json:"advertisingRouter"`
	LSASeqNumber      string `json:"lsaSeqNumber"`
	Checksum          string `json:"checksum"`
	Length            int    `json:"length"`
}

// jsonLSA has the fields of every detailed LSA type; each type fills some.
type jsonLSA struct {
	jsonHeader
	// router
	Flags       int                       `json:"flags"`
	NumOfLinks  int                       `json:"numOfLinks"`
	RouterLinks map[string]jsonRouterLink `json:"routerLinks"`
	// network, summary, external: a mask length
	NetworkMask int `json:"networkMask"`
	// network (sic: FRR 8.4 spells it so)
	AttachedRouters map[string]struct {
		AttachedRouterID string `json:"attachedRouterId"`
	} `json:"attchedRouters"`
	// summary
	Tos0Metric int `json:"tos0Metric"`
	// external, NSSA
	MetricType         string `json:"metricType"`
	Metric             int    `json:"metric"`
	ForwardAddress     string `json:"forwardAddress"`
	NSSAForwardAddress string `json:"nssaForwardAddress"`
	ExternalRouteTag   uint32 `json:"externalRouteTag"`
}

type jsonRouterLink struct {
	LinkType                string `json:"linkType"`
	NeighborRouterID        string `json:"neighborRouterId"`
	DesignatedRouterAddress string `json:"designatedRouterAddress"`
	NetworkAddress          string `json:"networkAddress"`
	NetworkMask             string `json:"networkMask"`
	RouterInterfaceAddress  string `json:"routerInterfaceAddress"`
	Tos0Metric              int    `json:"tos0Metric"`
}

// jsonAreas is the shape of every area-scoped detailed listing:
// {"routerId": ..., "<kind>LinkStates": {"areas": {"0.0.0.0": [...]}}}.
type jsonAreas struct {
	RouterID string                          `json:"routerId"`
	States   map[string]map[string][]jsonLSA `json:"-"`
}

func (j *jsonAreas) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	j.States = map[string]map[string][]jsonLSA{}
	for k, v := range raw {
		if k == "routerId" {
			if err := json.Unmarshal(v, &j.RouterID); err != nil {
				return err
			}
			continue
		}
		var s struct {
			Areas map[string][]jsonLSA `json:"areas"`
		}
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		j.States[k] = s.Areas
	}
	return nil
}

// parseDatabase decodes the outputs of databaseCommands, one JSON value
// after another.
func parseDatabase(out []byte) (*Database, error) {
	dec := json.NewDecoder(bytes.NewReader(out))
	var perType [4]jsonAreas // router, network, summary, asbr-summary
	var ext struct {
		RouterID string    `json:"routerId"`
		States   []jsonLSA `json:"asExternalLinkStates"`
	}
	var nssa jsonAreas
	for i := range 4 {
		if err := dec.Decode(&perType[i]); err != nil {
			return nil, fmt.Errorf("%s: %w", databaseCommands[i], err)
		}
	}
	if err := dec.Decode(&ext); err != nil {
		return nil, fmt.Errorf("%s: %w", databaseCommands[4], err)
	}
	if err := dec.Decode(&nssa); err != nil {
		return nil, fmt.Errorf("%s: %w", databaseCommands[5], err)
	}
	rid, err := netip.ParseAddr(perType[0].RouterID)
	if err != nil {
		return nil, fmt.Errorf("router ID: %w", err)
	}
	db := &Database{RouterID: rid, Areas: map[netip.Addr]*AreaDatabase{}}
	area := func(s string) (*AreaDatabase, error) {
		id, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("area %q: %w", s, err)
		}
		a := db.Areas[id]
		if a == nil {
			a = &AreaDatabase{}
			db.Areas[id] = a
		}
		return a, nil
	}
	kinds := []struct {
		src *jsonAreas
		cmd string
		key string
		typ uint8
		add func(a *AreaDatabase, j jsonLSA, h LSAHeader) error
	}{
		{&perType[0], databaseCommands[0], "routerLinkStates", TypeRouter, func(a *AreaDatabase, j jsonLSA, h LSAHeader) error {
			r, err := routerLSA(j, h)
			a.Router = append(a.Router, r)
			return err
		}},
		{&perType[1], databaseCommands[1], "networkLinkStates", TypeNetwork, func(a *AreaDatabase, j jsonLSA, h LSAHeader) error {
			n, err := networkLSA(j, h)
			a.Network = append(a.Network, n)
			return err
		}},
		{&perType[2], databaseCommands[2], "summaryLinkStates", TypeSummary, func(a *AreaDatabase, j jsonLSA, h LSAHeader) error {
			a.Summary = append(a.Summary, SummaryLSA{LSAHeader: h, Bits: j.NetworkMask, Metric: uint32(j.Tos0Metric)})
			return nil
		}},
		{&perType[3], databaseCommands[3], "asbrSummaryLinkStates", TypeASBRSummary, func(a *AreaDatabase, j jsonLSA, h LSAHeader) error {
			a.ASBRSummary = append(a.ASBRSummary, SummaryLSA{LSAHeader: h, Bits: j.NetworkMask, Metric: uint32(j.Tos0Metric)})
			return nil
		}},
		{&nssa, databaseCommands[5], "nssaExternalLinkStates", TypeNSSAExternal, func(a *AreaDatabase, j jsonLSA, h LSAHeader) error {
			e, err := externalLSA(j, h, j.NSSAForwardAddress)
			a.NSSAExternal = append(a.NSSAExternal, e)
			return err
		}},
	}
	for _, k := range kinds {
		areas, ok := k.src.States[k.key]
		if !ok {
			return nil, fmt.Errorf("%s: no %q", k.cmd, k.key)
		}
		for as, lsas := range areas {
			a, err := area(as)
			if err != nil {
				return nil, err
			}
			for _, j := range lsas {
				h, err := header(j.jsonHeader, k.typ)
				if err != nil {
					return nil, err
				}
				if err := k.add(a, j, h); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, j := range ext.States {
		h, err := header(j.jsonHeader, TypeASExternal)
		if err != nil {
			return nil, err
		}
		e, err := externalLSA(j, h, j.ForwardAddress)
		if err != nil {
			return nil, err
		}
		db.External = append(db.External, e)
	}
	for _, a := range db.Areas {
		sortByKey(a.Router, func(x RouterLSA) LSAHeader { return x.LSAHeader })
		sortByKey(a.Network, func(x NetworkLSA) LSAHeader { return x.LSAHeader })
		sortByKey(a.Summary, func(x SummaryLSA) LSAHeader { return x.LSAHeader })
		sortByKey(a.ASBRSummary, func(x SummaryLSA) LSAHeader { return x.LSAHeader })
		sortByKey(a.NSSAExternal, func(x ExternalLSA) LSAHeader { return x.LSAHeader })
	}
	sortByKey(db.External, func(x ExternalLSA) LSAHeader { return x.LSAHeader })
	return db, nil
}

func sortByKey[T any](s []T, h func(T) LSAHeader) {
	slices.SortFunc(s, func(a, b T) int {
		ha, hb := h(a), h(b)
		if c := ha.LSID.Compare(hb.LSID); c != 0 {
			return c
		}
		return ha.AdvRouter.Compare(hb.AdvRouter)
	})
}

func header(j jsonHeader, typ uint8) (LSAHeader, error) {
	h := LSAHeader{Type: typ, Age: uint16(j.LSAAge), Options: j.Options, Length: uint16(j.Length)}
	var err error
	if h.LSID, err = netip.ParseAddr(j.LinkStateID); err != nil {
		return h, fmt.Errorf("LSA type %d: link state ID: %w", typ, err)
	}
	if h.AdvRouter, err = netip.ParseAddr(j.AdvertisingRouter); err != nil {
		return h, fmt.Errorf("LSA type %d %s: advertising router: %w", typ, h.LSID, err)
	}
	seq, err := strconv.ParseUint(j.LSASeqNumber, 16, 32)
	if err != nil {
		return h, fmt.Errorf("LSA type %d %s: sequence number: %w", typ, h.LSID, err)
	}
	sum, err := strconv.ParseUint(j.Checksum, 16, 16)
	if err != nil {
		return h, fmt.Errorf("LSA type %d %s: checksum: %w", typ, h.LSID, err)
	}
	h.SeqNum, h.Checksum = uint32(seq), uint16(sum)
	return h, nil
}

// routerLinkTypes maps ospfd's link type descriptions to their numbers.
var routerLinkTypes = map[string]RouterLinkType{
	"another Router (point-to-point)": LinkPointToPoint,
	"a Transit Network":               LinkTransit,
	"Stub Network":                    LinkStub,
	"a Virtual Link":                  LinkVirtual,
}

func routerLSA(j jsonLSA, h LSAHeader) (RouterLSA, error) {
	r := RouterLSA{
		LSAHeader: h,
		ABR:       j.Flags&0x1 != 0,
		ASBR:      j.Flags&0x2 != 0,
		Virtual:   j.Flags&0x4 != 0,
		Links:     make([]RouterLink, len(j.RouterLinks)),
	}
	if len(j.RouterLinks) != j.NumOfLinks {
		return r, fmt.Errorf("router LSA %s: %d links shown, numOfLinks %d", h.LSID, len(j.RouterLinks), j.NumOfLinks)
	}
	for key, jl := range j.RouterLinks {
		i, err := strconv.Atoi(strings.TrimPrefix(key, "link"))
		if err != nil || i < 0 || i >= len(r.Links) || !strings.HasPrefix(key, "link") {
			return r, fmt.Errorf("router LSA %s: unexpected link key %q", h.LSID, key)
		}
		t, ok := routerLinkTypes[jl.LinkType]
		if !ok {
			return r, fmt.Errorf("router LSA %s: %s: unknown link type %q", h.LSID, key, jl.LinkType)
		}
		id, data := jl.NeighborRouterID, jl.RouterInterfaceAddress
		switch t {
		case LinkTransit:
			id = jl.DesignatedRouterAddress
		case LinkStub:
			id, data = jl.NetworkAddress, jl.NetworkMask
		}
		link := RouterLink{Type: t, Metric: uint16(jl.Tos0Metric)}
		if link.ID, err = netip.ParseAddr(id); err != nil {
			return r, fmt.Errorf("router LSA %s: %s: link ID: %w", h.LSID, key, err)
		}
		if link.Data, err = netip.ParseAddr(data); err != nil {
			return r, fmt.Errorf("router LSA %s: %s: link data: %w", h.LSID, key, err)
		}
		r.Links[i] = link
	}
	return r, nil
}

func networkLSA(j jsonLSA, h LSAHeader) (NetworkLSA, error) {
	n := NetworkLSA{LSAHeader: h}
	p, err := h.LSID.Prefix(j.NetworkMask)
	if err != nil {
		return n, fmt.Errorf("network LSA %s: mask /%d: %w", h.LSID, j.NetworkMask, err)
	}
	n.Prefix = p
	for _, ar := range j.AttachedRouters {
		a, err := netip.ParseAddr(ar.AttachedRouterID)
		if err != nil {
			return n, fmt.Errorf("network LSA %s: attached router: %w", h.LSID, err)
		}
		n.AttachedRouters = append(n.AttachedRouters, a)
	}
	slices.SortFunc(n.AttachedRouters, netip.Addr.Compare)
	return n, nil
}

func externalLSA(j jsonLSA, h LSAHeader, fwd string) (ExternalLSA, error) {
	e := ExternalLSA{LSAHeader: h, Metric: uint32(j.Metric), Tag: j.ExternalRouteTag, MetricType: 1}
	if strings.HasPrefix(j.MetricType, "E2") {
		e.MetricType = 2
	}
	p, err := h.LSID.Prefix(j.NetworkMask)
	if err != nil {
		return e, fmt.Errorf("external LSA %s: mask /%d: %w", h.LSID, j.NetworkMask, err)
	}
	e.Prefix = p
	if e.Forwarding, err = netip.ParseAddr(fwd); err != nil {
		return e, fmt.Errorf("external LSA %s: forwarding address: %w", h.LSID, err)
	}
	return e, nil
}
