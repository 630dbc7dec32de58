package controller

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// DefaultMaxInlineExternals is how many external routes an OSPFRouter's
// status lists unless told otherwise.
const DefaultMaxInlineExternals = 1000

// LSADetails supplies what the seed's snapshot format leaves out: the flag
// bits of Router-LSAs, route tags and designated routers' interface
// addresses. Without it, DesiredState derives the flags from the graph
// (ABR: in more than one area or originating summaries; ASBR: originating
// external or NSSA routes; never VL) and leaves tags and DR addresses out.
type LSADetails interface {
	// RouterFlags returns the flags byte (ospf.RouterFlagB, ...) of router's
	// Router-LSA in area, false when there is none.
	RouterFlags(area, router netip.Addr) (uint8, bool)
	// ExternalTag returns the route tag of router's AS-external route to
	// prefix (area invalid) or of its NSSA route in area.
	ExternalTag(router, area netip.Addr, prefix netip.Prefix) uint32
	// DRAddress returns the designated router's interface address on the
	// transit network prefix of area (the Network-LSA's link-state ID).
	DRAddress(area netip.Addr, prefix netip.Prefix) (netip.Addr, bool)
}

// MapOptions tune DesiredState.
type MapOptions struct {
	// MaxInlineExternals caps the external routes an OSPFRouter lists:
	// 0 means DefaultMaxInlineExternals, a negative value lists none, and
	// no value goes above ospfv1alpha1.MaxInlineExternals.
	MaxInlineExternals int
	// Details, when set, supplies flags, tags and DR addresses.
	Details LSADetails
}

func (o MapOptions) inlineCap() int {
	switch {
	case o.MaxInlineExternals == 0:
		return DefaultMaxInlineExternals
	case o.MaxInlineExternals < 0:
		return 0
	}
	return min(o.MaxInlineExternals, ospfv1alpha1.MaxInlineExternals)
}

// Desired is the set of objects an LSDB snapshot asks for, by object name.
// Their statuses have no LastChange and their conditions no
// LastTransitionTime: those depend on what the cluster held before, and
// the reconciler fills them in.
type Desired struct {
	Routers  map[string]*ospfv1alpha1.OSPFRouter
	Networks map[string]*ospfv1alpha1.OSPFNetwork
	// Skipped lists what the snapshot holds but no object can show: IDs
	// that do not parse, a network prefix in two areas (the lowest area
	// keeps the name), an external route without exactly one metric.
	Skipped []string
}

// RouterName is the name of a router's OSPFRouter: its router ID.
func RouterName(id netip.Addr) string { return id.String() }

// NetworkName is the name of a transit network's OSPFNetwork: its prefix
// with the slash as a dash (10.70.76.0-24).
func NetworkName(p netip.Prefix) string { return strings.Replace(p.String(), "/", "-", 1) }

// AreaLabel is the key of the label an object carries for an area it is in.
func AreaLabel(area netip.Addr) string { return ospfv1alpha1.LabelAreaPrefix + area.String() }

// DesiredState maps an LSDB snapshot to the OSPFRouter and OSPFNetwork
// objects that mirror it, with reachability computed by ShortestPaths from
// self, the agent's own router (invalid when not known yet). It is pure:
// the same arguments always give the same objects.
func DesiredState(snap *lsdb.Snapshot, self netip.Addr, opts MapOptions) *Desired {
	d := &Desired{
		Routers:  map[string]*ospfv1alpha1.OSPFRouter{},
		Networks: map[string]*ospfv1alpha1.OSPFNetwork{},
	}
	if snap == nil {
		return d
	}
	acc := map[netip.Addr]*routerAcc{}
	for _, aid := range sortedAreas(snap, d) {
		a := snap.Areas[aid.key]
		for _, rid := range sortedAddrs(a.Routers, d, "area "+aid.key+": router") {
			r := acc[rid.addr]
			if r == nil {
				r = &routerAcc{id: rid.addr, neighbors: map[netip.Addr]struct{}{}}
				acc[rid.addr] = r
			}
			r.add(aid.addr, a.Routers[rid.key], opts.Details, d)
		}
		for _, p := range sortedPrefixes(a.Networks, d, "area "+aid.key+": network") {
			addNetwork(d, aid.addr, p.prefix, a.Networks[p.key], opts.Details)
		}
	}

	var costs map[netip.Addr]int64
	known := false
	if self.IsValid() {
		costs, known = ShortestPaths(snap, self)
	}
	limit := opts.inlineCap()
	for id, r := range acc {
		st := r.status(opts.Details, limit)
		setReachable(&st, id, self, costs, known)
		d.Routers[RouterName(id)] = &ospfv1alpha1.OSPFRouter{
			ObjectMeta: metav1.ObjectMeta{Name: RouterName(id), Labels: labelsFor(r.areaIDs())},
			Status:     st,
		}
	}
	slices.Sort(d.Skipped)
	return d
}

