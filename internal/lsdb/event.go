package lsdb

import (
	"net/netip"
	"strconv"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// LinkKind is the kind of a router's link in the graph view, as the seed's
// snapshot and events name it.
type LinkKind uint8

// Link kinds. The last three exist only in multi-area and NSSA networks.
const (
	KindRouter   LinkKind = iota + 1 // point-to-point or virtual link to a router
	KindNetwork                      // transit link to a network, by prefix
	KindStubnet                      // stub network
	KindExternal                     // AS-external route (type 5 LSA) of the router
	KindXNetwork                     // summary route (type 3 LSA) the ABR originates into the area
	KindXRouter                      // ASBR-summary (type 4 LSA)
	KindNSSAExt                      // NSSA route (type 7 LSA)
)

var kindNames = [...]string{"", "router", "network", "stubnet", "external", "xnetwork", "xrouter", "nssa-ext"}

func (k LinkKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "kind-" + strconv.Itoa(int(k))
}

// Link is one edge of a router in the graph view. It is comparable, so
// that it can be counted as a multiset member, and holds no pointers, so
// that the garbage collector never scans the view. What it does not hold
// (LS age, sequence numbers, checksums, route tags, interface addresses)
// never makes an event.
type Link struct {
	Kind LinkKind
	// Bits is the prefix length of the far end (32 for a router ID).
	Bits uint8
	// Type2 is set for external and NSSA routes whose Metric is a type 2 metric.
	Type2  bool
	id     uint32
	via    uint32
	Metric uint32
}

// NewLink returns a link to id (a router ID as a /32 for KindRouter and
// KindXRouter, a network prefix for the others). via is the forwarding
// address of an external or NSSA route, invalid or 0.0.0.0 when none.
func NewLink(kind LinkKind, id netip.Prefix, metric uint32, type2 bool, via netip.Addr) Link {
	l := Link{Kind: kind, Bits: uint8(id.Bits()), Type2: type2, id: u32(id.Masked().Addr()), Metric: metric}
	if via.Is4() {
		l.via = u32(via)
	}
	return l
}

// ID is the far end: a router ID as a /32, or a network prefix.
func (l Link) ID() netip.Prefix { return netip.PrefixFrom(addrOf(l.id), int(l.Bits)) }

// Via is the forwarding address of an external or NSSA route; invalid when none.
func (l Link) Via() netip.Addr {
	if l.via == 0 {
		return netip.Addr{}
	}
	return addrOf(l.via)
}

// IDString is the link's far end as the seed writes it.
func (l *Link) IDString() string {
	if l.Kind == KindRouter || l.Kind == KindXRouter {
		return addrOf(l.id).String()
	}
	return l.ID().String()
}

// EntityType says whether an event is about a router or a network.
type EntityType uint8

// Entity types.
const (
	EntityRouter EntityType = iota + 1
	EntityNetwork
	// EntityRouterState and EntityNetworkState are state records: the
	// whole state of one router or network of an area after a commit
	// (RouterState, NetworkState; nil when it left the area's view). They
	// are for replicas (Replica), which rebuild the exact view from them;
	// the seed's event stream has no such thing and never shows them.
	EntityRouterState
	EntityNetworkState
	// EntityRouteState is the state record of one route of a router: a
	// summary, ASBR-summary, AS-external or NSSA route, named by RouteID.
	// Its RouterState holds the router's ID and just that route (nil when
	// the route left the router's view in that area); a router's own
	// record (EntityRouterState) never carries its routes, so that a
	// change of one of an ASBR's 20,000 externals is one small record.
	EntityRouteState
)

// RouteID names a route of a router in a state record: the LS type of
// the LSA it comes from and its prefix (for an ASBR-summary, the ASBR's
// router ID as a /32). A router originates one LSA per route, so this is
// unique but for a moment after ospfd changes how it assigns link-state
// IDs: two LSAs of one router for the same route then show in a Replica
// as one until the older is flushed.
type RouteID struct {
	Type   ospf.LSType
	Prefix netip.Prefix
}

// routeIDOf names the route that link l of an LSA of type t is.
func routeIDOf(t ospf.LSType, l Link) RouteID { return RouteID{Type: t, Prefix: l.ID()} }

func (t EntityType) String() string {
	switch t {
	case EntityNetwork:
		return "network"
	case EntityRouterState:
		return "router-state"
	case EntityNetworkState:
		return "network-state"
	case EntityRouteState:
		return "route-state"
	}
	return "router"
}

// Event is one change of the graph view: a link of a router added or
// removed, or a router attached to or detached from a network.
type Event struct {
	// Seq numbers events from 1 in the order the database emitted them.
	Seq uint64
	// Time is when the change was originated, in milliseconds since the
	// epoch: the LSA's arrival minus its LS age, or the withdrawal's arrival.
	Time int64
	// Area is the area of the change (0.0.0.0 for the backbone). The seed's
	// event format has no area; it is here for consumers that need it.
	Area   netip.Addr
	Entity EntityType
	// Router is the entity of a router event.
	Router netip.Addr
	// Network is the entity of a network event.
	Network netip.Prefix
	Added   bool
	// Link is what a router event adds or removes.
	Link Link
	// Member is the router a network event attaches or detaches.
	Member netip.Addr
	// DR is, for a network event, the network's designated router after
	// the change; invalid when the network left the view. The seed's
	// event format has no DR; it is here for consumers that rebuild the
	// snapshot from events (a relay).
	DR netip.Addr
	// RouterState and NetworkState are the state a state record carries.
	RouterState  *RouterView
	NetworkState *NetworkView
	// RouteID names the route of a route record.
	RouteID RouteID
}

// IsState reports whether the event is a state record rather than one of
// the seed's events.
func (e *Event) IsState() bool {
	return e.Entity == EntityRouterState || e.Entity == EntityNetworkState || e.Entity == EntityRouteState
}

// EntityID is the event's entity as the seed writes it.
func (e *Event) EntityID() string {
	if e.Entity == EntityNetwork {
		return e.Network.String()
	}
	return e.Router.String()
}
