package lsdb

import (
	"cmp"
	"io"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Snapshot returns the graph view in the seed's snapshot format and the
// sequence number of the last event it reflects: a consumer that then
// follows the feed after that number sees every later change exactly once.
func (db *DB) Snapshot() (*Snapshot, uint64) {
	v := db.View()
	return v.Snapshot(), v.Seq
}

// Snapshot renders the view in the seed's snapshot format, which has no
// flags, tags, DR interface addresses or NSSA areas, in the seed's order
// (to_api_dict, a walk of its LSAs in arrival order):
//
//   - networks in the order of their first Network-LSA (NetworkView.Order);
//   - routers in the order of their first LSA, Router-LSA or AS-external
//     (RouterView.Order);
//   - a router's link kinds in the order they first appear in its
//     Router-LSA, with "external" before them when an AS-external LSA of
//     the router arrived before its Router-LSA, after them otherwise; each
//     kind's links in LSA order, its externals in arrival order;
//   - our extensions beyond the seed (xnetwork, xrouter, nssa-ext) last.
//
// What has no arrival index (0) comes after what has one, in numeric order.
// Areas are in numeric order: the seed knew only the backbone.
func (v *View) Snapshot() *Snapshot {
	s := &Snapshot{
		Areas:     make(map[string]*AreaSnapshot, len(v.Areas)),
		Updated:   v.Updated.UnixMilli(),
		areaOrder: make([]string, 0, len(v.Areas)),
	}
	var idx []ordered
	for i := range v.Areas {
		a := &v.Areas[i]
		as := &AreaSnapshot{
			Routers:      make(map[string]*RouterSnapshot, len(a.Routers)),
			Networks:     make(map[string]*NetworkSnapshot, len(a.Networks)),
			routerOrder:  make([]string, 0, len(a.Routers)),
			networkOrder: make([]string, 0, len(a.Networks)),
		}
		idx = idx[:0]
		var ar snapArena
		nl, nx := 0, 0
		for j := range a.Routers {
			r := &a.Routers[j]
			idx = append(idx, ordered{r.Order(), int32(j)})
			nl += len(r.Links) + len(r.Summaries)
			nx += len(r.Externals) + len(r.NSSA)
		}
		sortOrdered(idx)
		ar.links = make([]SnapshotLink, 0, nl)
		ar.ext = make([]SnapshotExternal, 0, nx)
		ar.metrics = make([]uint32, 0, nx)
		rs := make([]RouterSnapshot, len(a.Routers))
		for _, o := range idx {
			r := &a.Routers[o.i]
			k := r.ID.String()
			r.snapshot(&rs[o.i], &ar)
			as.Routers[k] = &rs[o.i]
			as.routerOrder = append(as.routerOrder, k)
		}
		idx = idx[:0]
		for j := range a.Networks {
			idx = append(idx, ordered{a.Networks[j].Order, int32(j)})
		}
		sortOrdered(idx)
		ns := make([]NetworkSnapshot, len(a.Networks))
		for _, o := range idx {
			n := &a.Networks[o.i]
			x := &ns[o.i]
			x.DR, x.Routers = n.DR.String(), make([]string, len(n.Routers))
			for i, m := range n.Routers {
				x.Routers[i] = m.String()
			}
			k := n.Prefix.String()
			as.Networks[k] = x
			as.networkOrder = append(as.networkOrder, k)
		}
		k := a.ID.String()
		s.Areas[k] = as
		s.areaOrder = append(s.areaOrder, k)
	}
	return s
}

// ordered is the arrival index of element i of a slice.
type ordered struct {
	order uint64
	i     int32
}

// sortOrdered sorts by arrival index, unknown (0) last, then by position:
// a slice sorted by ID stays so among equal indexes.
func sortOrdered(xs []ordered) {
	key := func(o uint64) uint64 {
		if o == 0 {
			return math.MaxUint64
		}
		return o
	}
	if slices.IsSortedFunc(xs, func(a, b ordered) int { return cmp.Compare(key(a.order), key(b.order)) }) {
		return
	}
	slices.SortFunc(xs, func(a, b ordered) int {
		return cmp.Or(cmp.Compare(key(a.order), key(b.order)), cmp.Compare(a.i, b.i))
	})
}

// comparePrefixes orders prefixes by address, then length.
func comparePrefixes(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// snapArena is where the links of one area's snapshot are allocated:
// three allocations for the area rather than a few for each router.
type snapArena struct {
	links   []SnapshotLink
	ext     []SnapshotExternal
	metrics []uint32
}

// take returns the next n links, capped so that appending to them
// reallocates rather than overwriting a neighbour's.
func (a *snapArena) take(n int) []SnapshotLink {
	if n == 0 {
		return nil
	}
	i := len(a.links)
	a.links = a.links[:i+n]
	return a.links[i : i : i+n]
}

func (r *RouterView) snapshot(rs *RouterSnapshot, ar *snapArena) {
	L := &rs.Links
	var n [8]int
	for i := range r.Links {
		n[r.Links[i].Kind]++
	}
	for i := range r.Summaries {
		n[r.Summaries[i].Kind]++
	}
	L.Router, L.Network, L.Stubnet = ar.take(n[KindRouter]), ar.take(n[KindNetwork]), ar.take(n[KindStubnet])
	L.XNetwork, L.XRouter = ar.take(n[KindXNetwork]), ar.take(n[KindXRouter])
	var own kindOrder // the Router-LSA's kinds, by first appearance
	for i := range r.Links {
		l := &r.Links[i]
		sl := SnapshotLink{ID: l.IDString(), Metric: l.Metric}
		switch l.Kind {
		case KindRouter:
			L.Router = append(L.Router, sl)
		case KindNetwork:
			L.Network = append(L.Network, sl)
		case KindStubnet:
			L.Stubnet = append(L.Stubnet, sl)
		default:
			continue
		}
		own.add(l.Kind)
	}
	L.External = ar.externals(r.Externals)
	L.NSSAExt = ar.externals(r.NSSA)
	for i := range r.Summaries {
		l := &r.Summaries[i]
		switch l.Kind {
		case KindXNetwork:
			L.XNetwork = append(L.XNetwork, SnapshotLink{ID: l.IDString(), Metric: l.Metric})
		case KindXRouter:
			L.XRouter = append(L.XRouter, SnapshotLink{ID: l.IDString(), Metric: l.Metric})
		}
	}
	// An AS-external LSA that arrived before the Router-LSA made the
	// seed's "external" key first.
	var first uint64
	for i := range r.Externals {
		first = minOrder(first, r.Externals[i].Order)
	}
	if len(L.External) > 0 && first != 0 && r.LSAOrder != 0 && first < r.LSAOrder {
		L.kinds.add(KindExternal)
	}
	for _, k := range own {
		if k != 0 {
			L.kinds.add(k)
		}
	}
	for _, k := range [...]LinkKind{KindExternal, KindXNetwork, KindXRouter, KindNSSAExt} {
		if L.count(k) > 0 {
			L.kinds.add(k)
		}
	}
}

func compareLinks(a, b Link) int {
	return cmp.Or(
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.id, b.id),
		cmp.Compare(a.Bits, b.Bits),
		cmp.Compare(boolInt(a.Type2), boolInt(b.Type2)),
		cmp.Compare(a.Metric, b.Metric),
		cmp.Compare(a.via, b.via),
	)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// externals renders routes in arrival order (unknown last, in the order
// given).
func (a *snapArena) externals(rs []Route) []SnapshotExternal {
	if len(rs) == 0 {
		return nil
	}
	i0 := len(a.ext)
	a.ext, a.metrics = a.ext[:i0+len(rs)], a.metrics[:i0+len(rs)]
	out := a.ext[i0 : i0+len(rs) : i0+len(rs)]
	metrics := a.metrics[i0 : i0+len(rs) : i0+len(rs)]
	put := func(i int, r *Route) {
		x := &out[i]
		x.ID = r.Prefix.String()
		metrics[i] = r.Metric
		if r.Type2 {
			x.Metric2 = &metrics[i]
		} else {
			x.Metric = &metrics[i]
		}
		if r.Forward.IsValid() {
			x.Via = r.Forward.String()
		}
	}
	if len(rs) == 1 {
		put(0, &rs[0])
		return out
	}
	idx := make([]ordered, len(rs))
	for i := range rs {
		idx[i] = ordered{rs[i].Order, int32(i)}
	}
	sortOrdered(idx)
	for i, o := range idx {
		put(i, &rs[o.i])
	}
	return out
}

// MarshalJSON writes the snapshot as AppendJSON does.
func (s *Snapshot) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil), nil }