// routerAcc collects what the areas of a snapshot say about one router.
type routerAcc struct {
	id        netip.Addr
	areas     []ospfv1alpha1.RouterArea
	areaAddrs []netip.Addr
	externals []ospfv1alpha1.ExternalRoute
	neighbors map[netip.Addr]struct{}
	networks  int32
	stubnets  int32
	// linkAreas counts the areas in which the router has Router-LSA links;
	// summaries is set when it originates summary routes.
	linkAreas int
	summaries bool
}

func (r *routerAcc) add(area netip.Addr, rs *lsdb.RouterSnapshot, details LSADetails, d *Desired) {
	if n := len(r.areaAddrs); n > 0 && r.areaAddrs[n-1] == area {
		d.Skipped = append(d.Skipped, fmt.Sprintf("area %s: router %s listed twice", area, r.id))
		return
	}
	ra := ospfv1alpha1.RouterArea{Area: area.String()}
	if rs != nil {
		what := fmt.Sprintf("area %s: router %s", area, r.id)
		L := &rs.Links
		ra.Links.Router = convertLinks(L.Router, parseAddrID, d, what+": router link")
		ra.Links.Network = convertLinks(L.Network, parsePrefixID, d, what+": network link")
		ra.Links.Stubnet = convertLinks(L.Stubnet, parsePrefixID, d, what+": stubnet")
		ra.Links.XNetwork = convertLinks(L.XNetwork, parsePrefixID, d, what+": xnetwork")
		ra.Links.XRouter = convertLinks(L.XRouter, parseAddrID, d, what+": xrouter")
		for _, l := range ra.Links.Router {
			if id, err := netip.ParseAddr(l.ID); err == nil {
				r.neighbors[id] = struct{}{}
			}
		}
		r.networks += int32(len(ra.Links.Network))
		r.stubnets += int32(len(ra.Links.Stubnet))
		if len(ra.Links.Router)+len(ra.Links.Network)+len(ra.Links.Stubnet) > 0 {
			r.linkAreas++
		}
		if len(ra.Links.XNetwork)+len(ra.Links.XRouter) > 0 {
			r.summaries = true
		}
		r.externals = appendExternals(r.externals, L.External, r.id, netip.Addr{}, details, d, what+": external")
		r.externals = appendExternals(r.externals, L.NSSAExt, r.id, area, details, d, what+": nssa-ext")
	}
	r.areas = append(r.areas, ra)
	r.areaAddrs = append(r.areaAddrs, area)
}

func (r *routerAcc) areaIDs() []netip.Addr { return r.areaAddrs }

// status completes the router's status but for reachability.
func (r *routerAcc) status(details LSADetails, limit int) ospfv1alpha1.OSPFRouterStatus {
	derived := ospfv1alpha1.RouterFlags{
		ABR:  r.linkAreas > 1 || r.summaries,
		ASBR: len(r.externals) > 0,
	}
	var union ospfv1alpha1.RouterFlags
	names := make([]string, len(r.areas))
	for i := range r.areas {
		f := derived
		if details != nil {
			if bits, ok := details.RouterFlags(r.areaAddrs[i], r.id); ok {
				f = ospfv1alpha1.RouterFlags{
					ABR:         bits&ospf.RouterFlagB != 0,
					ASBR:        bits&ospf.RouterFlagE != 0,
					VirtualLink: bits&ospf.RouterFlagV != 0,
				}
			}
		}
		r.areas[i].Flags = f
		union.ABR = union.ABR || f.ABR
		union.ASBR = union.ASBR || f.ASBR
		union.VirtualLink = union.VirtualLink || f.VirtualLink
		names[i] = r.areas[i].Area
	}
	var flags []string
	if union.ABR {
		flags = append(flags, "ABR")
	}
	if union.ASBR {
		flags = append(flags, "ASBR")
	}
	if union.VirtualLink {
		flags = append(flags, "VL")
	}
	slices.SortFunc(r.externals, compareExternals)
	st := ospfv1alpha1.OSPFRouterStatus{
		Areas: r.areas,
		Summary: ospfv1alpha1.RouterSummary{
			Areas:     strings.Join(names, ","),
			Flags:     strings.Join(flags, ","),
			Neighbors: int32(len(r.neighbors)),
			Networks:  r.networks,
			Stubnets:  r.stubnets,
			Externals: int32(len(r.externals)),
		},
	}
	if n := len(r.externals); n > 0 && limit > 0 {
		st.Externals = r.externals[:min(n, limit):min(n, limit)]
	}
	st.ExternalsTruncated = len(st.Externals) < len(r.externals)
	return st
}

