package lsdb

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
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
// flags, tags, DR interface addresses or NSSA areas.
func (v *View) Snapshot() *Snapshot {
	s := &Snapshot{
		Areas:     make(map[string]*AreaSnapshot, len(v.Areas)),
		Updated:   float64(v.Updated.UnixMilli()) / 1000,
		areaOrder: make([]string, 0, len(v.Areas)),
	}
	// Keys are made in numeric order, the order in which they are written.
	for i := range v.Areas {
		a := &v.Areas[i]
		as := &AreaSnapshot{
			Routers:      make(map[string]*RouterSnapshot, len(a.Routers)),
			Networks:     make(map[string]*NetworkSnapshot, len(a.Networks)),
			routerOrder:  make([]string, 0, len(a.Routers)),
			networkOrder: make([]string, 0, len(a.Networks)),
		}
		rs := make([]RouterSnapshot, len(a.Routers))
		for j := range a.Routers {
			r := &a.Routers[j]
			k := r.ID.String()
			r.snapshot(&rs[j])
			as.Routers[k] = &rs[j]
			as.routerOrder = append(as.routerOrder, k)
		}
		for j := range a.Networks {
			n := &a.Networks[j]
			ns := &NetworkSnapshot{DR: n.DR.String(), Routers: make([]string, len(n.Routers))}
			for i, m := range n.Routers {
				ns.Routers[i] = m.String()
			}
			k := n.Prefix.String()
			as.Networks[k] = ns
			as.networkOrder = append(as.networkOrder, k)
		}
		k := a.ID.String()
		s.Areas[k] = as
		s.areaOrder = append(s.areaOrder, k)
	}
	return s
}

