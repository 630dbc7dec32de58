package lsdb

import (
	"net/netip"
)

// The graph view is what the snapshot shows and what events describe:
// per area, routers with their links by kind and transit networks keyed by
// prefix. It is maintained incrementally: each LSA that enters, changes or
// leaves the view recomputes only what depends on it, and the difference
// between before and after becomes events.

// area is the view of one OSPF area.
type area struct {
	id       netip.Addr
	routers  map[netip.Addr]*routerNode
	networks map[netip.Prefix]*netNode
	// Network-LSAs in the view by LSID (the DR's interface address) and by prefix.
	netByLSID   map[netip.Addr][]*entry
	netByPrefix map[netip.Prefix][]*entry
	// routers whose Router-LSA has transit links: their network links
	// depend on the area's Network-LSAs.
	transit map[netip.Addr]struct{}
}

// routerNode is one router of an area.
type routerNode struct {
	lsa   *entry          // its Router-LSA, nil if none in the view
	links []Link          // links from the Router-LSA, transit links resolved to prefixes
	ext   map[Key]Link    // AS-external routes, when published under this area
	sum   map[Key]Link    // summary, ASBR-summary and NSSA routes it originates into the area
	flags uint8           // Router-LSA flags (B, E, V, Nt)
}

func (n *routerNode) empty() bool {
	return n.lsa == nil && len(n.links) == 0 && len(n.ext) == 0 && len(n.sum) == 0
}

// netNode is a transit network: the Network-LSA chosen for its prefix.
type netNode struct {
	chosen  *entry
	dr      netip.Addr
	members []netip.Addr
}

func (db *DB) area(id netip.Addr) *area {
	a := db.areas[id]
	if a == nil {
		a = &area{
			id:          id,
			routers:     make(map[netip.Addr]*routerNode),
			networks:    make(map[netip.Prefix]*netNode),
			netByLSID:   make(map[netip.Addr][]*entry),
			netByPrefix: make(map[netip.Prefix][]*entry),
			transit:     make(map[netip.Addr]struct{}),
		}
		db.areas[id] = a
	}
	return a
}

func (a *area) router(id netip.Addr) *routerNode {
	n := a.routers[id]
	if n == nil {
		n = &routerNode{}
		a.routers[id] = n
	}
	return n
}

func (db *DB) dropIfEmpty(a *area, id netip.Addr) {
	if n := a.routers[id]; n != nil && n.empty() {
		delete(a.routers, id)
	}
	if len(a.routers) == 0 && len(a.networks) == 0 && len(a.netByLSID) == 0 {
		delete(db.areas, a.id)
	}
}

// applyView moves e's contribution to the view from e.view to want (nil:
// none), emitting the differences with timestamp ts.
func (db *DB) applyView(e *entry, want LSA, wantRaw []byte, ts int64) {
	old := e.view
	e.view, e.viewRaw = want, wantRaw
	switch e.sk.Type {
	case RouterLSAType:
		db.applyRouterLSA(e, ts)
	case NetworkLSAType:
		db.applyNetworkLSA(e, old, ts)
	case SummaryLSAType, ASBRSummaryLSAType, NSSAExternalLSAType:
		a := db.area(e.sk.Area)
		n := a.router(e.sk.AdvRouter)
		db.replaceContribution(a, e.sk.AdvRouter, &n.sum, e.sk.Key, want, ts)
		db.dropIfEmpty(a, e.sk.AdvRouter)
	case ASExternalLSAType:
		adv := e.sk.AdvRouter
		m := db.extByAdv[adv]
		if want != nil {
			if m == nil {
				m = make(map[Key]*entry)
				db.extByAdv[adv] = m
				db.placement[adv] = db.placementOf(adv)
			}
			m[e.sk.Key] = e
		}
		a := db.area(db.placement[adv])
		n := a.router(adv)
		db.replaceContribution(a, adv, &n.ext, e.sk.Key, want, ts)
		if want == nil && m != nil {
			delete(m, e.sk.Key)
			if len(m) == 0 {
				delete(db.extByAdv, adv)
				delete(db.placement, adv)
			}
		}
		db.dropIfEmpty(a, adv)
	}
}

