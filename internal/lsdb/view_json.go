package lsdb

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// The JSON form of the typed View, and of the routers and networks that
// state records carry: everything the view holds, so that a replica
// started from it (a relay's) is the view it was taken from.
//
//	{"seq":12,"updated":"2025-01-02T03:04:05.123456789Z","areas":[
//	 {"id":"0.0.0.0",
//	  "routers":[{"id":"10.0.0.1","lsa":true,"flags":2,"lsaorder":3,
//	    "links":[{"kind":"router","id":"10.0.0.2","metric":10}],
//	    "summaries":[{"kind":"xnetwork","id":"10.9.0.0/24","metric":1}],
//	    "externals":[{"prefix":"198.51.0.0/24","metric":20,"type2":true,"forward":"10.0.0.9","tag":7,"order":9}],
//	    "nssa":[{"prefix":"198.51.1.0/24","metric":1,"area":"0.0.0.1","order":12}]}],
//	  "networks":[{"prefix":"10.1.0.0/24","dr":"10.0.0.1","draddr":"10.1.0.1","routers":["10.0.0.1","10.0.0.2"],"order":5}]}]}
//
// Empty lists and zero values are left out. "lsaorder" and "order" are the
// arrival indexes (see View).

// AppendJSON appends the view as JSON.
func (v *View) AppendJSON(b []byte) []byte { return v.appendJSON(b, true) }

// AppendContentJSON appends the view as JSON without its arrival
// indexes: the content that every database holding the same LSDB agrees
// on, whatever order each received it in (what digests hash).
func (v *View) AppendContentJSON(b []byte) []byte { return v.appendJSON(b, false) }

