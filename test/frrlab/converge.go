package frrlab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// convergePoll is how often WaitConverged asks the routers.
const convergePoll = 250 * time.Millisecond

// maxAge is the LS age of an LSA being flushed (RFC 2328 B).
const maxAge = 3600

// ConvergeError reports a lab that did not converge in time: what was still
// wrong at the last look, and the end of the daemons' logs.
type ConvergeError struct {
	Prefix   string
	Waited   time.Duration
	Problems []string
	// State is what ospfd and the kernel say of the routers whose own
	// LSAs were wrong: their interfaces, addresses and self-originated
	// Router-LSAs.
	State string
	Logs  string
}

func (e *ConvergeError) Error() string {
	return fmt.Sprintf("frrlab: %s not converged after %v:\n  %s\n%s%s",
		e.Prefix, e.Waited.Round(time.Millisecond), strings.Join(e.Problems, "\n  "), e.State, e.Logs)
}

// originators are the routers whose Router-LSA a problem line names.
func (l *Lab) originators(problems []string) []Router {
	var out []Router
	for _, r := range l.topo.Routers {
		for _, p := range problems {
			if strings.Contains(p, "router LSA of "+r.ID.String()+" ") {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// diagnose describes the state of the routers whose own LSAs are wrong.
func (l *Lab) diagnose(problems []string) string {
	var b strings.Builder
	for _, r := range l.originators(problems) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		for _, c := range []string{"show ip ospf interface", "show ip ospf database router self-originate"} {
			out, err := l.VtyshContext(ctx, r.Name, c)
			if err != nil {
				out = err.Error()
			}
			fmt.Fprintf(&b, "--- %s: %s\n%s\n", r.Name, c, strings.TrimSpace(out))
		}
		out, err := l.ExecContext(ctx, r.Name, "ip", "-br", "addr").CombinedOutput()
		if err != nil {
			out = append(out, err.Error()...)
		}
		fmt.Fprintf(&b, "--- %s: ip -br addr\n%s\n", r.Name, bytes.TrimSpace(out))
		cancel()
	}
	return b.String()
}

// WaitConverged polls every router until all its adjacencies are Full and
// its LSDB holds exactly the LSAs the topology implies, identical on every
// router of an area (by ospfd's per-type counts and checksum sums), router
// LSAs with all their links, and the LAN's network LSA from the expected
// DR. It returns a *DaemonError at once if a daemon dies, and a
// *ConvergeError when ctx ends first.
func (l *Lab) WaitConverged(ctx context.Context) error {
	start := time.Now()
	want := expectations(l.topo)
	tick := time.NewTicker(convergePoll)
	defer tick.Stop()
	var problems []string
	for {
		if err := l.checkDaemons(); err != nil {
			return err
		}
		p := l.convergeProblems(ctx, want)
		if len(p) == 0 {
			return nil
		}
		// A poll cut short by the deadline says nothing about the lab;
		// report the last complete one.
		if ctx.Err() == nil || problems == nil {
			problems = p
		}
		select {
		case <-ctx.Done():
			return &ConvergeError{Prefix: l.opts.Prefix, Waited: time.Since(start), Problems: problems,
				State: l.diagnose(problems), Logs: l.LogTails()}
		case <-tick.C:
		}
	}
}

// areaExpect is what one area's LSDB must hold.
type areaExpect struct {
	routerLinks   map[netip.Addr]int // advertising router -> links in its router LSA
	networks      map[netip.Addr][]netip.Addr
	summaries     int
	asbrSummaries int
	// asbrSubjects are the ASBRs the ASBR-summaries are about; a router
	// that is one holds none about itself (r5, in the backbone through its
	// virtual link).
	asbrSubjects  []netip.Addr
	nssaExternals int
}

// asbrAbout returns how many of the area's ASBR-summaries are about router.
func (ae *areaExpect) asbrAbout(router netip.Addr) int {
	n := 0
	for _, id := range ae.asbrSubjects {
		if id == router {
			n++
		}
	}
	return n
}

// routerExpect is what one router must report.
type routerExpect struct {
	neighbors []netip.Addr
	areas     map[netip.Addr]*areaExpect
	externals int
}

// expectations derives every router's expected state from the topology.
func expectations(t *Topology) map[string]*routerExpect {
	var areaIDs []netip.Addr
	for _, r := range t.Routers {
		for _, a := range r.Areas {
			if !slices.Contains(areaIDs, a) {
				areaIDs = append(areaIDs, a)
			}
		}
	}
	isNSSA := func(a netip.Addr) bool { return t.NSSA && a == Area1 }
	// A router is in an area through its interfaces (onLink) or, for the
	// backbone, through a virtual link too (inArea).
	onLink := func(r Router, a netip.Addr) bool { return slices.Contains(r.Areas, a) }
	inArea := func(r Router, a netip.Addr) bool { return slices.Contains(t.ospfAreas(r), a) }
	isABR := func(r Router) bool { return len(t.ospfAreas(r)) > 1 }
	// Intra-area prefixes, which an ABR summarises into the other areas.
	prefixes := map[netip.Addr]int{}
	for _, r := range t.Routers {
		prefixes[t.loopbackArea(r.Name)] += 1 + len(t.Stubs[r.Name])
	}
	for _, l := range t.Links {
		prefixes[l.Area]++
	}
	areas := map[netip.Addr]*areaExpect{}
	externals := 0
	for _, a := range areaIDs {
		ae := &areaExpect{routerLinks: map[netip.Addr]int{}, networks: map[netip.Addr][]netip.Addr{}}
		for _, r := range t.Routers {
			if !inArea(r, a) {
				continue
			}
			n := 0
			if t.loopbackArea(r.Name) == a {
				n = 1 + len(t.Stubs[r.Name])
			}
			for _, ifc := range t.interfaces(r.Name) {
				if ifc.Link.Area != a {
					continue
				}
				if ifc.Link.Kind == PointToPoint {
					n += 2 // the neighbour and the link's subnet as a stub
				} else {
					n++ // the transit network
				}
			}
			if a == Backbone {
				n += len(t.virtualPeers(r.Name)) // a virtual link each
			}
			ae.routerLinks[r.ID] = n
			if isNSSA(a) && len(r.Areas) == 1 {
				ae.nssaExternals += len(t.Statics[r.Name])
			}
		}
		for _, l := range t.Links {
			if l.Area != a || l.Kind != Broadcast {
				continue
			}
			var dr netip.Addr
			var attached []netip.Addr
			for _, e := range l.Ends {
				r, _ := t.Router(e.Router)
				attached = append(attached, r.ID)
				if e.Router == t.DR {
					dr = e.Addr
				}
			}
			slices.SortFunc(attached, netip.Addr.Compare)
			ae.networks[dr] = attached
		}
		// Every ABR in a summarises into a the prefixes of each other area
		// it has an interface in. Those of an area it reaches only through
		// a virtual link it reaches through a itself: no summary (RFC
		// 2328 12.4.3).
		for _, r := range t.Routers {
			if !isABR(r) || !inArea(r, a) {
				continue
			}
			for _, b := range areaIDs {
				if b != a && onLink(r, b) {
					ae.summaries += prefixes[b]
				}
			}
			if isNSSA(a) {
				ae.summaries++ // FRR 8.4's ABR adds a default route into an NSSA
			}
		}
		if !isNSSA(a) {
			// An ASBR-summary for every ASBR of a normal area other than a.
			for _, r := range t.Routers {
				if len(t.Statics[r.Name]) > 0 && !onLink(r, a) && !slices.ContainsFunc(r.Areas, isNSSA) {
					ae.asbrSummaries++
					ae.asbrSubjects = append(ae.asbrSubjects, r.ID)
				}
			}
		}
		areas[a] = ae
	}
	for _, r := range t.Routers {
		externals += len(t.Statics[r.Name])
	}
	out := map[string]*routerExpect{}
	for _, r := range t.Routers {
		re := &routerExpect{neighbors: t.neighbors(r.Name), areas: map[netip.Addr]*areaExpect{}}
		slices.SortFunc(re.neighbors, netip.Addr.Compare)
		for _, a := range t.ospfAreas(r) {
			re.areas[a] = areas[a]
		}
		// AS-external LSAs are flooded everywhere except into NSSAs. A
		// router only in an NSSA still holds type 5 copies of its own
		// redistributed routes in FRR 8.4, unflooded.
		if nssaOnly(t, r) {
			re.externals = len(t.Statics[r.Name])
		} else {
			re.externals = externals
		}
		out[r.Name] = re
	}
	return out
}

// convergeCommands are asked of every router on each poll, in one vtysh.
var convergeCommands = []string{
	"show ip ospf neighbor json",
	"show ip ospf json",
	"show ip ospf database router json",
	"show ip ospf database network json",
	"show ip ospf database summary json",
	"show ip ospf database asbr-summary json",
}

// routerState is one router's answer to convergeCommands.
type routerState struct {
	neighbors []Neighbor
	instance  jsonInstance
	routers   jsonAreas
	networks  jsonAreas
	summaries jsonAreas
	asbrs     jsonAreas
}

func (l *Lab) routerState(ctx context.Context, router string) (*routerState, error) {
	out, err := l.VtyshContext(ctx, router, convergeCommands...)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(out)))
	var nb jsonNeighbors
	st := &routerState{}
	for i, v := range []any{&nb, &st.instance, &st.routers, &st.networks, &st.summaries, &st.asbrs} {
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", router, convergeCommands[i], err)
		}
	}
	if st.neighbors, err = nb.neighbors(); err != nil {
		return nil, fmt.Errorf("%s: %w", router, err)
	}
	return st, nil
}