// contribution is the link one summary, external or NSSA LSA adds to its
// originator.
func contribution(l LSA) (Link, bool) {
	switch l := l.(type) {
	case *SummaryLSA:
		if l.Type == ASBRSummaryLSAType {
			return Link{Kind: KindXRouter, ID: netip.PrefixFrom(l.LSID, 32), Metric: l.Metric}, true
		}
		return Link{Kind: KindXNetwork, ID: l.Prefix(), Metric: l.Metric}, true
	case *ExternalLSA:
		k := KindExternal
		if l.Type == NSSAExternalLSAType {
			k = KindNSSAExt
		}
		lk := Link{Kind: k, ID: l.Prefix(), Metric: l.Metric, Type2: l.Type2}
		if l.Forward.IsValid() && !l.Forward.IsUnspecified() {
			lk.Via = l.Forward
		}
		return lk, true
	}
	return Link{}, false
}

// replaceContribution replaces the link key contributes to a router.
func (db *DB) replaceContribution(a *area, router netip.Addr, m *map[Key]Link, key Key, want LSA, ts int64) {
	oldLink, had := (*m)[key]
	var newLink Link
	has := false
	if want != nil {
		newLink, has = contribution(want)
	}
	if had && has && oldLink == newLink {
		return
	}
	if had {
		delete(*m, key)
		db.emit(Event{Time: ts, Area: a.id, Entity: EntityRouter, Router: router, Link: oldLink})
	}
	if has {
		if *m == nil {
			*m = make(map[Key]Link)
		}
		(*m)[key] = newLink
		db.emit(Event{Time: ts, Area: a.id, Entity: EntityRouter, Router: router, Added: true, Link: newLink})
	}
}

// applyRouterLSA recomputes the links of the Router-LSA's router.
func (db *DB) applyRouterLSA(e *entry, ts int64) {
	a := db.area(e.sk.Area)
	id := e.sk.AdvRouter
	n := a.router(id)
	hadLSA := n.lsa != nil
	if e.view != nil {
		n.lsa = e
	} else {
		n.lsa = nil
	}
	db.relink(a, id, n, ts)
	if hadLSA != (n.lsa != nil) {
		if _, ok := db.extByAdv[id]; ok {
			db.replace(id, ts)
		}
	}
	db.dropIfEmpty(a, id)
}

// relink recomputes a router's Router-LSA links and emits the difference.
func (db *DB) relink(a *area, id netip.Addr, n *routerNode, ts int64) {
	var links []Link
	hasTransit := false
	n.flags = 0
	if n.lsa != nil {
		r := n.lsa.view.(*RouterLSA)
		n.flags = r.Flags
		links = make([]Link, 0, len(r.Links))
		for i := range r.Links {
			l := &r.Links[i]
			switch l.Type {
			case LinkPointToPoint, LinkVirtual:
				links = append(links, Link{Kind: KindRouter, ID: netip.PrefixFrom(l.ID, 32), Metric: uint32(l.Metric)})
			case LinkTransit:
				hasTransit = true
				if p, ok := a.resolveTransit(l.ID); ok {
					links = append(links, Link{Kind: KindNetwork, ID: p, Metric: uint32(l.Metric)})
				}
			case LinkStub:
				links = append(links, Link{Kind: KindStubnet, ID: l.StubPrefix(), Metric: uint32(l.Metric)})
			}
		}
	}
	if hasTransit {
		a.transit[id] = struct{}{}
	} else {
		delete(a.transit, id)
	}
	db.diffLinks(a.id, id, n.links, links, ts)
	n.links = links
}

// resolveTransit finds the network a transit link points at: the
// Network-LSA whose LSID is the link's ID, or else a known network whose
// prefix contains it (a DR change: routers may point at the new DR before
// its Network-LSA arrives).
func (a *area) resolveTransit(id netip.Addr) (netip.Prefix, bool) {
	if es := a.netByLSID[id]; len(es) > 0 {
		return bestNetwork(es).view.(*NetworkLSA).Prefix(), true
	}
	var best netip.Prefix
	for p := range a.networks {
		if p.Contains(id) && (!best.IsValid() || p.Bits() > best.Bits()) {
			best = p
		}
	}
	return best, best.IsValid()
}

// bestNetwork chooses among Network-LSAs for one LSID or prefix: the most
// recently originated, ties broken by the higher advertising router.
func bestNetwork(es []*entry) *entry {
	best := es[0]
	for _, e := range es[1:] {
		if e.originMs > best.originMs || (e.originMs == best.originMs && e.sk.AdvRouter.Compare(best.sk.AdvRouter) > 0) {
			best = e
		}
	}
	return best
}

