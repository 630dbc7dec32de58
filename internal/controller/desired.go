package controller

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ospfv1alpha1 "github.com/ospf-operator/ospf-operator/api/v1alpha1"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// DefaultMaxInlineExternals is how many external routes an OSPFRouter's
// status lists unless told otherwise.
const DefaultMaxInlineExternals = 1000

// MapOptions tune DesiredState.
type MapOptions struct {
	// MaxInlineExternals caps the external routes an OSPFRouter lists:
	// 0 means DefaultMaxInlineExternals, a negative value lists none, and
	// no value goes above ospfv1alpha1.MaxInlineExternals.
	MaxInlineExternals int
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

// Desired is the set of objects an LSDB view asks for, by object name.
// Their statuses have no LastChange and their conditions no
// LastTransitionTime: those depend on what the cluster held before, and
// the reconciler fills them in.
type Desired struct {
	Routers  map[string]*ospfv1alpha1.OSPFRouter
	Networks map[string]*ospfv1alpha1.OSPFNetwork
	// Skipped lists what the view holds but no object can show: a
	// network prefix in two areas (the lowest area keeps the name).
	Skipped []string
}

// RouterName is the name of a router's OSPFRouter: its router ID.
func RouterName(id netip.Addr) string { return id.String() }

// NetworkName is the name of a transit network's OSPFNetwork: its prefix
// with the slash as a dash (10.70.76.0-24).
func NetworkName(p netip.Prefix) string { return strings.Replace(p.String(), "/", "-", 1) }

// AreaLabel is the key of the label an object carries for an area it is in.
func AreaLabel(area netip.Addr) string { return ospfv1alpha1.LabelAreaPrefix + area.String() }

// maxTagsShown is how many distinct route tags a router's summary lists.
const maxTagsShown = 8

// DesiredState maps an LSDB view to the OSPFRouter and OSPFNetwork objects
// that mirror it, with reachability computed by ShortestPaths from self,
// the agent's own router (invalid when not known yet). Flags come from the
// bits of each area's Router-LSA, tags, forwarding addresses and NSSA areas
// from the routes' LSAs, a network's DR interface address from its
// Network-LSA. It is pure: the same arguments always give the same objects.
func DesiredState(v *lsdb.View, self netip.Addr, opts MapOptions) *Desired {
	d := &Desired{
		Routers:  map[string]*ospfv1alpha1.OSPFRouter{},
		Networks: map[string]*ospfv1alpha1.OSPFNetwork{},
	}
	if v == nil {
		return d
	}
	acc := map[netip.Addr]*routerAcc{}
	for i := range v.Areas {
		a := &v.Areas[i]
		for j := range a.Routers {
			rv := &a.Routers[j]
			r := acc[rv.ID]
			if r == nil {
				r = &routerAcc{id: rv.ID, neighbors: map[netip.Addr]struct{}{}}
				acc[rv.ID] = r
			}
			r.add(a.ID, rv)
		}
		for j := range a.Networks {
			addNetwork(d, a.ID, &a.Networks[j])
		}
	}

	var costs map[netip.Addr]int64
	known := false
	if self.IsValid() {
		costs, known = ShortestPaths(v, self)
	}
	limit := opts.inlineCap()
	for id, r := range acc {
		st := r.status(limit)
		setReachable(&st, id, self, costs, known)
		d.Routers[RouterName(id)] = &ospfv1alpha1.OSPFRouter{
			ObjectMeta: metav1.ObjectMeta{Name: RouterName(id), Labels: labelsFor(r.areaAddrs)},
			Status:     st,
		}
	}
	slices.Sort(d.Skipped)
	return d
}

// routerAcc collects what the areas of a view say about one router.
type routerAcc struct {
	id        netip.Addr
	areas     []ospfv1alpha1.RouterArea
	areaAddrs []netip.Addr
	flags     ospfv1alpha1.RouterFlags // over all areas
	externals []lsdb.Route
	neighbors map[netip.Addr]struct{}
	networks  int32
	stubnets  int32
}

func (r *routerAcc) add(area netip.Addr, rv *lsdb.RouterView) {
	ra := ospfv1alpha1.RouterArea{Area: area.String()}
	if rv.HasLSA {
		ra.Flags = ospfv1alpha1.RouterFlags{
			ABR:         rv.Flags&ospf.RouterFlagB != 0,
			ASBR:        rv.Flags&ospf.RouterFlagE != 0,
			VirtualLink: rv.Flags&ospf.RouterFlagV != 0,
		}
		r.flags.ABR = r.flags.ABR || ra.Flags.ABR
		r.flags.ASBR = r.flags.ASBR || ra.Flags.ASBR
		r.flags.VirtualLink = r.flags.VirtualLink || ra.Flags.VirtualLink
	}
	L := &ra.Links
	for i := range rv.Links {
		l := &rv.Links[i]
		switch l.Kind {
		case lsdb.KindRouter:
			to := l.ID().Addr()
			L.Router = append(L.Router, ospfv1alpha1.Link{ID: to.String(), Metric: int32(l.Metric)})
			r.neighbors[to] = struct{}{}
		case lsdb.KindNetwork:
			L.Network = append(L.Network, ospfv1alpha1.Link{ID: l.ID().String(), Metric: int32(l.Metric)})
		case lsdb.KindStubnet:
			L.Stubnet = append(L.Stubnet, ospfv1alpha1.Link{ID: l.ID().String(), Metric: int32(l.Metric)})
		}
	}
	for i := range rv.Summaries {
		l := &rv.Summaries[i]
		switch l.Kind {
		case lsdb.KindXNetwork:
			L.XNetwork = append(L.XNetwork, ospfv1alpha1.Link{ID: l.ID().String(), Metric: int32(l.Metric)})
		case lsdb.KindXRouter:
			L.XRouter = append(L.XRouter, ospfv1alpha1.Link{ID: l.ID().Addr().String(), Metric: int32(l.Metric)})
		}
	}
	r.networks += int32(len(L.Network))
	r.stubnets += int32(len(L.Stubnet))
	r.externals = append(r.externals, rv.Externals...)
	r.externals = append(r.externals, rv.NSSA...)
	r.areas = append(r.areas, ra)
	r.areaAddrs = append(r.areaAddrs, area)
}

// status completes the router's status but for reachability.
func (r *routerAcc) status(limit int) ospfv1alpha1.OSPFRouterStatus {
	names := make([]string, len(r.areas))
	for i := range r.areas {
		names[i] = r.areas[i].Area
	}
	var flags []string
	if r.flags.ABR {
		flags = append(flags, "ABR")
	}
	if r.flags.ASBR {
		flags = append(flags, "ASBR")
	}
	if r.flags.VirtualLink {
		flags = append(flags, "VL")
	}
	slices.SortFunc(r.externals, compareExternals)
	st := ospfv1alpha1.OSPFRouterStatus{
		Areas: r.areas,
		Summary: ospfv1alpha1.RouterSummary{
			Areas:     strings.Join(names, ","),
			Flags:     strings.Join(flags, ","),
			Tags:      tagList(r.externals),
			Neighbors: int32(len(r.neighbors)),
			Networks:  r.networks,
			Stubnets:  r.stubnets,
			Externals: int32(len(r.externals)),
		},
	}
	if n := min(len(r.externals), limit); n > 0 {
		st.Externals = make([]ospfv1alpha1.ExternalRoute, n)
		for i, x := range r.externals[:n] {
			st.Externals[i] = externalRoute(x)
		}
	}
	st.ExternalsTruncated = len(st.Externals) < len(r.externals)
	return st
}

// externalRoute is the object's form of an external or NSSA route.
func externalRoute(x lsdb.Route) ospfv1alpha1.ExternalRoute {
	m := int32(x.Metric)
	e := ospfv1alpha1.ExternalRoute{Prefix: x.Prefix.String(), Tag: int64(x.Tag)}
	if x.Type2 {
		e.Metric2 = &m
	} else {
		e.Metric = &m
	}
	if x.Forward.IsValid() && !x.Forward.IsUnspecified() {
		e.ForwardingAddress = x.Forward.String()
	}
	if x.Area.IsValid() {
		e.Area = x.Area.String()
	}
	return e
}

// tagList names the distinct non-zero tags of routes in numeric order, at
// most maxTagsShown of them and then "...".
func tagList(routes []lsdb.Route) string {
	var tags []uint32
	for _, x := range routes {
		if x.Tag != 0 {
			tags = append(tags, x.Tag)
		}
	}
	slices.Sort(tags)
	tags = slices.Compact(tags)
	var b strings.Builder
	for i, t := range tags {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == maxTagsShown {
			b.WriteString("...")
			break
		}
		b.WriteString(strconv.FormatUint(uint64(t), 10))
	}
	return b.String()
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

func addNetwork(d *Desired, area netip.Addr, n *lsdb.NetworkView) {
	name := NetworkName(n.Prefix)
	if prev, dup := d.Networks[name]; dup {
		d.Skipped = append(d.Skipped, fmt.Sprintf("area %s: network %s is also in area %s, which keeps the name", area, n.Prefix, prev.Status.Area))
		return
	}
	st := ospfv1alpha1.OSPFNetworkStatus{
		Prefix:           n.Prefix.String(),
		Area:             area.String(),
		DesignatedRouter: n.DR.String(),
		Routers:          make([]string, len(n.Routers)),
		RouterCount:      int32(len(n.Routers)),
	}
	if n.DRAddr.IsValid() {
		st.DesignatedRouterAddress = n.DRAddr.String()
	}
	for i, r := range n.Routers {
		st.Routers[i] = r.String()
	}
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

// compareExternals orders routes by prefix (address, then length), then
// NSSA area (AS-external routes first), then the rest, so that the inline
// cut is stable.
func compareExternals(a, b lsdb.Route) int {
	return cmp.Or(
		a.Prefix.Addr().Compare(b.Prefix.Addr()),
		cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()),
		a.Area.Compare(b.Area),
		cmpBool(b.Type2, a.Type2), // type 2 first
		cmp.Compare(a.Metric, b.Metric),
		a.Forward.Compare(b.Forward),
		cmp.Compare(a.Tag, b.Tag),
	)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