// UnmarshalJSON reads a snapshot as ParseSnapshot does.
func (s *Snapshot) UnmarshalJSON(data []byte) error {
	p, err := ParseSnapshot(data)
	if err != nil {
		return err
	}
	*s = *p
	return nil
}

// AppendJSON appends the snapshot as the seed writes it (Python's
// json.dumps with its default separators): one line, ", " between
// items, ": " after keys, networks before routers, keys in the
// snapshot's order (see Snapshot), "updated" in integer milliseconds, no
// trailing newline.
func (s *Snapshot) AppendJSON(b []byte) []byte {
	w := jw{b: b}
	s.write(&w)
	return w.b
}

// AppendCanonicalJSON appends the snapshot's content without its order:
// as AppendJSON, but keys in numeric order, link kinds in a fixed order
// and each kind's externals sorted. Two databases that received the same
// LSDB in different orders write the same canonical snapshot.
func (s *Snapshot) AppendCanonicalJSON(b []byte) []byte {
	c := Snapshot{Areas: make(map[string]*AreaSnapshot, len(s.Areas)), Updated: s.Updated}
	for aid, a := range s.Areas {
		if a == nil {
			c.Areas[aid] = nil
			continue
		}
		ca := &AreaSnapshot{Routers: make(map[string]*RouterSnapshot, len(a.Routers)), Networks: a.Networks}
		for id, r := range a.Routers {
			if r == nil {
				ca.Routers[id] = nil
				continue
			}
			L := r.Links
			L.kinds = kindOrder{}
			L.External, L.NSSAExt = sortedExternals(L.External), sortedExternals(L.NSSAExt)
			ca.Routers[id] = &RouterSnapshot{Links: L}
		}
		c.Areas[aid] = ca
	}
	return c.AppendJSON(b)
}