// applyNetworkLSA updates the networks of the old and new prefix and the
// network links of every router with transit links in the area.
func (db *DB) applyNetworkLSA(e *entry, old LSA, ts int64) {
	a := db.area(e.sk.Area)
	var oldP, newP netip.Prefix
	if old != nil {
		oldP = old.(*NetworkLSA).Prefix()
		a.netByLSID[e.sk.LSID] = removeEntry(a.netByLSID[e.sk.LSID], e)
		if len(a.netByLSID[e.sk.LSID]) == 0 {
			delete(a.netByLSID, e.sk.LSID)
		}
		a.netByPrefix[oldP] = removeEntry(a.netByPrefix[oldP], e)
		if len(a.netByPrefix[oldP]) == 0 {
			delete(a.netByPrefix, oldP)
		}
	}
	if e.view != nil {
		newP = e.view.(*NetworkLSA).Prefix()
		a.netByLSID[e.sk.LSID] = append(a.netByLSID[e.sk.LSID], e)
		a.netByPrefix[newP] = append(a.netByPrefix[newP], e)
	}
	if oldP.IsValid() {
		db.renet(a, oldP, ts)
	}
	if newP.IsValid() && newP != oldP {
		db.renet(a, newP, ts)
	}
	for id := range a.transit {
		db.relink(a, id, a.routers[id], ts)
	}
	if len(a.routers) == 0 && len(a.networks) == 0 && len(a.netByLSID) == 0 {
		delete(db.areas, a.id)
	}
}

// renet recomputes the network of one prefix and emits membership changes.
func (db *DB) renet(a *area, p netip.Prefix, ts int64) {
	n := a.networks[p]
	var members []netip.Addr
	var chosen *entry
	if es := a.netByPrefix[p]; len(es) > 0 {
		chosen = bestNetwork(es)
		members = chosen.view.(*NetworkLSA).Attached
	}
	var old []netip.Addr
	if n != nil {
		old = n.members
	}
	for _, r := range multisetMinus(old, members) {
		db.emit(Event{Time: ts, Area: a.id, Entity: EntityNetwork, Network: p, Member: r})
	}
	for _, r := range multisetMinus(members, old) {
		db.emit(Event{Time: ts, Area: a.id, Entity: EntityNetwork, Network: p, Added: true, Member: r})
	}
	if chosen == nil {
		delete(a.networks, p)
		return
	}
	if n == nil {
		n = &netNode{}
		a.networks[p] = n
	}
	n.chosen, n.dr, n.members = chosen, chosen.sk.AdvRouter, members
}

func removeEntry(es []*entry, e *entry) []*entry {
	for i, x := range es {
		if x == e {
			es[i] = es[len(es)-1]
			es[len(es)-1] = nil
			return es[:len(es)-1]
		}
	}
	return es
}

// placementOf is the area under which a router's AS-external routes are
// published: the lowest-numbered area in which it has a Router-LSA (the
// backbone when it is in it), or the backbone when it has none.
func (db *DB) placementOf(id netip.Addr) netip.Addr {
	best := netip.Addr{}
	for aid, a := range db.areas {
		if n := a.routers[id]; n != nil && n.lsa != nil && (!best.IsValid() || aid.Less(best)) {
			best = aid
		}
	}
	if !best.IsValid() {
		return backbone
	}
	return best
}

// replace moves a router's externals when the area they belong under changed.
func (db *DB) replace(id netip.Addr, ts int64) {
	from, to := db.placement[id], db.placementOf(id)
	if from == to {
		return
	}
	db.placement[id] = to
	fa, ta := db.area(from), db.area(to)
	fn, tn := fa.router(id), ta.router(id)
	for k, e := range db.extByAdv[id] {
		if l, ok := fn.ext[k]; ok {
			delete(fn.ext, k)
			db.emit(Event{Time: ts, Area: fa.id, Entity: EntityRouter, Router: id, Link: l})
		}
		db.replaceContribution(ta, id, &tn.ext, k, e.view, ts)
	}
	db.dropIfEmpty(fa, id)
	db.dropIfEmpty(ta, id)
}