// convergeProblems returns what still differs from want, or nothing.
func (l *Lab) convergeProblems(ctx context.Context, want map[string]*routerExpect) []string {
	var problems []string
	states := map[string]*routerState{}
	for _, r := range l.topo.Routers {
		st, err := l.routerState(ctx, r.Name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		states[r.Name] = st
		problems = append(problems, routerProblems(r, st, want[r.Name])...)
	}
	if len(problems) > 0 {
		return problems
	}
	return consistencyProblems(l.topo, states)
}

func routerProblems(r Router, st *routerState, want *routerExpect) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, r.Name+": "+fmt.Sprintf(format, args...)) }
	var full []netip.Addr
	for _, n := range st.neighbors {
		if n.Full() {
			full = append(full, n.RouterID)
		} else {
			add("neighbor %s on %s is %s", n.RouterID, n.Interface, n.State)
		}
	}
	if !slices.Equal(full, want.neighbors) {
		add("full neighbors %v, want %v", full, want.neighbors)
	}
	if st.instance.LSAExternalCounter != want.externals {
		add("%d AS-external LSAs, want %d", st.instance.LSAExternalCounter, want.externals)
	}
	for _, a := range slices.SortedFunc(maps.Keys(want.areas), netip.Addr.Compare) {
		ae := want.areas[a]
		got, ok := st.instance.Areas[a.String()]
		if !ok {
			add("not in area %s", a)
			continue
		}
		for _, c := range []struct {
			kind      string
			got, want int
		}{
			{"router", got.LSARouterNumber, len(ae.routerLinks)},
			{"network", got.LSANetworkNumber, len(ae.networks)},
			// Summaries by the LSAs in the view: a virtual link coming up
			// makes its ends originate, then flush, some that ospfd then
			// keeps for a minute at MaxAge.
			{"summary", len(liveLSAs(&st.summaries, a)), ae.summaries},
			{"ASBR-summary", len(liveLSAs(&st.asbrs, a, r.ID)), ae.asbrSummaries - ae.asbrAbout(r.ID)},
			{"NSSA-external", got.LSANssaNumber, ae.nssaExternals},
		} {
			if c.got != c.want {
				add("area %s: %d %s LSAs, want %d", a, c.got, c.kind, c.want)
			}
		}
		links := map[netip.Addr]int{}
		for _, j := range st.routers.States["routerLinkStates"][a.String()] {
			adv, err := netip.ParseAddr(j.AdvertisingRouter)
			if err == nil && j.LSAAge < maxAge {
				links[adv] = j.NumOfLinks
			}
		}
		for _, id := range slices.SortedFunc(maps.Keys(ae.routerLinks), netip.Addr.Compare) {
			n, ok := links[id]
			switch {
			case !ok:
				add("area %s: no router LSA of %s", a, id)
			case n != ae.routerLinks[id]:
				add("area %s: router LSA of %s has %d links, want %d", a, id, n, ae.routerLinks[id])
			}
		}
		nets := map[netip.Addr][]netip.Addr{}
		for _, j := range st.networks.States["networkLinkStates"][a.String()] {
			lsid, err := netip.ParseAddr(j.LinkStateID)
			if err != nil || j.LSAAge >= maxAge {
				continue
			}
			var attached []netip.Addr
			for _, ar := range j.AttachedRouters {
				if id, err := netip.ParseAddr(ar.AttachedRouterID); err == nil {
					attached = append(attached, id)
				}
			}
			slices.SortFunc(attached, netip.Addr.Compare)
			nets[lsid] = attached
		}
		if !maps.EqualFunc(nets, ae.networks, slices.Equal) {
			add("area %s: network LSAs %v, want %v", a, nets, ae.networks)
		}
	}
	return p
}

