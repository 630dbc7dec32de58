package lsdb

import (
	"maps"
	"net/netip"
	"slices"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// The graph view is what the snapshot shows and what events describe:
// per area, routers with their links by kind and transit networks keyed by
// prefix. It is maintained incrementally: each LSA that enters, changes or
// leaves the view recomputes only what depends on it, and the difference
// between before and after becomes events.

// area is the view of one OSPF area.
type area struct {
	id       uint32
	routers  map[uint32]*routerNode
	networks map[netip.Prefix]*netNode
	// Network-LSAs in the view by LSID (the DR's interface address) and by prefix.
	netByLSID   map[uint32][]*entry
	netByPrefix map[netip.Prefix][]*entry
	// routers whose Router-LSA has transit links: their network links
	// depend on the area's Network-LSAs.
	transit map[uint32]struct{}
	// contested are the prefixes with more than one Network-LSA: which
	// one is their network depends on the routers' transit links too.
	contested map[netip.Prefix]struct{}
}

// routerNode is one router of an area.
type routerNode struct {
	lsa   *entry   // its Router-LSA, nil if none in the view
	links []Link   // links from the Router-LSA, transit links resolved to prefixes
	ext   []*entry // AS-external LSAs, when published under this area
	sum   []*entry // summary, ASBR-summary and NSSA LSAs it originates into the area
	// room for the first of ext and sum, which is all most routers have
	inl [2]*entry
}

func (n *routerNode) empty() bool {
	return n.lsa == nil && len(n.links) == 0 && len(n.ext) == 0 && len(n.sum) == 0
}

// netNode is a transit network: the Network-LSA chosen for its prefix.
type netNode struct {
	chosen  *entry
	raw     []byte // chosen's view when it was chosen
	dr      netip.Addr
	members []netip.Addr
	order   uint64 // the smallest arrival index of the prefix's Network-LSAs
}

func (db *DB) area(id uint32) *area {
	a := db.areas[id]
	if a == nil {
		a = newArea(id, 0, 0)
		db.areas[id] = a
	}
	return a
}

// newArea returns an empty area whose maps have room for the given numbers
// of routers and Network-LSAs.
func newArea(id uint32, routers, networks int) *area {
	return &area{
		id:          id,
		routers:     make(map[uint32]*routerNode, routers),
		networks:    make(map[netip.Prefix]*netNode, networks),
		netByLSID:   make(map[uint32][]*entry, networks),
		netByPrefix: make(map[netip.Prefix][]*entry, networks),
		transit:     make(map[uint32]struct{}),
		contested:   make(map[netip.Prefix]struct{}),
	}
}

func (db *DB) router(a *area, id uint32) *routerNode {
	n := a.routers[id]
	if n == nil {
		n = db.nodePool.get()
		a.routers[id] = n
	}
	return n
}

func (db *DB) dropIfEmpty(a *area, id uint32) {
	if n := a.routers[id]; n != nil && n.empty() {
		delete(a.routers, id)
		db.droppedNode = append(db.droppedNode, n)
		db.touchRouter(a, id)
	}
	if len(a.routers) == 0 && len(a.networks) == 0 && len(a.netByLSID) == 0 {
		delete(db.areas, a.id)
	}
}

func (db *DB) routerEvent(a *area, router uint32, added bool, l Link, ts int64) {
	if !db.mute {
		db.out = append(db.out, Event{Time: ts, Area: addrOf(a.id), Entity: EntityRouter, Router: addrOf(router), Added: added, Link: l})
	}
}

// applyView moves e's contribution to the view from e.viewRaw to want
// (nil: none), emitting the differences with timestamp ts.
func (db *DB) applyView(e *entry, want []byte, ts int64) {
	old := e.viewRaw
	e.viewRaw = want
	if want != nil {
		e.viewMs = e.originMs
	}
	switch e.k.typ() {
	case ospf.RouterLSAType:
		db.applyRouterLSA(e, old, ts)
	case ospf.NetworkLSAType:
		db.applyNetworkLSA(e, old, ts)
	case ospf.SummaryLSAType, ospf.ASBRSummaryLSAType, ospf.NSSAExternalLSAType:
		a := db.area(e.k.area)
		n := db.router(a, e.k.adv)
		if n.sum == nil {
			n.sum = n.inl[1:1:2]
		}
		db.setContribution(a, e.k.adv, &n.sum, e, old != nil, ts)
		db.dropIfEmpty(a, e.k.adv)
	case ospf.ASExternalLSAType:
		adv := e.k.adv
		pa, ok := db.placement[adv]
		if !ok {
			pa = db.placementOf(adv)
			db.placement[adv] = pa
		}
		a := db.area(pa)
		n := db.router(a, adv)
		if n.ext == nil {
			n.ext = n.inl[0:0:1]
		}
		db.setContribution(a, adv, &n.ext, e, old != nil, ts)
		if len(n.ext) == 0 {
			delete(db.placement, adv)
		}
		db.dropIfEmpty(a, adv)
	}
}

// setContribution updates the link e contributes to a router's list: had
// says whether it was published before; e.view is what it is now.
func (db *DB) setContribution(a *area, router uint32, list *[]*entry, e *entry, had bool, ts int64) {
	var nl Link
	has := false
	if e.viewRaw != nil {
		nl, has = contributionOf(e.viewRaw)
	}
	// Its route as it was and as it is (a mask change makes it another).
	if had {
		db.touchRoute(a, router, e, e.link)
	}
	if has {
		db.touchRoute(a, router, e, nl)
	}
	if had && has && e.link == nl {
		return
	}
	if had {
		db.routerEvent(a, router, false, e.link, ts)
		if !has {
			removeSlot(list, e)
		}
	}
	if has {
		e.link = nl
		db.routerEvent(a, router, true, nl, ts)
		if !had {
			e.slot = int32(len(*list))
			*list = append(*list, e)
		}
	}
}

// removeSlot removes e from a router's list in constant time.
func removeSlot(list *[]*entry, e *entry) {
	l := *list
	last := len(l) - 1
	if e.slot < 0 || int(e.slot) > last || l[e.slot] != e {
		return
	}
	l[e.slot] = l[last]
	l[e.slot].slot = e.slot
	l[last] = nil
	*list = l[:last]
	e.slot = -1
}

// applyRouterLSA recomputes the links of the Router-LSA's router, whose
// view was old, and the networks of the prefixes its transit links decide.
func (db *DB) applyRouterLSA(e *entry, old []byte, ts int64) {
	a := db.area(e.k.area)
	id := e.k.adv
	n := db.router(a, id)
	db.touchRouter(a, id)
	hadLSA := n.lsa != nil
	var prev []byte
	if n.lsa == e {
		prev = old
	} else if n.lsa != nil {
		prev = n.lsa.viewRaw
	}
	if e.viewRaw != nil {
		n.lsa = e
	} else {
		n.lsa = nil
	}
	db.relink(a, id, n, ts)
	if len(a.contested) > 0 {
		db.recontest(a, prev, e.viewRaw, ts)
	}
	if hadLSA != (n.lsa != nil) {
		if _, ok := db.placement[id]; ok {
			db.replace(id, ts)
		}
	}
	db.dropIfEmpty(a, id)
}

// relink recomputes a router's Router-LSA links and emits the difference.
func (db *DB) relink(a *area, id uint32, n *routerNode, ts int64) {
	links := db.scratch[:0]
	hasTransit := false
	if n.lsa != nil {
		it := newRouterLinks(n.lsa.viewRaw)
		for {
			typ, id, data, metric, ok := it.next()
			if !ok {
				break
			}
			switch typ {
			case ospf.LinkPointToPoint, ospf.LinkVirtual:
				links = append(links, Link{Kind: KindRouter, Bits: 32, id: id, Metric: uint32(metric)})
			case ospf.LinkTransit:
				hasTransit = true
				if p, ok := a.resolveTransit(id); ok {
					links = append(links, Link{Kind: KindNetwork, Bits: uint8(p.Bits()), id: u32(p.Addr()), Metric: uint32(metric)})
				}
			case ospf.LinkStub:
				pid, bits := prefixBits(id, data)
				links = append(links, Link{Kind: KindStubnet, Bits: bits, id: pid, Metric: uint32(metric)})
			}
		}
	}
	db.scratch = links
	if hasTransit {
		a.transit[id] = struct{}{}
	} else {
		delete(a.transit, id)
	}
	if sameLinks(n.links, links) {
		return
	}
	db.touchRouter(a, id)
	if !db.mute {
		for _, l := range MultisetMinus(n.links, links) {
			db.routerEvent(a, id, false, l, ts)
		}
		for _, l := range MultisetMinus(links, n.links) {
			db.routerEvent(a, id, true, l, ts)
		}
	}
	if len(links) == 0 {
		n.links = nil
		return
	}
	n.links = db.links.copy(links, slabBlock/16)
}

func sameLinks(a, b []Link) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// resolveTransit finds the network a transit link points at: the
// Network-LSA whose LSID is the link's ID, or else a known network whose
// prefix contains it (a DR change: routers may point at the new DR before
// its Network-LSA arrives).
func (a *area) resolveTransit(id uint32) (netip.Prefix, bool) {
	if es := a.netByLSID[id]; len(es) > 0 {
		return networkPrefix(newestNetwork(es).viewRaw), true
	}
	var best netip.Prefix
	ip := addrOf(id)
	for p := range a.networks {
		if p.Contains(ip) && (!best.IsValid() || p.Bits() > best.Bits()) {
			best = p
		}
	}
	return best, best.IsValid()
}

// newerNetwork reports whether Network-LSA x takes precedence over y when
// nothing else decides: the one whose content was originated more
// recently, ties broken by the higher advertising router. A refresh (same
// content, next sequence number) does not make an LSA newer: it emits
// nothing, so it must not move the choice either.
func newerNetwork(x, y *entry) bool {
	return x.viewMs > y.viewMs || (x.viewMs == y.viewMs && x.k.adv > y.k.adv)
}

// newestNetwork is the Network-LSA of es that newerNetwork ranks first.
// It resolves a transit link's LSID: which network a router's own link
// leads to then depends on that router's LSA and the Network-LSAs named by
// its LSID only, never on other routers' links.
func newestNetwork(es []*entry) *entry {
	best := es[0]
	for _, e := range es[1:] {
		if newerNetwork(e, best) {
			best = e
		}
	}
	return best
}

// chooseNetwork chooses among the Network-LSAs of one prefix the one that
// is the network, as OSPF's shortest-path calculation sees it (RFC 2328
// 16.1): a router reaches a transit network through a transit link that
// names the DR's interface address, which is the Network-LSA's LSID, and
// the network counts only if its LSA lists that router back. So the chosen
// LSA is the one with the most such two-way edges: attached routers whose
// Router-LSA has a transit link to its LSID. A Network-LSA that nobody
// points at (FRR 8.4's brief self-election of a router that is leaving the
// LAN floods one) or whose routers have moved on to another (the old DR
// after a DR change) loses against the one the routers use, however new it
// is. Ties, as when the routers' links are not there yet, go to
// newerNetwork. With one candidate, the common case, nothing is counted.
func (a *area) chooseNetwork(es []*entry) *entry {
	if len(es) == 1 {
		return es[0]
	}
	best, most := es[0], a.edges(es[0])
	for _, e := range es[1:] {
		if n := a.edges(e); n > most || n == most && newerNetwork(e, best) {
			best, most = e, n
		}
	}
	return best
}

// edges counts the routers listed in Network-LSA e whose Router-LSA has a
// transit link to e's LSID.
func (a *area) edges(e *entry) int {
	count := 0
	for body := e.viewRaw[ospf.HeaderLen+4:]; len(body) >= 4; body = body[4:] {
		if n := a.routers[be32(body)]; n != nil && n.lsa != nil && pointsAt(n.lsa.viewRaw, e.k.lsid) {
			count++
		}
	}
	return count
}

// pointsAt reports whether a Router-LSA (nil: none) has a transit link to lsid.
func pointsAt(raw []byte, lsid uint32) bool {
	if raw == nil {
		return false
	}
	it := newRouterLinks(raw)
	for {
		typ, id, _, _, ok := it.next()
		if !ok {
			return false
		}
		if typ == ospf.LinkTransit && id == lsid {
			return true
		}
	}
}

// recontest re-chooses the network of each contested prefix to one of
// whose Network-LSAs a router's Router-LSA, from prev to cur (nil: none),
// added or removed its transit link: only those edges changed.
func (db *DB) recontest(a *area, prev, cur []byte, ts int64) {
	for _, raw := range [2][]byte{prev, cur} {
		if raw == nil {
			continue
		}
		it := newRouterLinks(raw)
		for {
			typ, id, _, _, ok := it.next()
			if !ok {
				break
			}
			if typ != ospf.LinkTransit {
				continue
			}
			for _, c := range a.netByLSID[id] {
				p := networkPrefix(c.viewRaw)
				if _, ok := a.contested[p]; ok && pointsAt(prev, id) != pointsAt(cur, id) {
					db.renet(a, p, ts)
				}
			}
		}
	}
}

// applyNetworkLSA updates the networks of the old and new prefix and the
// network links of every router with transit links in the area.
func (db *DB) applyNetworkLSA(e *entry, old []byte, ts int64) {
	a := db.area(e.k.area)
	var oldP, newP netip.Prefix
	if old != nil {
		oldP = networkPrefix(old)
		a.netByLSID[e.k.lsid] = removeEntry(a.netByLSID[e.k.lsid], e)
		if len(a.netByLSID[e.k.lsid]) == 0 {
			delete(a.netByLSID, e.k.lsid)
		}
		a.netByPrefix[oldP] = removeEntry(a.netByPrefix[oldP], e)
		switch len(a.netByPrefix[oldP]) {
		case 0:
			delete(a.netByPrefix, oldP)
		case 1:
			delete(a.contested, oldP)
		}
	}
	if e.viewRaw != nil {
		newP = networkPrefix(e.viewRaw)
		a.netByLSID[e.k.lsid] = append(a.netByLSID[e.k.lsid], e)
		a.netByPrefix[newP] = append(a.netByPrefix[newP], e)
		if len(a.netByPrefix[newP]) > 1 {
			a.contested[newP] = struct{}{}
		}
	}
	if oldP.IsValid() {
		db.renet(a, oldP, ts)
	}
	if newP.IsValid() && newP != oldP {
		db.renet(a, newP, ts)
	}
	// In router order, so that the events come in the same order whatever
	// the order of the map.
	if len(a.transit) > 0 {
		for _, id := range slices.Sorted(maps.Keys(a.transit)) {
			db.relink(a, id, a.routers[id], ts)
		}
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
	var order uint64
	if es := a.netByPrefix[p]; len(es) > 0 {
		chosen = a.chooseNetwork(es)
		for _, e := range es {
			order = minOrder(order, e.order)
		}
		if n != nil && n.chosen == chosen && sameSlice(n.raw, chosen.viewRaw) && n.order == order {
			return
		}
		_, members = networkOf(chosen.viewRaw)
	}
	db.touchNetwork(a, p)
	var old []netip.Addr
	if n != nil {
		old = n.members
	}
	if !db.mute {
		var dr netip.Addr
		if chosen != nil {
			dr = addrOf(chosen.k.adv)
		}
		for _, r := range MultisetMinus(old, members) {
			db.out = append(db.out, Event{Time: ts, Area: addrOf(a.id), Entity: EntityNetwork, Network: p, Member: r, DR: dr})
		}
		for _, r := range MultisetMinus(members, old) {
			db.out = append(db.out, Event{Time: ts, Area: addrOf(a.id), Entity: EntityNetwork, Network: p, Added: true, Member: r, DR: dr})
		}
	}
	if chosen == nil {
		delete(a.networks, p)
		return
	}
	if n == nil {
		n = &netNode{}
		a.networks[p] = n
	}
	n.chosen, n.raw, n.dr, n.members, n.order = chosen, chosen.viewRaw, addrOf(chosen.k.adv), members, order
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
func (db *DB) placementOf(id uint32) uint32 {
	if a := db.areas[0]; a != nil {
		if n := a.routers[id]; n != nil && n.lsa != nil {
			return 0
		}
	}
	best, found := uint32(0), false
	for aid, a := range db.areas {
		if n := a.routers[id]; n != nil && n.lsa != nil && (!found || aid < best) {
			best, found = aid, true
		}
	}
	return best
}

// replace moves a router's externals when the area they belong under changed.
func (db *DB) replace(id uint32, ts int64) {
	from, to := db.placement[id], db.placementOf(id)
	if from == to {
		return
	}
	db.placement[id] = to
	fa, ta := db.area(from), db.area(to)
	fn, tn := db.router(fa, id), db.router(ta, id)
	moved := fn.ext
	fn.ext = nil
	for _, e := range moved {
		db.touchRoute(fa, id, e, e.link)
		db.touchRoute(ta, id, e, e.link)
		db.routerEvent(fa, id, false, e.link, ts)
		db.routerEvent(ta, id, true, e.link, ts)
		e.slot = int32(len(tn.ext))
		tn.ext = append(tn.ext, e)
	}
	clear(moved)
	db.dropIfEmpty(fa, id)
	db.dropIfEmpty(ta, id)
}