func sortedExternals(xs []SnapshotExternal) []SnapshotExternal {
	m := func(p *uint32) int64 {
		if p == nil {
			return -1
		}
		return int64(*p)
	}
	return slices.SortedStableFunc(slices.Values(xs), func(a, b SnapshotExternal) int {
		pa, ea := parseAddrOrPrefix(a.ID)
		pb, eb := parseAddrOrPrefix(b.ID)
		if ea == nil && eb == nil {
			if c := comparePrefixes(pa, pb); c != 0 {
				return c
			}
		}
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(m(a.Metric), m(b.Metric)), cmp.Compare(m(a.Metric2), m(b.Metric2)), cmp.Compare(a.Via, b.Via))
	})
}

// WriteJSON writes what AppendJSON appends to out, through a small buffer:
// a large snapshot is never held in memory as a whole.
func (s *Snapshot) WriteJSON(out io.Writer) error {
	w := jw{b: make([]byte, 0, 2*spillSize), out: out}
	s.write(&w)
	w.flush()
	return w.err
}

func (s *Snapshot) write(w *jw) {
	aids := orderedKeys(s.Areas, s.areaOrder)
	w.snapshot(len(aids), s.Updated, func(i int) {
		aid := aids[i]
		w.str(aid)
		a := s.Areas[aid]
		if a == nil {
			w.area(0, 0, nil, nil)
			return
		}
		nets, rids := orderedKeys(a.Networks, a.networkOrder), orderedKeys(a.Routers, a.routerOrder)
		w.area(len(nets), len(rids), func(j int) {
			w.str(nets[j])
			if n := a.Networks[nets[j]]; n == nil {
				w.raw(": null")
			} else {
				w.raw(": ")
				w.network(len(n.Routers), func(k int) {
					if k < 0 {
						w.str(n.DR)
					} else {
						w.str(n.Routers[k])
					}
				})
			}
		}, func(j int) {
			w.str(rids[j])
			if r := a.Routers[rids[j]]; r == nil {
				w.raw(": null")
			} else {
				w.raw(`: {"links": {`)
				w.linksOf(&r.Links)
				w.raw("}}")
			}
		})
	})
}

// snapshot writes the frame of a snapshot: n areas, area(i) writing the
// i-th (its ID and its value, w.area), then "updated".
func (w *jw) snapshot(n int, updated int64, area func(i int)) {
	w.raw(`{"areas": {`)
	for i := range n {
		w.sep(i)
		area(i)
	}
	w.raw(`}, "updated": `)
	w.b = strconv.AppendInt(w.b, updated, 10)
	w.b = append(w.b, '}')
}