func setReachable(st *ospfv1alpha1.OSPFRouterStatus, id, self netip.Addr, costs map[netip.Addr]int64, known bool) {
	c := metav1.Condition{Type: ospfv1alpha1.ConditionReachable}
	cost, found := costs[id]
	switch {
	case !self.IsValid():
		c.Status, c.Reason = metav1.ConditionUnknown, ospfv1alpha1.ReasonRootUnknown
		c.Message = "The agent's own router ID is not known yet"
	case !known:
		c.Status, c.Reason = metav1.ConditionUnknown, ospfv1alpha1.ReasonRootUnknown
		c.Message = fmt.Sprintf("The agent's own router %s is not in the LSDB", self)
	case found && id == self:
		c.Status, c.Reason = metav1.ConditionTrue, ospfv1alpha1.ReasonPathFound
		c.Message = "This is the agent's own router"
	case found:
		c.Status, c.Reason = metav1.ConditionTrue, ospfv1alpha1.ReasonPathFound
		c.Message = fmt.Sprintf("Shortest path from %s costs %d", self, cost)
	default:
		c.Status, c.Reason = metav1.ConditionFalse, ospfv1alpha1.ReasonNoPath
		c.Message = fmt.Sprintf("No path from %s: no chain of links that both ends report leads to this router", self)
	}
	if found {
		st.PathCost = &cost
	}
	st.Conditions = []metav1.Condition{c}
}

func addNetwork(d *Desired, area netip.Addr, p netip.Prefix, n *lsdb.NetworkSnapshot, details LSADetails) {
	name := NetworkName(p)
	if n == nil {
		d.Skipped = append(d.Skipped, fmt.Sprintf("area %s: network %s is null", area, p))
		return
	}
	if prev, dup := d.Networks[name]; dup {
		d.Skipped = append(d.Skipped, fmt.Sprintf("area %s: network %s is also in area %s, which keeps the name", area, p, prev.Status.Area))
		return
	}
	st := ospfv1alpha1.OSPFNetworkStatus{Prefix: p.String(), Area: area.String()}
	if dr, err := netip.ParseAddr(n.DR); err == nil && dr.Is4() {
		st.DesignatedRouter = dr.String()
	} else {
		d.Skipped = append(d.Skipped, fmt.Sprintf("area %s: network %s: DR %q", area, p, n.DR))
	}
	if details != nil {
		if a, ok := details.DRAddress(area, p); ok && a.Is4() {
			st.DesignatedRouterAddress = a.String()
		}
	}
	for _, s := range n.Routers {
		if r, err := netip.ParseAddr(s); err == nil && r.Is4() {
			st.Routers = append(st.Routers, r.String())
		} else {
			d.Skipped = append(d.Skipped, fmt.Sprintf("area %s: network %s: router %q", area, p, s))
		}
	}
	st.RouterCount = int32(len(st.Routers))
	d.Networks[name] = &ospfv1alpha1.OSPFNetwork{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labelsFor([]netip.Addr{area})},
		Status:     st,
	}
}

func labelsFor(areas []netip.Addr) map[string]string {
	l := map[string]string{ospfv1alpha1.LabelManagedBy: ospfv1alpha1.ManagedBy}
	for _, a := range areas {
		l[AreaLabel(a)] = ""
	}
	return l
}

// parseAddrID and parsePrefixID canonicalise a link's far end: a router ID,
// or a prefix.
func parseAddrID(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return "", false
	}
	return a.String(), true
}

func parsePrefixID(s string) (string, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return "", false
	}
	return p.String(), true
}

// maxMetric is the largest metric OSPF carries (24 bits).
const maxMetric = 1<<24 - 1

func convertLinks(ls []lsdb.SnapshotLink, parse func(string) (string, bool), d *Desired, what string) []ospfv1alpha1.Link {
	var out []ospfv1alpha1.Link
	for _, l := range ls {
		id, ok := parse(l.ID)
		if !ok || l.Metric > maxMetric {
			d.Skipped = append(d.Skipped, fmt.Sprintf("%s %q metric %d", what, l.ID, l.Metric))
			continue
		}
		out = append(out, ospfv1alpha1.Link{ID: id, Metric: int32(l.Metric)})
	}
	return out
}

