package stream

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// graph is the graph view a relay rebuilds from an upstream's snapshot
// and the events that follow it: per area, each router's links as a
// multiset and each transit network's members and designated router.
//
// It is as exact as the events are, with two blind spots, both of which
// the next snapshot (the relay takes one on every resync) corrects: a
// router with no link at all (a Router-LSA without links makes no event;
// the graph drops a router whose last link goes), and a change of a
// network's DR that changes no membership (no event carries it).
type graph struct {
	areas map[netip.Addr]*graphArea
}

type graphArea struct {
	routers  map[netip.Addr][]lsdb.Link
	networks map[netip.Prefix]*graphNet
}

type graphNet struct {
	dr      netip.Addr
	members []netip.Addr
}

func newGraph() *graph { return &graph{areas: make(map[netip.Addr]*graphArea)} }

func (g *graph) area(id netip.Addr) *graphArea {
	a := g.areas[id]
	if a == nil {
		a = &graphArea{routers: make(map[netip.Addr][]lsdb.Link), networks: make(map[netip.Prefix]*graphNet)}
		g.areas[id] = a
	}
	return a
}

func (g *graph) dropIfEmpty(id netip.Addr) {
	if a := g.areas[id]; a != nil && len(a.routers) == 0 && len(a.networks) == 0 {
		delete(g.areas, id)
	}
}

// graphFromSnapshot reads a snapshot in the seed's format.
func graphFromSnapshot(s *lsdb.Snapshot) (*graph, error) {
	g := newGraph()
	for aid, as := range s.Areas {
		area, err := netip.ParseAddr(aid)
		if err != nil || !area.Is4() {
			return nil, fmt.Errorf("snapshot: area %q is not a dotted quad", aid)
		}
		a := g.area(area)
		for rid, rs := range as.Routers {
			r, err := netip.ParseAddr(rid)
			if err != nil || !r.Is4() {
				return nil, fmt.Errorf("snapshot: area %s: router %q is not a dotted quad", aid, rid)
			}
			if rs == nil {
				return nil, fmt.Errorf("snapshot: area %s: router %s is null", aid, rid)
			}
			links, err := snapshotLinks(&rs.Links)
			if err != nil {
				return nil, fmt.Errorf("snapshot: area %s: router %s: %w", aid, rid, err)
			}
			a.routers[r] = links
		}
		for pid, ns := range as.Networks {
			p, err := netip.ParsePrefix(pid)
			if err != nil || !p.Addr().Is4() {
				return nil, fmt.Errorf("snapshot: area %s: network %q is not a prefix", aid, pid)
			}
			if ns == nil {
				return nil, fmt.Errorf("snapshot: area %s: network %s is null", aid, pid)
			}
			n := &graphNet{}
			if ns.DR != "" {
				if n.dr, err = netip.ParseAddr(ns.DR); err != nil {
					return nil, fmt.Errorf("snapshot: area %s: network %s: dr %q: %w", aid, pid, ns.DR, err)
				}
			}
			for _, m := range ns.Routers {
				r, err := netip.ParseAddr(m)
				if err != nil {
					return nil, fmt.Errorf("snapshot: area %s: network %s: router %q: %w", aid, pid, m, err)
				}
				n.members = append(n.members, r)
			}
			a.networks[p.Masked()] = n
		}
		g.dropIfEmpty(area)
	}
	return g, nil
}