// comparePrefixes orders prefixes by address, then length.
func comparePrefixes(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

func (r *RouterView) snapshot(rs *RouterSnapshot) {
	L := &rs.Links
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
		}
	}
	L.External = externals(r.Externals)
	L.NSSAExt = externals(r.NSSA)
	for i := range r.Summaries {
		l := &r.Summaries[i]
		switch l.Kind {
		case KindXNetwork:
			L.XNetwork = append(L.XNetwork, SnapshotLink{ID: l.IDString(), Metric: l.Metric})
		case KindXRouter:
			L.XRouter = append(L.XRouter, SnapshotLink{ID: l.IDString(), Metric: l.Metric})
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

func externals(rs []Route) []SnapshotExternal {
	if len(rs) == 0 {
		return nil
	}
	out := make([]SnapshotExternal, len(rs))
	for i := range rs {
		r := &rs[i]
		x := &out[i]
		x.ID = r.Prefix.String()
		metric := r.Metric
		if r.Type2 {
			x.Metric2 = &metric
		} else {
			x.Metric = &metric
		}
		if r.Forward.IsValid() {
			x.Via = r.Forward.String()
		}
	}
	return out
}

// ParseSnapshot reads a snapshot in the seed's format. "updated" may be
// missing (BIRD-derived files such as the NYC Mesh one have none).
func ParseSnapshot(data []byte) (*Snapshot, error) {
	var s Snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse snapshot: %w", err)
	}
	if s.Areas == nil {
		return nil, fmt.Errorf("parse snapshot: no \"areas\"")
	}
	for aid, a := range s.Areas {
		if _, err := netip.ParseAddr(aid); err != nil {
			return nil, fmt.Errorf("parse snapshot: area %q: %w", aid, err)
		}
		if a == nil {
			return nil, fmt.Errorf("parse snapshot: area %s is null", aid)
		}
	}
	return &s, nil
}

// MarshalJSON writes the snapshot with keys in numeric order, two-space
// indented as the seed's files are.
func (s *Snapshot) MarshalJSON() ([]byte, error) { return s.AppendJSON(nil), nil }

// AppendJSON appends the snapshot, formatted as Python's json.dumps(indent=2)
// formats the seed's files, without a trailing newline.
func (s *Snapshot) AppendJSON(b []byte) []byte {
	w := jw{b: b}
	s.write(&w)
	return w.b
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
	w.open('{')
	w.key("areas")
	w.open('{')
	for _, aid := range orderedKeys(s.Areas, s.areaOrder) {
		a := s.Areas[aid]
		w.key(aid)
		w.open('{')
		w.key("routers")
		w.open('{')
		for _, rid := range orderedKeys(a.Routers, a.routerOrder) {
			w.key(rid)
			w.open('{')
			w.key("links")
			w.open('{')
			L := &a.Routers[rid].Links
			w.links("router", L.Router)
			w.links("network", L.Network)
			w.links("stubnet", L.Stubnet)
			w.externals("external", L.External)
			w.links("xnetwork", L.XNetwork)
			w.links("xrouter", L.XRouter)
			w.externals("nssa-ext", L.NSSAExt)
			w.close('}')
			w.close('}')
			w.spill()
		}
		w.close('}')
		w.key("networks")
		w.open('{')
		for _, p := range orderedKeys(a.Networks, a.networkOrder) {
			n := a.Networks[p]
			w.key(p)
			w.open('{')
			w.key("dr")
			w.str(n.DR)
			w.key("routers")
			w.open('[')
			for _, r := range n.Routers {
				w.item()
				w.str(r)
			}
			w.close(']')
			w.close('}')
			w.spill()
		}
		w.close('}')
		w.close('}')
	}
	w.close('}')
	w.key("updated")
	w.b = strconv.AppendFloat(w.b, s.Updated, 'f', -1, 64)
	w.close('}')
}

// SnapshotTime is the snapshot's "updated" stamp as a time.
func (s *Snapshot) SnapshotTime() time.Time {
	return time.UnixMilli(int64(s.Updated * 1000))
}

// orderedKeys returns m's keys in the order sortedKeys gives: order, when
// it still holds exactly m's keys (as DB.Snapshot made it, if nobody has
// changed m since), else sortedKeys(m).
func orderedKeys[V any](m map[string]V, order []string) []string {
	if len(order) != len(m) {
		return sortedKeys(m)
	}
	for _, k := range order {
		if _, ok := m[k]; !ok {
			return sortedKeys(m)
		}
	}
	return order
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

// jw writes indented JSON the way Python's json.dumps(indent=2) does.
type jw struct {
	b     []byte
	depth int
	first bool // nothing written yet in the current container
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

func (w *jw) nl() {
	w.b = append(w.b, '\n')
	for i := 0; i < w.depth; i++ {
		w.b = append(w.b, ' ', ' ')
	}
}

func (w *jw) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.first = true
}

func (w *jw) close(c byte) {
	w.depth--
	if !w.first {
		w.nl()
	}
	w.b = append(w.b, c)
	w.first = false
}

func (w *jw) item() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.nl()
}

func (w *jw) key(k string) {
	w.item()
	w.str(k)
	w.b = append(w.b, ':', ' ')
}

// str writes a JSON string. Addresses and prefixes, all but every string
// of a snapshot, need no escaping.
func (w *jw) str(s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			w.b = strconv.AppendQuote(w.b, s)
			return
		}
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, s...)
	w.b = append(w.b, '"')
}

func (w *jw) uint(v uint32) { w.b = strconv.AppendUint(w.b, uint64(v), 10) }

func (w *jw) links(kind string, ls []SnapshotLink) {
	if len(ls) == 0 {
		return
	}
	w.key(kind)
	w.open('[')
	for _, l := range ls {
		w.item()
		w.open('{')
		w.key("id")
		w.str(l.ID)
		w.key("metric")
		w.uint(l.Metric)
		w.close('}')
	}
	w.close(']')
}

func (w *jw) externals(kind string, xs []SnapshotExternal) {
	if len(xs) == 0 {
		return
	}
	w.key(kind)
	w.open('[')
	for _, x := range xs {
		w.item()
		w.open('{')
		w.key("id")
		w.str(x.ID)
		if x.Metric != nil {
			w.key("metric")
			w.uint(*x.Metric)
		}
		if x.Metric2 != nil {
			w.key("metric2")
			w.uint(*x.Metric2)
		}
		if x.Via != "" {
			w.key("via")
			w.str(x.Via)
		}
		w.close('}')
	}
	w.close(']')
}