// consistencyProblems compares the per-type checksum sums of every area
// (and of the AS-external LSAs) across the routers that hold them: equal
// sums mean every router has the same instance of every LSA.
func consistencyProblems(t *Topology, states map[string]*routerState) []string {
	var p []string
	first := map[string]string{} // area or "external" -> router whose sums the others must match
	sums := func(st *routerState, area string) string {
		if area == "external" {
			return fmt.Sprint(st.instance.LSAExternalCounter, st.instance.LSAExternalChecksum)
		}
		a := st.instance.Areas[area]
		return fmt.Sprint(a.LSARouterChecksum, a.LSANetworkChecksum, a.LSANssaChecksum)
	}
	// Summaries and ASBR-summaries are compared as sets of the LSAs in
	// the view, leaving out ASBR-summaries about either router: a router
	// holds none about itself.
	summaries := func(st *routerState, area string, skip ...netip.Addr) string {
		a, _ := netip.ParseAddr(area)
		var keys []string
		for _, j := range liveLSAs(&st.summaries, a) {
			keys = append(keys, lsaString(j))
		}
		for _, j := range liveLSAs(&st.asbrs, a, skip...) {
			keys = append(keys, "asbr "+lsaString(j))
		}
		slices.Sort(keys)
		return strings.Join(keys, ", ")
	}
	for _, r := range t.Routers {
		st := states[r.Name]
		keys := []string{"external"}
		for _, a := range t.ospfAreas(r) {
			keys = append(keys, a.String())
		}
		for _, k := range keys {
			if k == "external" && nssaOnly(t, r) {
				continue
			}
			ref, ok := first[k]
			if !ok {
				first[k] = r.Name
				continue
			}
			if got, want := sums(st, k), sums(states[ref], k); got != want {
				p = append(p, fmt.Sprintf("%s: %s LSAs differ from %s's (checksum sums %s, %s has %s)", r.Name, k, ref, got, ref, want))
			}
			if k == "external" {
				continue
			}
			refR, _ := t.Router(ref)
			if got, want := summaries(st, k, r.ID, refR.ID), summaries(states[ref], k, r.ID, refR.ID); got != want {
				p = append(p, fmt.Sprintf("%s: area %s summary LSAs [%s] differ from %s's [%s]", r.Name, k, got, ref, want))
			}
		}
	}
	return p
}

// liveLSAs returns the LSAs of area in db (the answer to one "show ip ospf
// database TYPE json"), but those being flushed (at MaxAge: ospfd keeps
// them for a minute) and those whose link-state ID is one of skip.
func liveLSAs(db *jsonAreas, area netip.Addr, skip ...netip.Addr) []jsonLSA {
	var out []jsonLSA
	for _, byArea := range db.States {
		for _, j := range byArea[area.String()] {
			id, err := netip.ParseAddr(j.LinkStateID)
			if err == nil && j.LSAAge < maxAge && !slices.Contains(skip, id) {
				out = append(out, j)
			}
		}
	}
	return out
}

func lsaString(j jsonLSA) string {
	return j.LinkStateID + "/" + strconv.Itoa(j.NetworkMask) + " adv " + j.AdvertisingRouter + " seq " + j.LSASeqNumber + " cksum " + j.Checksum
}

// nssaOnly reports whether every area of r is an NSSA.
func nssaOnly(t *Topology, r Router) bool {
	return t.NSSA && !slices.ContainsFunc(r.Areas, func(a netip.Addr) bool { return a != Area1 })
}