func snapshotLinks(L *lsdb.Links) ([]lsdb.Link, error) {
	var out []lsdb.Link
	for _, k := range []struct {
		kind  lsdb.LinkKind
		links []lsdb.SnapshotLink
	}{{lsdb.KindRouter, L.Router}, {lsdb.KindNetwork, L.Network}, {lsdb.KindStubnet, L.Stubnet}, {lsdb.KindXNetwork, L.XNetwork}, {lsdb.KindXRouter, L.XRouter}} {
		for _, sl := range k.links {
			l, err := parseLink(k.kind, wireLink{ID: sl.ID, Metric: &sl.Metric})
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
	}
	for _, k := range []struct {
		kind  lsdb.LinkKind
		links []lsdb.SnapshotExternal
	}{{lsdb.KindExternal, L.External}, {lsdb.KindNSSAExt, L.NSSAExt}} {
		for _, x := range k.links {
			l, err := parseLink(k.kind, wireLink{ID: x.ID, Metric: x.Metric, Metric2: x.Metric2, Via: x.Via})
			if err != nil {
				return nil, err
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// errInconsistent is an event that does not fit the graph: the relay
// missed something and must resnapshot.
var errInconsistent = errors.New("event does not fit the relay's view")

// apply applies one event.
func (g *graph) apply(ev *lsdb.Event) error {
	switch ev.Entity {
	case lsdb.EntityRouter:
		a := g.area(ev.Area)
		links := a.routers[ev.Router]
		if ev.Added {
			a.routers[ev.Router] = append(links, ev.Link)
			return nil
		}
		i := slices.Index(links, ev.Link)
		if i < 0 {
			g.dropIfEmpty(ev.Area)
			return fmt.Errorf("%w: router %s has no %s link to %s to remove", errInconsistent, ev.Router, ev.Link.Kind, ev.Link.IDString())
		}
		links = slices.Delete(links, i, i+1)
		if len(links) == 0 {
			delete(a.routers, ev.Router)
		} else {
			a.routers[ev.Router] = links
		}
	case lsdb.EntityNetwork:
		a := g.area(ev.Area)
		n := a.networks[ev.Network]
		if ev.Added {
			if n == nil {
				n = &graphNet{}
				a.networks[ev.Network] = n
			}
			n.members = append(n.members, ev.Member)
			if ev.DR.IsValid() {
				n.dr = ev.DR
			}
			return nil
		}
		i := -1
		if n != nil {
			i = slices.Index(n.members, ev.Member)
		}
		if i < 0 {
			g.dropIfEmpty(ev.Area)
			return fmt.Errorf("%w: network %s has no member %s to remove", errInconsistent, ev.Network, ev.Member)
		}
		n.members = slices.Delete(n.members, i, i+1)
		if ev.DR.IsValid() {
			n.dr = ev.DR
		}
		if len(n.members) == 0 {
			delete(a.networks, ev.Network)
		}
	default:
		return fmt.Errorf("%w: entity type %d", errInconsistent, ev.Entity)
	}
	g.dropIfEmpty(ev.Area)
	return nil
}

// snapshot returns the graph in the seed's snapshot format, stamped
// with now. Routers' links keep the order they came in; routes are
// sorted, as the database sorts them.
func (g *graph) snapshot(now time.Time) *lsdb.Snapshot {
	s := &lsdb.Snapshot{Areas: make(map[string]*lsdb.AreaSnapshot, len(g.areas)), Updated: float64(now.UnixMilli()) / 1000}
	for aid, a := range g.areas {
		as := &lsdb.AreaSnapshot{
			Routers:  make(map[string]*lsdb.RouterSnapshot, len(a.routers)),
			Networks: make(map[string]*lsdb.NetworkSnapshot, len(a.networks)),
		}
		for rid, links := range a.routers {
			as.Routers[rid.String()] = routerSnapshot(links)
		}
		for p, n := range a.networks {
			ns := &lsdb.NetworkSnapshot{Routers: make([]string, len(n.members))}
			if n.dr.IsValid() {
				ns.DR = n.dr.String()
			}
			for i, m := range n.members {
				ns.Routers[i] = m.String()
			}
			as.Networks[p.String()] = ns
		}
		s.Areas[aid.String()] = as
	}
	return s
}

func routerSnapshot(links []lsdb.Link) *lsdb.RouterSnapshot {
	rs := &lsdb.RouterSnapshot{}
	L := &rs.Links
	var routes []lsdb.Link
	for _, l := range links {
		sl := lsdb.SnapshotLink{ID: l.IDString(), Metric: l.Metric}
		switch l.Kind {
		case lsdb.KindRouter:
			L.Router = append(L.Router, sl)
		case lsdb.KindNetwork:
			L.Network = append(L.Network, sl)
		case lsdb.KindStubnet:
			L.Stubnet = append(L.Stubnet, sl)
		default:
			routes = append(routes, l)
		}
	}
	slices.SortFunc(routes, func(a, b lsdb.Link) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), a.ID().Addr().Compare(b.ID().Addr()), cmp.Compare(a.Bits, b.Bits),
			cmp.Compare(b2i(a.Type2), b2i(b.Type2)), cmp.Compare(a.Metric, b.Metric), a.Via().Compare(b.Via()))
	})
	for _, l := range routes {
		switch l.Kind {
		case lsdb.KindXNetwork:
			L.XNetwork = append(L.XNetwork, lsdb.SnapshotLink{ID: l.IDString(), Metric: l.Metric})
		case lsdb.KindXRouter:
			L.XRouter = append(L.XRouter, lsdb.SnapshotLink{ID: l.IDString(), Metric: l.Metric})
		case lsdb.KindExternal:
			L.External = append(L.External, snapshotExternal(l))
		case lsdb.KindNSSAExt:
			L.NSSAExt = append(L.NSSAExt, snapshotExternal(l))
		}
	}
	return rs
}

func snapshotExternal(l lsdb.Link) lsdb.SnapshotExternal {
	x := lsdb.SnapshotExternal{ID: l.IDString()}
	m := l.Metric
	if l.Type2 {
		x.Metric2 = &m
	} else {
		x.Metric = &m
	}
	if v := l.Via(); v.IsValid() {
		x.Via = v.String()
	}
	return x
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// diffGraphs returns the events that take old to new, removals first,
// stamped with now.
func diffGraphs(old, new *graph, now time.Time) []lsdb.Event {
	ts := now.UnixMilli()
	var rm, add []lsdb.Event
	for _, aid := range unionKeys(old.areas, new.areas) {
		oa, na := old.areas[aid], new.areas[aid]
		if oa == nil {
			oa = &graphArea{}
		}
		if na == nil {
			na = &graphArea{}
		}
		for _, r := range unionKeys(oa.routers, na.routers) {
			for _, l := range multisetMinus(oa.routers[r], na.routers[r]) {
				rm = append(rm, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityRouter, Router: r, Link: l})
			}
			for _, l := range multisetMinus(na.routers[r], oa.routers[r]) {
				add = append(add, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityRouter, Router: r, Added: true, Link: l})
			}
		}
		for _, p := range unionKeys(oa.networks, na.networks) {
			var om, nm []netip.Addr
			var dr netip.Addr
			if n := oa.networks[p]; n != nil {
				om = n.members
			}
			if n := na.networks[p]; n != nil {
				nm, dr = n.members, n.dr
			}
			for _, m := range multisetMinus(om, nm) {
				rm = append(rm, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityNetwork, Network: p, Member: m, DR: dr})
			}
			for _, m := range multisetMinus(nm, om) {
				add = append(add, lsdb.Event{Time: ts, Area: aid, Entity: lsdb.EntityNetwork, Network: p, Added: true, Member: m, DR: dr})
			}
		}
	}
	return append(rm, add...)
}

