package frrlab

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Neighbor is one OSPF adjacency of a router, from
// `show ip ospf neighbor json`.
type Neighbor struct {
	RouterID  netip.Addr
	Address   netip.Addr // the neighbour's interface address
	Interface string     // our interface ("eth-r2", "lan0")
	State     string     // "Full", "2-Way", "Init", ...
	Role      string     // the neighbour's role on the link: "DR", "Backup", "DROther"
	Priority  int
}

// Full reports whether the adjacency is Full.
func (n Neighbor) Full() bool { return n.State == "Full" }

type jsonNeighbor struct {
	NbrPriority  int    `json:"nbrPriority"`
	NbrState     string `json:"nbrState"`
	Role         string `json:"role"`
	IfaceAddress string `json:"ifaceAddress"`
	IfaceName    string `json:"ifaceName"`
}

type jsonNeighbors struct {
	Neighbors map[string][]jsonNeighbor `json:"neighbors"`
}

// Neighbors returns router's adjacencies, in router ID order.
func (l *Lab) Neighbors(router string) ([]Neighbor, error) {
	var j jsonNeighbors
	if err := l.VtyshJSON(router, "show ip ospf neighbor json", &j); err != nil {
		return nil, err
	}
	ns, err := j.neighbors()
	if err != nil {
		return nil, fmt.Errorf("frrlab: neighbors of %s: %w", router, err)
	}
	return ns, nil
}

func (j jsonNeighbors) neighbors() ([]Neighbor, error) {
	var out []Neighbor
	for id, list := range j.Neighbors {
		rid, err := netip.ParseAddr(id)
		if err != nil {
			return nil, fmt.Errorf("neighbor %q: %w", id, err)
		}
		for _, jn := range list {
			addr, err := netip.ParseAddr(jn.IfaceAddress)
			if err != nil {
				return nil, fmt.Errorf("neighbor %s: address: %w", id, err)
			}
			state, _, _ := strings.Cut(jn.NbrState, "/")
			ifname, _, _ := strings.Cut(jn.IfaceName, ":")
			out = append(out, Neighbor{
				RouterID: rid, Address: addr, Interface: ifname,
				State: state, Role: jn.Role, Priority: jn.NbrPriority,
			})
		}
	}
	slices.SortFunc(out, func(a, b Neighbor) int {
		if c := a.RouterID.Compare(b.RouterID); c != 0 {
			return c
		}
		return a.Address.Compare(b.Address)
	})
	return out, nil
}

// jsonInstance is the part of `show ip ospf json` used to follow
// convergence: LSA counts and checksum sums per area.
type jsonInstance struct {
	RouterID            string `json:"routerId"`
	LSAExternalCounter  int    `json:"lsaExternalCounter"`
	LSAExternalChecksum int64  `json:"lsaExternalChecksum"`
	Areas               map[string]struct {
		NbrFullAdjacentCounter int   `json:"nbrFullAdjacentCounter"`
		LSANumber              int   `json:"lsaNumber"`
		LSARouterNumber        int   `json:"lsaRouterNumber"`
		LSARouterChecksum      int64 `json:"lsaRouterChecksum"`
		LSANetworkNumber       int   `json:"lsaNetworkNumber"`
		LSANetworkChecksum     int64 `json:"lsaNetworkChecksum"`
		LSASummaryNumber       int   `json:"lsaSummaryNumber"`
		LSASummaryChecksum     int64 `json:"lsaSummaryChecksum"`
		LSAAsbrNumber          int   `json:"lsaAsbrNumber"`
		LSAAsbrChecksum        int64 `json:"lsaAsbrChecksum"`
		LSANssaNumber          int   `json:"lsaNssaNumber"`
		LSANssaChecksum        int64 `json:"lsaNssaChecksum"`
	} `json:"areas"`
}
