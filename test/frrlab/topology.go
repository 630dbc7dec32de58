package frrlab

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Areas of the lab.
var (
	Backbone = netip.AddrFrom4([4]byte{0, 0, 0, 0})
	Area1    = netip.AddrFrom4([4]byte{0, 0, 0, 1})
)

// APIPort is the TCP port of ospfd's OSPF API server inside each router's
// namespace.
const APIPort = 2607

const (
	routerCount     = 5
	maxStaticRoutes = 1 << 20 // 100.64.0.0/12 holds them all
	maxExtraStubs   = 65000   // 172.<16+n>.0.0/16
	lanName         = "lan"
	bridgeName      = "br0"
)

// Router is one FRR router of the lab.
type Router struct {
	Name      string     // "r1" .. "r5"
	ID        netip.Addr // router ID, also its loopback address 10.0.0.n
	Namespace string     // network namespace the daemons run in
	Dir       string     // configs, sockets, pid files, logs; vtysh --vty_socket
	Areas     []netip.Addr
}

// APIAddr is the address of the router's OSPF API server as seen from
// inside its namespace: its loopback address, port 2607.
func (r Router) APIAddr() netip.AddrPort { return netip.AddrPortFrom(r.ID, APIPort) }

// LinkKind tells point-to-point links from broadcast LANs.
type LinkKind int

// Link kinds.
const (
	PointToPoint LinkKind = iota + 1
	Broadcast
)

func (k LinkKind) String() string {
	switch k {
	case PointToPoint:
		return "point-to-point"
	case Broadcast:
		return "broadcast"
	}
	return "LinkKind(" + strconv.Itoa(int(k)) + ")"
}

// Link is a network between routers: a veth pair or a LAN on a bridge.
type Link struct {
	Name   string // "r1-r2", "lan"
	Kind   LinkKind
	Area   netip.Addr
	Prefix netip.Prefix
	Ends   []Attachment
}

// Attachment is one router's interface on a link.
type Attachment struct {
	Router    string
	Interface string // interface name inside the router's namespace
	Addr      netip.Addr
	Priority  int // OSPF router priority on broadcast links
}

// Topology is the network a lab builds.
type Topology struct {
	Routers []Router
	Links   []Link
	// DR is the router that is designated router on the LAN.
	DR string
	// Statics are the redistributed static routes per router (r4, r5).
	Statics map[string][]netip.Prefix
	// Stubs are the extra /32 loopback addresses per router (ExtraStubs).
	Stubs map[string][]netip.Prefix
	// NSSA is true when area 0.0.0.1 is an NSSA.
	NSSA bool
	// VirtualLinks are the lab's virtual links: r3-r5 through area
	// 0.0.0.1, unless it is an NSSA (which cannot carry one). The link
	// makes r5 an ABR with a backbone Router-LSA of its own, and sets bit
	// V in both ends' Router-LSAs in the transit area.
	VirtualLinks []VirtualLink
}

// RouteTag is the tag the ASBRs' route-map sets on their redistributed
// static routes (the AS-external and NSSA LSAs' External Route Tag).
const RouteTag = 4242

// VirtualLink is an OSPF virtual link between two ABRs through a transit
// area, part of the backbone.
type VirtualLink struct {
	Transit netip.Addr
	Ends    [2]string // router names
}

// virtualPeers returns the router IDs of the far ends of router's virtual
// links.
func (t *Topology) virtualPeers(router string) []netip.Addr {
	var ids []netip.Addr
	for _, vl := range t.VirtualLinks {
		for i, end := range vl.Ends {
			if end == router {
				r, _ := t.Router(vl.Ends[1-i])
				ids = append(ids, r.ID)
			}
		}
	}
	return ids
}

// ospfAreas returns the areas router takes part in: those of its
// interfaces and, through a virtual link, the backbone.
func (t *Topology) ospfAreas(r Router) []netip.Addr {
	areas := slices.Clone(r.Areas)
	if len(t.virtualPeers(r.Name)) > 0 && !slices.Contains(areas, Backbone) {
		areas = append([]netip.Addr{Backbone}, areas...)
	}
	return areas
}

// Router returns the router called name.
func (t *Topology) Router(name string) (Router, bool) {
	for _, r := range t.Routers {
		if r.Name == name {
			return r, true
		}
	}
	return Router{}, false
}

// Link returns the link called name ("r1-r2", "r2-r3", "r3-r5", "lan").
func (t *Topology) Link(name string) (Link, bool) {
	for _, l := range t.Links {
		if l.Name == name {
			return l, true
		}
	}
	return Link{}, false
}

// Interface returns the name of router's interface on the link called link.
func (t *Topology) Interface(router, link string) (string, bool) {
	l, ok := t.Link(link)
	if !ok {
		return "", false
	}
	for _, a := range l.Ends {
		if a.Router == router {
			return a.Interface, true
		}
	}
	return "", false
}

// routerNumber returns n for "rn" with 1 <= n <= routerCount, else 0.
func routerNumber(name string) int {
	s, ok := strings.CutPrefix(name, "r")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > routerCount || s != strconv.Itoa(n) {
		return 0
	}
	return n
}