func appendExternals(out []ospfv1alpha1.ExternalRoute, xs []lsdb.SnapshotExternal, router, area netip.Addr,
	details LSADetails, d *Desired, what string) []ospfv1alpha1.ExternalRoute {
	for _, x := range xs {
		p, err := netip.ParsePrefix(x.ID)
		ok := err == nil && p.Addr().Is4() && (x.Metric == nil) != (x.Metric2 == nil)
		var via netip.Addr
		if ok && x.Via != "" {
			via, err = netip.ParseAddr(x.Via)
			ok = err == nil && via.Is4()
		}
		metric := x.Metric
		if metric == nil {
			metric = x.Metric2
		}
		if !ok || *metric > maxMetric {
			d.Skipped = append(d.Skipped, fmt.Sprintf("%s %q", what, x.ID))
			continue
		}
		m := int32(*metric)
		e := ospfv1alpha1.ExternalRoute{Prefix: p.String()}
		if x.Metric != nil {
			e.Metric = &m
		} else {
			e.Metric2 = &m
		}
		if via.IsValid() && !via.IsUnspecified() {
			e.ForwardingAddress = via.String()
		}
		if area.IsValid() {
			e.Area = area.String()
		}
		if details != nil {
			e.Tag = int64(details.ExternalTag(router, area, p))
		}
		out = append(out, e)
	}
	return out
}

// compareExternals orders external routes by prefix (address, then
// length), then area, then the rest, so that the inline cut is stable.
func compareExternals(a, b ospfv1alpha1.ExternalRoute) int {
	pa, _ := netip.ParsePrefix(a.Prefix)
	pb, _ := netip.ParsePrefix(b.Prefix)
	aa, _ := netip.ParseAddr(a.Area)
	ab, _ := netip.ParseAddr(b.Area)
	return cmp.Or(
		pa.Addr().Compare(pb.Addr()),
		cmp.Compare(pa.Bits(), pb.Bits()),
		aa.Compare(ab),
		cmp.Compare(deref(a.Metric, -1), deref(b.Metric, -1)),
		cmp.Compare(deref(a.Metric2, -1), deref(b.Metric2, -1)),
		strings.Compare(a.ForwardingAddress, b.ForwardingAddress),
		cmp.Compare(a.Tag, b.Tag),
	)
}

func deref(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

type addrKey struct {
	key  string
	addr netip.Addr
}

type prefixKey struct {
	key    string
	prefix netip.Prefix
}

func sortedAreas(snap *lsdb.Snapshot, d *Desired) []addrKey {
	out := make([]addrKey, 0, len(snap.Areas))
	for k, a := range snap.Areas {
		id, err := netip.ParseAddr(k)
		if err != nil || !id.Is4() || a == nil {
			d.Skipped = append(d.Skipped, fmt.Sprintf("area %q", k))
			continue
		}
		out = append(out, addrKey{k, id})
	}
	slices.SortFunc(out, func(a, b addrKey) int { return a.addr.Compare(b.addr) })
	return out
}

func sortedAddrs[V any](m map[string]V, d *Desired, what string) []addrKey {
	out := make([]addrKey, 0, len(m))
	for k := range m {
		id, err := netip.ParseAddr(k)
		if err != nil || !id.Is4() {
			d.Skipped = append(d.Skipped, fmt.Sprintf("%s %q", what, k))
			continue
		}
		out = append(out, addrKey{k, id})
	}
	slices.SortFunc(out, func(a, b addrKey) int { return cmp.Or(a.addr.Compare(b.addr), strings.Compare(a.key, b.key)) })
	return out
}

func sortedPrefixes[V any](m map[string]V, d *Desired, what string) []prefixKey {
	out := make([]prefixKey, 0, len(m))
	for k := range m {
		p, err := netip.ParsePrefix(k)
		if err != nil || !p.Addr().Is4() {
			d.Skipped = append(d.Skipped, fmt.Sprintf("%s %q", what, k))
			continue
		}
		out = append(out, prefixKey{k, p.Masked()})
	}
	slices.SortFunc(out, func(a, b prefixKey) int {
		return cmp.Or(a.prefix.Addr().Compare(b.prefix.Addr()), cmp.Compare(a.prefix.Bits(), b.prefix.Bits()), strings.Compare(a.key, b.key))
	})
	return out
}
