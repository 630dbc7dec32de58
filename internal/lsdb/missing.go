package lsdb

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// MissingRouter is a router that others reference in an area but whose
// Router-LSA the database does not have. In a synchronized LSDB this does
// not happen for long: it means ospfd failed to deliver the LSA (FRR since
// 8.1 refuses API messages over 1,500 bytes, so a Router-LSA with more than
// about 122 links never reaches a client).
type MissingRouter struct {
	Area   netip.Addr
	Router netip.Addr
	// ReferencedBy are the routers whose links or Network-LSAs name it;
	// empty for the local router itself.
	ReferencedBy []netip.Addr
}

func (m MissingRouter) String() string {
	if len(m.ReferencedBy) == 0 {
		return fmt.Sprintf("%s (area %s, the local router)", m.Router, m.Area)
	}
	refs := make([]string, len(m.ReferencedBy))
	for i, r := range m.ReferencedBy {
		refs[i] = r.String()
	}
	return fmt.Sprintf("%s (area %s, referenced by %s)", m.Router, m.Area, strings.Join(refs, ","))
}

// MissingRouters lists the routers referenced by point-to-point, virtual
// or network links of the view whose own Router-LSA is absent, in order.
// self, when valid, is the local router: it must have a Router-LSA in at
// least one area.
func (db *DB) MissingRouters(self netip.Addr) []MissingRouter {
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []MissingRouter
	selfSeen := false
	for aid, a := range db.areas {
		refs := make(map[netip.Addr][]netip.Addr)
		note := func(missing, by netip.Addr) {
			if n := a.routers[u32(missing)]; n != nil && n.lsa != nil {
				return
			}
			if !slices.Contains(refs[missing], by) {
				refs[missing] = append(refs[missing], by)
			}
		}
		for id, n := range a.routers {
			rid := addrOf(id)
			if n.lsa != nil && rid == self {
				selfSeen = true
			}
			for _, l := range n.links {
				if l.Kind == KindRouter {
					note(addrOf(l.id), rid)
				}
			}
		}
		for _, n := range a.networks {
			for _, m := range n.members {
				note(m, n.dr)
			}
		}
		for r, by := range refs {
			slices.SortFunc(by, netip.Addr.Compare)
			out = append(out, MissingRouter{Area: addrOf(aid), Router: r, ReferencedBy: by})
		}
	}
	if self.IsValid() && !selfSeen && len(db.entries) > 0 &&
		!slices.ContainsFunc(out, func(m MissingRouter) bool { return m.Router == self }) {
		out = append(out, MissingRouter{Area: backbone, Router: self})
	}
	slices.SortFunc(out, func(x, y MissingRouter) int {
		return cmp.Or(x.Area.Compare(y.Area), x.Router.Compare(y.Router))
	})
	return out
}