func addr4(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

// nthAddr returns base plus n as an IPv4 address.
func nthAddr(base netip.Addr, n int) netip.Addr {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// p2pIf names the interface of a point-to-point link towards peer.
func p2pIf(peer string) string { return "eth-" + peer }

// lanIf names each router's interface on the LAN.
const lanIf = "lan0"

// buildTopology lays out the fixed lab network for opts (with defaults).
func buildTopology(opts Options) *Topology {
	t := &Topology{
		DR:      "r3",
		Statics: map[string][]netip.Prefix{},
		Stubs:   map[string][]netip.Prefix{},
		NSSA:    opts.NSSA,
	}
	for n := 1; n <= routerCount; n++ {
		name := "r" + strconv.Itoa(n)
		areas := []netip.Addr{Backbone}
		switch name {
		case "r3":
			areas = []netip.Addr{Backbone, Area1}
		case "r5":
			areas = []netip.Addr{Area1}
		}
		t.Routers = append(t.Routers, Router{
			Name:      name,
			ID:        addr4(10, 0, 0, byte(n)),
			Namespace: opts.Prefix + "-" + name,
			Dir:       filepath.Join(opts.Dir, name),
			Areas:     areas,
		})
		if k := opts.ExtraStubs[name]; k > 0 {
			base := addr4(172, byte(16+n), 0, 1)
			stubs := make([]netip.Prefix, k)
			for i := range stubs {
				stubs[i] = netip.PrefixFrom(nthAddr(base, i), 32)
			}
			t.Stubs[name] = stubs
		}
	}
	p2p := func(a, b string, area netip.Addr, prefix netip.Prefix) Link {
		return Link{
			Name: a + "-" + b, Kind: PointToPoint, Area: area, Prefix: prefix,
			Ends: []Attachment{
				{Router: a, Interface: p2pIf(b), Addr: prefix.Addr()},
				{Router: b, Interface: p2pIf(a), Addr: nthAddr(prefix.Addr(), 1)},
			},
		}
	}
	t.Links = []Link{
		// A /31 and a /30, so both kinds of point-to-point stub appear.
		p2p("r1", "r2", Backbone, netip.MustParsePrefix("10.1.12.0/31")),
		p2p("r2", "r3", Backbone, netip.MustParsePrefix("10.1.23.1/30")),
		{
			Name: lanName, Kind: Broadcast, Area: Backbone,
			Prefix: netip.MustParsePrefix("10.1.100.0/24"),
			Ends: []Attachment{
				// r3 is the only router with a higher priority than r2,
				// and starts first, so it is always the DR and r2 the BDR;
				// r4 never takes either role.
				{Router: "r2", Interface: lanIf, Addr: addr4(10, 1, 100, 2), Priority: 5},
				{Router: "r3", Interface: lanIf, Addr: addr4(10, 1, 100, 3), Priority: 10},
				{Router: "r4", Interface: lanIf, Addr: addr4(10, 1, 100, 4), Priority: 0},
			},
		},
		p2p("r3", "r5", Area1, netip.MustParsePrefix("10.1.35.1/30")),
	}
	// The /30s above are written with their first host address; store the
	// masked prefix.
	for i := range t.Links {
		t.Links[i].Prefix = t.Links[i].Prefix.Masked()
	}
	r4 := []netip.Prefix{
		netip.MustParsePrefix("192.168.40.0/24"),
		netip.MustParsePrefix("192.168.41.0/24"),
		netip.MustParsePrefix("192.168.42.0/24"),
	}
	base := addr4(100, 64, 0, 0)
	for i := range opts.StaticRoutes {
		r4 = append(r4, netip.PrefixFrom(nthAddr(base, i), 32))
	}
	t.Statics["r4"] = r4
	t.Statics["r5"] = []netip.Prefix{netip.MustParsePrefix("192.168.50.0/24")}
	if !t.NSSA {
		t.VirtualLinks = []VirtualLink{{Transit: Area1, Ends: [2]string{"r3", "r5"}}}
	}
	return t
}

// iface is one of a router's interfaces with the link it is on.
type iface struct {
	Link Link
	At   Attachment
}

// interfaces returns every interface of router, in link order.
func (t *Topology) interfaces(router string) []iface {
	var out []iface
	for _, l := range t.Links {
		for _, a := range l.Ends {
			if a.Router == router {
				out = append(out, iface{Link: l, At: a})
			}
		}
	}
	return out
}

// loopbackArea is the area of router's loopback and extra stubs.
func (t *Topology) loopbackArea(router string) netip.Addr {
	r, _ := t.Router(router)
	if slices.Contains(r.Areas, Backbone) {
		return Backbone
	}
	return r.Areas[0]
}

// neighbors returns the router IDs router must have Full adjacencies with,
// over its interfaces and its virtual links.
func (t *Topology) neighbors(router string) []netip.Addr {
	var ids []netip.Addr
	for _, l := range t.Links {
		if !slices.ContainsFunc(l.Ends, func(a Attachment) bool { return a.Router == router }) {
			continue
		}
		for _, a := range l.Ends {
			if a.Router == router {
				continue
			}
			r, _ := t.Router(a.Router)
			ids = append(ids, r.ID)
		}
	}
	return append(ids, t.virtualPeers(router)...)
}

// namespaces returns every namespace of the lab: the routers' and the LAN's.
func namespaces(prefix string) []string {
	ns := make([]string, 0, routerCount+1)
	for n := 1; n <= routerCount; n++ {
		ns = append(ns, fmt.Sprintf("%s-r%d", prefix, n))
	}
	return append(ns, prefix+"-"+lanName)
}