// area writes the value of an area after its ID: its networks, then its
// routers, network(j) and router(j) writing the j-th of each (key and
// value). It hands what is buffered on after each.
func (w *jw) area(networks, routers int, network, router func(j int)) {
	w.raw(`: {"networks": {`)
	for j := range networks {
		w.sep(j)
		network(j)
		w.spill()
	}
	w.raw(`}, "routers": {`)
	for j := range routers {
		w.sep(j)
		router(j)
		w.spill()
	}
	w.raw("}}")
}

// network writes a network's value: {"dr": …, "routers": […]}, addr(-1)
// writing its DR and addr(k) its k-th of n routers.
func (w *jw) network(n int, addr func(k int)) {
	w.raw(`{"dr": `)
	addr(-1)
	w.raw(`, "routers": [`)
	for k := range n {
		w.sep(k)
		addr(k)
	}
	w.raw("]}")
}

// sep writes the ", " before each item of a list but the first (i = 0).
func (w *jw) sep(i int) {
	if i > 0 {
		w.raw(", ")
	}
}

// SnapshotTime is the snapshot's "updated" stamp as a time.
func (s *Snapshot) SnapshotTime() time.Time { return time.UnixMilli(s.Updated) }

// orderedKeys returns m's keys in the order they are written: those of
// order (the order the snapshot was taken or parsed in) that m still has,
// then the others in numeric order, as a Python dict keeps its keys in
// insertion order.
func orderedKeys[V any](m map[string]V, order []string) []string {
	if len(order) == len(m) {
		all := true
		for _, k := range order {
			if _, ok := m[k]; !ok {
				all = false
				break
			}
		}
		if all {
			return order
		}
	}
	if len(order) == 0 {
		return sortedKeys(m)
	}
	ks := make([]string, 0, len(m))
	seen := make(map[string]bool, len(order))
	for _, k := range order {
		if _, ok := m[k]; ok && !seen[k] {
			seen[k] = true
			ks = append(ks, k)
		}
	}
	rest := make(map[string]struct{}, len(m)-len(ks))
	for k := range m {
		if !seen[k] {
			rest[k] = struct{}{}
		}
	}
	return append(ks, sortedKeys(rest)...)
}

// sortedKeys returns m's keys in numeric order (dotted quads and
// prefixes by address, then length; other strings after, as strings),
// parsing each key once.
func sortedKeys[V any](m map[string]V) []string {
	// Keys sort by class (IPv4, other addresses, not addresses), then by
	// n for IPv4 (address and length in one number: OSPFv2 has no other
	// keys), by address and length for the others, by string for the rest.
	type pk struct {
		k     string
		class int
		n     uint64
		p     netip.Prefix
	}
	pks := make([]pk, 0, len(m))
	for k := range m {
		x := pk{k: k}
		p, err := parseAddrOrPrefix(k)
		switch {
		case err != nil:
			x.class = 2
		case p.Addr().Is4():
			x.n = uint64(u32(p.Addr()))<<8 | uint64(p.Bits())
		default:
			x.class, x.p = 1, p
		}
		pks = append(pks, x)
	}
	slices.SortFunc(pks, func(a, b pk) int {
		if c := cmp.Compare(a.class, b.class); c != 0 {
			return c
		}
		switch a.class {
		case 0:
			return cmp.Compare(a.n, b.n)
		case 1:
			return comparePrefixes(a.p, b.p)
		}
		return cmp.Compare(a.k, b.k)
	})
	ks := make([]string, len(pks))
	for i := range pks {
		ks[i] = pks[i].k
	}
	return ks
}

// parseAddrOrPrefix parses a prefix, or an address as a prefix of its
// full length. It tries the form the key has, so that a router ID, the
// commonest key, is parsed once and makes no error.
func parseAddrOrPrefix(s string) (netip.Prefix, error) {
	if strings.IndexByte(s, '/') >= 0 {
		return netip.ParsePrefix(s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// jw writes JSON as Python's json.dumps does by default.
type jw struct {
	b []byte
	// out, when set, receives b whenever it grows past spillSize.
	out io.Writer
	err error
}

const spillSize = 64 << 10

// spill hands what is buffered to out once it is large enough.
func (w *jw) spill() {
	if w.out != nil && len(w.b) >= spillSize {
		w.flush()
	}
}

func (w *jw) flush() {
	if w.out == nil || w.err != nil {
		w.b = w.b[:0]
		return
	}
	_, w.err = w.out.Write(w.b)
	w.b = w.b[:0]
}

func (w *jw) raw(s string) { w.b = append(w.b, s...) }

// str writes a JSON string as json.dumps does (ensure_ascii). Addresses
// and prefixes, all but every string of a snapshot, need no escaping.
func (w *jw) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			w.b = appendPyString(w.b, s)
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

// appendPyString appends s quoted as Python's json.dumps quotes it:
// anything outside ASCII's printable range as \uXXXX (UTF-16, surrogate
// pairs beyond the BMP), but \n, \r, \t, \b and \f; invalid UTF-8 as
// U+FFFD.
func appendPyString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	u := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&15], hex[r>>8&15], hex[r>>4&15], hex[r&15])
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r < 0x20 || r >= 0x7f && r < 0x10000:
			b = u(b, r)
		case r >= 0x10000:
			r -= 0x10000
			b = u(b, 0xd800+(r>>10))
			b = u(b, 0xdc00+(r&0x3ff))
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}