// unionKeys returns the keys of a and b in order.
func unionKeys[K interface {
	comparable
	Compare(K) int
}, V any](a, b map[K]V) []K {
	ks := make([]K, 0, len(a)+len(b))
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	slices.SortFunc(ks, func(x, y K) int { return x.Compare(y) })
	return ks
}

// multisetMinus returns the elements of a not matched one for one by an
// equal element of b.
func multisetMinus[T comparable](a, b []T) []T {
	count := make(map[T]int, len(b))
	for _, y := range b {
		count[y]++
	}
	var out []T
	for _, x := range a {
		if count[x] > 0 {
			count[x]--
			continue
		}
		out = append(out, x)
	}
	return out
}

// wireEnvelope is a /v1/stream message as a client reads it.
type wireEnvelope struct {
	Seq   uint64          `json:"seq"`
	Area  string          `json:"area"`
	DR    string          `json:"dr"`
	Event json.RawMessage `json:"event"`
}

type wireEvent struct {
	Timestamp *int64 `json:"timestamp"`
	Entity    struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"entity"`
	Added   *wireChange `json:"added"`
	Removed *wireChange `json:"removed"`
}

type wireChange struct {
	Link   map[string]wireLink `json:"link"`
	Router string              `json:"router"`
}

type wireLink struct {
	ID      string  `json:"id"`
	Metric  *uint32 `json:"metric"`
	Metric2 *uint32 `json:"metric2"`
	Via     string  `json:"via"`
}

// parseEnvelope reads a /v1/stream message back into the event it
// carries.
func parseEnvelope(p []byte) (lsdb.Event, error) {
	var env wireEnvelope
	if err := json.Unmarshal(p, &env); err != nil {
		return lsdb.Event{}, fmt.Errorf("envelope: %w", err)
	}
	if env.Seq == 0 || len(env.Event) == 0 {
		return lsdb.Event{}, errors.New("envelope: no seq or no event")
	}
	ev, err := parseEvent(env.Event)
	if err != nil {
		return ev, fmt.Errorf("envelope seq %d: %w", env.Seq, err)
	}
	ev.Seq = env.Seq
	ev.Area = netip.IPv4Unspecified()
	if env.Area != "" {
		if ev.Area, err = netip.ParseAddr(env.Area); err != nil || !ev.Area.Is4() {
			return ev, fmt.Errorf("envelope seq %d: area %q is not a dotted quad", env.Seq, env.Area)
		}
	}
	if env.DR != "" {
		if ev.DR, err = netip.ParseAddr(env.DR); err != nil {
			return ev, fmt.Errorf("envelope seq %d: dr %q: %w", env.Seq, env.DR, err)
		}
	}
	return ev, nil
}

// parseEvent reads an event in the seed's format (stream_event.schema.json).
func parseEvent(p []byte) (lsdb.Event, error) {
	var w wireEvent
	if err := json.Unmarshal(p, &w); err != nil {
		return lsdb.Event{}, fmt.Errorf("event: %w", err)
	}
	var ev lsdb.Event
	if w.Timestamp == nil {
		return ev, errors.New("event: no timestamp")
	}
	ev.Time = *w.Timestamp
	ch := w.Added
	ev.Added = true
	if (w.Added == nil) == (w.Removed == nil) {
		return ev, errors.New(`event: want exactly one of "added" and "removed"`)
	}
	if ch == nil {
		ch, ev.Added = w.Removed, false
	}
	var err error
	switch w.Entity.Type {
	case "router":
		ev.Entity = lsdb.EntityRouter
		if ev.Router, err = netip.ParseAddr(w.Entity.ID); err != nil || !ev.Router.Is4() {
			return ev, fmt.Errorf("event: router id %q is not a dotted quad", w.Entity.ID)
		}
		if len(ch.Link) != 1 {
			return ev, fmt.Errorf("event: router %s: want one link, have %d", w.Entity.ID, len(ch.Link))
		}
		for kind, wl := range ch.Link {
			k, ok := linkKind(kind)
			if !ok {
				return ev, fmt.Errorf("event: router %s: unknown link kind %q", w.Entity.ID, kind)
			}
			if ev.Link, err = parseLink(k, wl); err != nil {
				return ev, fmt.Errorf("event: router %s: %w", w.Entity.ID, err)
			}
		}
	case "network":
		ev.Entity = lsdb.EntityNetwork
		if ev.Network, err = netip.ParsePrefix(w.Entity.ID); err != nil || !ev.Network.Addr().Is4() {
			return ev, fmt.Errorf("event: network id %q is not a prefix", w.Entity.ID)
		}
		ev.Network = ev.Network.Masked()
		if ev.Member, err = netip.ParseAddr(ch.Router); err != nil || !ev.Member.Is4() {
			return ev, fmt.Errorf("event: network %s: router %q is not a dotted quad", w.Entity.ID, ch.Router)
		}
	default:
		return ev, fmt.Errorf("event: entity type %q is neither router nor network", w.Entity.Type)
	}
	return ev, nil
}

func linkKind(name string) (lsdb.LinkKind, bool) {
	for k := lsdb.KindRouter; k <= lsdb.KindNSSAExt; k++ {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

// parseLink reads a link object of kind k.
func parseLink(k lsdb.LinkKind, w wireLink) (lsdb.Link, error) {
	var id netip.Prefix
	if k == lsdb.KindRouter || k == lsdb.KindXRouter {
		a, err := netip.ParseAddr(w.ID)
		if err != nil || !a.Is4() {
			return lsdb.Link{}, fmt.Errorf("%s link: id %q is not a dotted quad", k, w.ID)
		}
		id = netip.PrefixFrom(a, 32)
	} else {
		p, err := netip.ParsePrefix(w.ID)
		if err != nil || !p.Addr().Is4() {
			return lsdb.Link{}, fmt.Errorf("%s link: id %q is not a prefix", k, w.ID)
		}
		id = p
	}
	if (w.Metric == nil) == (w.Metric2 == nil) {
		return lsdb.Link{}, fmt.Errorf("%s link %s: want exactly one of metric and metric2", k, w.ID)
	}
	metric, type2 := w.Metric, false
	if metric == nil {
		if k != lsdb.KindExternal && k != lsdb.KindNSSAExt {
			return lsdb.Link{}, fmt.Errorf("%s link %s: metric2 on a link that is not a route", k, w.ID)
		}
		metric, type2 = w.Metric2, true
	}
	var via netip.Addr
	if w.Via != "" {
		v, err := netip.ParseAddr(w.Via)
		if err != nil || !v.Is4() {
			return lsdb.Link{}, fmt.Errorf("%s link %s: via %q is not a dotted quad", k, w.ID, w.Via)
		}
		via = v
	}
	return lsdb.NewLink(k, id, *metric, type2, via), nil
}