func (v *View) appendJSON(b []byte, orders bool) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, v.Seq, 10)
	b = append(b, `,"updated":"`...)
	b = v.Updated.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","areas":[`...)
	for i := range v.Areas {
		a := &v.Areas[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = a.ID.AppendTo(b)
		b = append(b, '"')
		if len(a.Routers) > 0 {
			b = append(b, `,"routers":[`...)
			for j := range a.Routers {
				if j > 0 {
					b = append(b, ',')
				}
				b = a.Routers[j].appendJSON(b, orders)
			}
			b = append(b, ']')
		}
		if len(a.Networks) > 0 {
			b = append(b, `,"networks":[`...)
			for j := range a.Networks {
				if j > 0 {
					b = append(b, ',')
				}
				b = a.Networks[j].appendJSON(b, orders)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func (r *RouterView) appendJSON(b []byte, orders bool) []byte {
	b = append(b, `{"id":"`...)
	b = r.ID.AppendTo(b)
	b = append(b, '"')
	if r.HasLSA {
		b = append(b, `,"lsa":true`...)
	}
	if r.Flags != 0 {
		b = append(b, `,"flags":`...)
		b = strconv.AppendUint(b, uint64(r.Flags), 10)
	}
	if orders && r.LSAOrder != 0 {
		b = append(b, `,"lsaorder":`...)
		b = strconv.AppendUint(b, r.LSAOrder, 10)
	}
	b = appendLinks(b, "links", r.Links)
	b = appendLinks(b, "summaries", r.Summaries)
	b = appendRoutes(b, "externals", r.Externals, orders)
	b = appendRoutes(b, "nssa", r.NSSA, orders)
	return append(b, '}')
}

func appendLinks(b []byte, name string, ls []Link) []byte {
	if len(ls) == 0 {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":[`...)
	for i := range ls {
		l := &ls[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":"`...)
		b = append(b, l.Kind.String()...)
		b = append(b, `","id":"`...)
		b = append(b, l.IDString()...)
		b = append(b, `","metric":`...)
		b = strconv.AppendUint(b, uint64(l.Metric), 10)
		if l.Type2 {
			b = append(b, `,"type2":true`...)
		}
		if v := l.Via(); v.IsValid() {
			b = appendField(b, "via", v)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendRoutes(b []byte, name string, rs []Route, orders bool) []byte {
	if len(rs) == 0 {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":[`...)
	for i := range rs {
		r := &rs[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"prefix":"`...)
		b = r.Prefix.AppendTo(b)
		b = append(b, `","metric":`...)
		b = strconv.AppendUint(b, uint64(r.Metric), 10)
		if r.Type2 {
			b = append(b, `,"type2":true`...)
		}
		if r.Forward.IsValid() {
			b = appendField(b, "forward", r.Forward)
		}
		if r.Tag != 0 {
			b = append(b, `,"tag":`...)
			b = strconv.AppendUint(b, uint64(r.Tag), 10)
		}
		if r.Area.IsValid() {
			b = appendField(b, "area", r.Area)
		}
		if orders && r.Order != 0 {
			b = append(b, `,"order":`...)
			b = strconv.AppendUint(b, r.Order, 10)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

func (n *NetworkView) appendJSON(b []byte, orders bool) []byte {
	b = append(b, `{"prefix":"`...)
	b = n.Prefix.AppendTo(b)
	b = append(b, '"')
	if n.DR.IsValid() {
		b = appendField(b, "dr", n.DR)
	}
	if n.DRAddr.IsValid() {
		b = appendField(b, "draddr", n.DRAddr)
	}
	if len(n.Routers) > 0 {
		b = append(b, `,"routers":[`...)
		for i, m := range n.Routers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = m.AppendTo(b)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	if orders && n.Order != 0 {
		b = append(b, `,"order":`...)
		b = strconv.AppendUint(b, n.Order, 10)
	}
	return append(b, '}')
}

type wireView struct {
	Seq     *uint64    `json:"seq"`
	Updated *time.Time `json:"updated"`
	Areas   []struct {
		ID       string        `json:"id"`
		Routers  []wireRouter  `json:"routers"`
		Networks []wireNetwork `json:"networks"`
	} `json:"areas"`
}

type wireRouter struct {
	ID        string          `json:"id"`
	LSA       bool            `json:"lsa"`
	Flags     uint8           `json:"flags"`
	LSAOrder  uint64          `json:"lsaorder"`
	Links     []wireViewLink  `json:"links"`
	Summaries []wireViewLink  `json:"summaries"`
	Externals []wireViewRoute `json:"externals"`
	NSSA      []wireViewRoute `json:"nssa"`
}

type wireViewLink struct {
	Kind   string  `json:"kind"`
	ID     string  `json:"id"`
	Metric *uint32 `json:"metric"`
	Type2  bool    `json:"type2"`
	Via    string  `json:"via"`
}

type wireViewRoute struct {
	Prefix  string  `json:"prefix"`
	Metric  *uint32 `json:"metric"`
	Type2   bool    `json:"type2"`
	Forward string  `json:"forward"`
	Tag     uint32  `json:"tag"`
	Area    string  `json:"area"`
	Order   uint64  `json:"order"`
}

type wireNetwork struct {
	Prefix  string   `json:"prefix"`
	DR      string   `json:"dr"`
	DRAddr  string   `json:"draddr"`
	Routers []string `json:"routers"`
	Order   uint64   `json:"order"`
}

// ParseView reads a view that View.AppendJSON wrote. Areas, routers and
// networks must be in order, each once.
func ParseView(p []byte) (*View, error) {
	var w wireView
	if err := json.Unmarshal(p, &w); err != nil {
		return nil, fmt.Errorf("view: %w", err)
	}
	if w.Seq == nil || w.Updated == nil {
		return nil, fmt.Errorf(`view: want {"seq": N, "updated": T, "areas": [...]}`)
	}
	v := &View{Seq: *w.Seq, Updated: *w.Updated}
	if len(w.Areas) > 0 {
		v.Areas = make([]AreaView, 0, len(w.Areas))
	}
	for i := range w.Areas {
		wa := &w.Areas[i]
		id, err := parseAddr(wa.ID)
		if err != nil {
			return nil, fmt.Errorf("view: area: %w", err)
		}
		if i > 0 && v.Areas[i-1].ID.Compare(id) >= 0 {
			return nil, fmt.Errorf("view: area %s is out of order", id)
		}
		a := AreaView{ID: id}
		if len(wa.Routers) > 0 {
			a.Routers = make([]RouterView, 0, len(wa.Routers))
		}
		for j := range wa.Routers {
			r, err := wa.Routers[j].view()
			if err != nil {
				return nil, fmt.Errorf("view: area %s: %w", id, err)
			}
			if j > 0 && a.Routers[j-1].ID.Compare(r.ID) >= 0 {
				return nil, fmt.Errorf("view: area %s: router %s is out of order", id, r.ID)
			}
			a.Routers = append(a.Routers, r)
		}
		if len(wa.Networks) > 0 {
			a.Networks = make([]NetworkView, 0, len(wa.Networks))
		}
		for j := range wa.Networks {
			n, err := wa.Networks[j].view()
			if err != nil {
				return nil, fmt.Errorf("view: area %s: %w", id, err)
			}
			if j > 0 && comparePrefixes(a.Networks[j-1].Prefix, n.Prefix) >= 0 {
				return nil, fmt.Errorf("view: area %s: network %s is out of order", id, n.Prefix)
			}
			a.Networks = append(a.Networks, n)
		}
		v.Areas = append(v.Areas, a)
	}
	return v, nil
}

func (w *wireRouter) view() (RouterView, error) {
	id, err := parseAddr(w.ID)
	if err != nil {
		return RouterView{}, fmt.Errorf("router: id: %w", err)
	}
	r := RouterView{ID: id, HasLSA: w.LSA, Flags: w.Flags, LSAOrder: w.LSAOrder}
	if r.Links, err = viewLinks(w.Links, KindRouter, KindNetwork, KindStubnet); err != nil {
		return r, fmt.Errorf("router %s: links: %w", id, err)
	}
	if r.Summaries, err = viewLinks(w.Summaries, KindXNetwork, KindXRouter); err != nil {
		return r, fmt.Errorf("router %s: summaries: %w", id, err)
	}
	if r.Externals, err = viewRoutes(w.Externals, false); err != nil {
		return r, fmt.Errorf("router %s: externals: %w", id, err)
	}
	if r.NSSA, err = viewRoutes(w.NSSA, true); err != nil {
		return r, fmt.Errorf("router %s: nssa: %w", id, err)
	}
	return r, nil
}

func viewLinks(ws []wireViewLink, kinds ...LinkKind) ([]Link, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	out := make([]Link, 0, len(ws))
	for i := range ws {
		w := &ws[i]
		k, ok := parseKind(w.Kind)
		if !ok || !containsKind(kinds, k) {
			return nil, fmt.Errorf("link %d: kind %.20q is not one of %v", i, w.Kind, kinds)
		}
		if w.Metric == nil {
			return nil, fmt.Errorf("link %d: no metric", i)
		}
		id, err := parseLinkID(k, w.ID)
		if err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
		if w.Type2 && !k.isRoute() {
			return nil, fmt.Errorf("link %d: type2 on a %s link", i, k)
		}
		via, err := parseVia(k, w.ID, w.Via)
		if err != nil {
			return nil, fmt.Errorf("link %d: %w", i, err)
		}
		out = append(out, NewLink(k, id, *w.Metric, w.Type2, via))
	}
	return out, nil
}

func containsKind(ks []LinkKind, k LinkKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func viewRoutes(ws []wireViewRoute, nssa bool) ([]Route, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	out := make([]Route, 0, len(ws))
	for i := range ws {
		w := &ws[i]
		p, err := parsePrefix(w.Prefix)
		if err != nil {
			return nil, fmt.Errorf("route %d: prefix: %w", i, err)
		}
		if w.Metric == nil {
			return nil, fmt.Errorf("route %d: no metric", i)
		}
		r := Route{Prefix: p, Metric: *w.Metric, Type2: w.Type2, Tag: w.Tag, Order: w.Order}
		if r.Forward, err = parseVia(KindExternal, w.Prefix, w.Forward); err != nil {
			return nil, fmt.Errorf("route %d: %w", i, err)
		}
		switch {
		case nssa && w.Area == "":
			return nil, fmt.Errorf("route %d: an NSSA route without its area", i)
		case !nssa && w.Area != "":
			return nil, fmt.Errorf("route %d: an AS-external route with an NSSA area", i)
		case nssa:
			if r.Area, err = parseAddr(w.Area); err != nil {
				return nil, fmt.Errorf("route %d: area: %w", i, err)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (w *wireNetwork) view() (NetworkView, error) {
	p, err := parsePrefix(w.Prefix)
	if err != nil {
		return NetworkView{}, fmt.Errorf("network: prefix: %w", err)
	}
	n := NetworkView{Prefix: p, Order: w.Order}
	if w.DR != "" {
		if n.DR, err = parseAddr(w.DR); err != nil {
			return n, fmt.Errorf("network %s: dr: %w", p, err)
		}
	}
	if w.DRAddr != "" {
		if n.DRAddr, err = parseAddr(w.DRAddr); err != nil {
			return n, fmt.Errorf("network %s: draddr: %w", p, err)
		}
	}
	if len(w.Routers) > 0 {
		n.Routers = make([]netip.Addr, 0, len(w.Routers))
	}
	for i, s := range w.Routers {
		m, err := parseAddr(s)
		if err != nil {
			return n, fmt.Errorf("network %s: router %d: %w", p, i, err)
		}
		n.Routers = append(n.Routers, m)
	}
	return n, nil
}