func (w *jw) uint(v uint32) { w.b = strconv.AppendUint(w.b, uint64(v), 10) }

// count is the number of links of kind k.
func (L *Links) count(k LinkKind) int {
	switch k {
	case KindRouter:
		return len(L.Router)
	case KindNetwork:
		return len(L.Network)
	case KindStubnet:
		return len(L.Stubnet)
	case KindExternal:
		return len(L.External)
	case KindXNetwork:
		return len(L.XNetwork)
	case KindXRouter:
		return len(L.XRouter)
	case KindNSSAExt:
		return len(L.NSSAExt)
	}
	return 0
}

// defaultKinds is the order of kinds that a snapshot's own order leaves out.
var defaultKinds = kindOrder{KindRouter, KindNetwork, KindStubnet, KindExternal, KindXNetwork, KindXRouter, KindNSSAExt}

// linksOf writes the kinds of L that have links, in L's order.
func (w *jw) linksOf(L *Links) {
	first := true
	var done [8]bool
	one := func(k LinkKind) {
		if k == 0 || done[k] || L.count(k) == 0 {
			return
		}
		done[k] = true
		if !first {
			w.raw(", ")
		}
		first = false
		switch k {
		case KindRouter:
			w.links("router", L.Router)
		case KindNetwork:
			w.links("network", L.Network)
		case KindStubnet:
			w.links("stubnet", L.Stubnet)
		case KindExternal:
			w.externals("external", L.External)
		case KindXNetwork:
			w.links("xnetwork", L.XNetwork)
		case KindXRouter:
			w.links("xrouter", L.XRouter)
		case KindNSSAExt:
			w.externals("nssa-ext", L.NSSAExt)
		}
	}
	for _, k := range L.kinds {
		one(k)
	}
	for _, k := range defaultKinds {
		one(k)
	}
}

