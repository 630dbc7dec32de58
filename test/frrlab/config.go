package frrlab

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
)

// Timers of every OSPF interface: fast enough that adjacencies form and
// fail over in seconds. A lost database description or LSA is resent after
// 1 s instead of 5 s.
const (
	helloInterval      = 1
	deadInterval       = 4
	retransmitInterval = 1
)

// zebraConfig is the same for every router: forwarding on, so that traffic
// crosses the lab as it would a real network.
func zebraConfig(r Router) []byte {
	return fmt.Appendf(nil, "frr defaults traditional\nhostname %s\nip forwarding\n!\n", r.Name)
}

// staticdConfig holds the router's static routes, all to Null0.
//
// The routes sit between the markers vtysh itself sends around a boot
// configuration, which make staticd commit them as one transaction: read
// line by line, FRR 8.4 commits every route alone, and 20,000 routes take
// more than a quarter of an hour instead of about 5 s.
func staticdConfig(t *Topology, r Router) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "frr defaults traditional\nhostname %s\n!\nXFRR_start_configuration\n", r.Name)
	for _, p := range t.Statics[r.Name] {
		b.WriteString("ip route ")
		b.WriteString(p.String())
		b.WriteString(" Null0\n")
	}
	b.WriteString("XFRR_end_configuration\n")
	return b.Bytes()
}

// routeMapName is the route-map that tags the redistributed static routes.
const routeMapName = "TAGME"

// ospfdConfig puts every interface of the router into its area with
// per-interface "ip ospf area" commands (no network statements).
func ospfdConfig(t *Topology, r Router) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "frr defaults traditional\nhostname %s\n!\n", r.Name)
	fmt.Fprintf(&b, "interface lo\n ip ospf area %s\nexit\n!\n", t.loopbackArea(r.Name))
	for _, ifc := range t.interfaces(r.Name) {
		fmt.Fprintf(&b, "interface %s\n ip ospf area %s\n", ifc.At.Interface, ifc.Link.Area)
		if ifc.Link.Kind == PointToPoint {
			b.WriteString(" ip ospf network point-to-point\n")
		} else {
			fmt.Fprintf(&b, " ip ospf priority %d\n", ifc.At.Priority)
		}
		fmt.Fprintf(&b, " ip ospf hello-interval %d\n ip ospf dead-interval %d\n ip ospf retransmit-interval %d\nexit\n!\n",
			helloInterval, deadInterval, retransmitInterval)
	}
	fmt.Fprintf(&b, "router ospf\n ospf router-id %s\n", r.ID)
	// Quick SPF and LSA origination, and no MinLSArrival, so that tests see
	// a change flooded within a second rather than after FRR's 5 s limits.
	b.WriteString(" timers throttle spf 0 50 500\n timers throttle lsa all 0\n timers lsa min-arrival 0\n")
	if len(t.Statics[r.Name]) > 0 {
		b.WriteString(" redistribute static route-map " + routeMapName + "\n")
	}
	if t.NSSA && slices.Contains(r.Areas, Area1) {
		fmt.Fprintf(&b, " area %s nssa\n", Area1)
	}
	for _, vl := range t.VirtualLinks {
		for i, end := range vl.Ends {
			if end != r.Name {
				continue
			}
			peer, _ := t.Router(vl.Ends[1-i])
			// The interfaces' timers, so that the link comes up in seconds
			// rather than after FRR's 10 s hellos.
			fmt.Fprintf(&b, " area %s virtual-link %s hello-interval %d retransmit-interval %d dead-interval %d\n",
				vl.Transit, peer.ID, helloInterval, retransmitInterval, deadInterval)
		}
	}
	b.WriteString("exit\n!\n")
	if len(t.Statics[r.Name]) > 0 {
		fmt.Fprintf(&b, "route-map %s permit 10\n set tag %d\nexit\n!\n", routeMapName, RouteTag)
	}
	return b.Bytes()
}

// addressScript is the ip -batch script that sets up router's namespace once
// its interfaces exist: loopback and interface addresses, links up.
func addressScript(t *Topology, r Router) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "address add %s dev lo\n", netip.PrefixFrom(r.ID, 32))
	for _, p := range t.Stubs[r.Name] {
		fmt.Fprintf(&b, "address add %s dev lo\n", p)
	}
	b.WriteString("link set lo up\n")
	for _, ifc := range t.interfaces(r.Name) {
		fmt.Fprintf(&b, "address add %s dev %s\n",
			netip.PrefixFrom(ifc.At.Addr, ifc.Link.Prefix.Bits()), ifc.At.Interface)
		fmt.Fprintf(&b, "link set %s up\n", ifc.At.Interface)
	}
	return b.Bytes()
}