func (w *jw) links(kind string, ls []SnapshotLink) {
	w.str(kind)
	w.raw(": [")
	for i := range ls {
		w.sep(i)
		w.raw(`{"id": `)
		w.str(ls[i].ID)
		w.raw(`, "metric": `)
		w.uint(ls[i].Metric)
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
}

func (w *jw) externals(kind string, xs []SnapshotExternal) {
	w.str(kind)
	w.raw(": [")
	for i := range xs {
		x := &xs[i]
		w.sep(i)
		w.raw(`{"id": `)
		w.str(x.ID)
		if x.Metric != nil {
			w.raw(`, "metric": `)
			w.uint(*x.Metric)
		}
		if x.Metric2 != nil {
			w.raw(`, "metric2": `)
			w.uint(*x.Metric2)
		}
		if x.Via != "" {
			w.raw(`, "via": `)
			w.str(x.Via)
		}
		w.b = append(w.b, '}')
	}
	w.b = append(w.b, ']')
}

// AppendSnapshotJSON appends what v.Snapshot().AppendJSON appends, written
// straight from the view: no maps, no strings, a few allocations for the
// whole database (what the snapshot command prints).
func (v *View) AppendSnapshotJSON(b []byte) []byte {
	w := jw{b: b}
	v.writeSnapshot(&w)
	return w.b
}

// WriteSnapshotJSON writes what AppendSnapshotJSON appends to out, through
// a small buffer.
func (v *View) WriteSnapshotJSON(out io.Writer) error {
	w := jw{b: make([]byte, 0, 2*spillSize), out: out}
	v.writeSnapshot(&w)
	w.flush()
	return w.err
}

func (v *View) writeSnapshot(w *jw) {
	var idx, xs []ordered
	w.snapshot(len(v.Areas), v.Updated.UnixMilli(), func(i int) {
		a := &v.Areas[i]
		w.addr(a.ID)
		// The networks in the order they are written, then the routers.
		idx = slices.Grow(idx[:0], len(a.Networks)+len(a.Routers))
		for j := range a.Networks {
			idx = append(idx, ordered{a.Networks[j].Order, int32(j)})
		}
		for j := range a.Routers {
			idx = append(idx, ordered{a.Routers[j].Order(), int32(j)})
		}
		nets, rtrs := idx[:len(a.Networks)], idx[len(a.Networks):]
		sortOrdered(nets)
		sortOrdered(rtrs)
		w.area(len(nets), len(rtrs), func(j int) {
			n := &a.Networks[nets[j].i]
			w.b = append(w.b, '"')
			w.b = n.Prefix.AppendTo(w.b)
			w.raw(`": `)
			w.network(len(n.Routers), func(k int) {
				if k < 0 {
					w.addr(n.DR)
				} else {
					w.addr(n.Routers[k])
				}
			})
		}, func(j int) {
			r := &a.Routers[rtrs[j].i]
			w.addr(r.ID)
			w.raw(`: {"links": {`)
			xs = r.writeLinks(w, xs)
			w.raw("}}")
		})
	})
}

// addr writes an address as a JSON string.
func (w *jw) addr(a netip.Addr) {
	w.b = append(w.b, '"')
	w.b = a.AppendTo(w.b)
	w.b = append(w.b, '"')
}

// writeLinks writes the router's links as RouterView.snapshot and
// jw.linksOf do; xs is scratch space, returned for reuse.
func (r *RouterView) writeLinks(w *jw, xs []ordered) []ordered {
	var own kindOrder
	var n [8]int
	for i := range r.Links {
		k := r.Links[i].Kind
		n[k]++
		if k == KindRouter || k == KindNetwork || k == KindStubnet {
			own.add(k)
		}
	}
	for i := range r.Summaries {
		n[r.Summaries[i].Kind]++
	}
	n[KindExternal], n[KindNSSAExt] = len(r.Externals), len(r.NSSA)
	var kinds kindOrder
	var first uint64
	for i := range r.Externals {
		first = minOrder(first, r.Externals[i].Order)
	}
	if n[KindExternal] > 0 && first != 0 && r.LSAOrder != 0 && first < r.LSAOrder {
		kinds.add(KindExternal)
	}
	for _, k := range own {
		if k != 0 {
			kinds.add(k)
		}
	}
	for _, k := range [...]LinkKind{KindExternal, KindXNetwork, KindXRouter, KindNSSAExt} {
		if n[k] > 0 {
			kinds.add(k)
		}
	}
	for i, k := range kinds {
		if k == 0 {
			break
		}
		w.sep(i)
		w.b = append(w.b, '"')
		w.raw(k.String())
		w.raw(`": [`)
		switch k {
		case KindExternal, KindNSSAExt:
			rs := r.Externals
			if k == KindNSSAExt {
				rs = r.NSSA
			}
			xs = xs[:0]
			for j := range rs {
				xs = append(xs, ordered{rs[j].Order, int32(j)})
			}
			sortOrdered(xs)
			for j, o := range xs {
				w.sep(j)
				x := &rs[o.i]
				w.raw(`{"id": "`)
				w.b = x.Prefix.AppendTo(w.b)
				if x.Type2 {
					w.raw(`", "metric2": `)
				} else {
					w.raw(`", "metric": `)
				}
				w.uint(x.Metric)
				if x.Forward.IsValid() {
					w.raw(`, "via": `)
					w.addr(x.Forward)
				}
				w.b = append(w.b, '}')
			}
		default:
			ls := r.Links
			if k == KindXNetwork || k == KindXRouter {
				ls = r.Summaries
			}
			j := 0
			for m := range ls {
				l := &ls[m]
				if l.Kind != k {
					continue
				}
				w.sep(j)
				j++
				w.raw(`{"id": "`)
				if k == KindRouter || k == KindXRouter {
					w.b = addrOf(l.id).AppendTo(w.b)
				} else {
					w.b = l.ID().AppendTo(w.b)
				}
				w.raw(`", "metric": `)
				w.uint(l.Metric)
				w.b = append(w.b, '}')
			}
		}
		w.b = append(w.b, ']')
	}
	return xs
}
