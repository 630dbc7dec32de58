// Package historytest generates archives for the tests and benchmarks of
// the history: the NYC Mesh LSDB in an lsdb.DB, driven through random,
// realistic changes over simulated time, archived by internal/archive's
// own writers as `ospf-operator stream` archives it. It also keeps a
// month of such history, generated once, for the benchmarks (Month).
package historytest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// Config describes a history to generate.
type Config struct {
	// Events and Snapshots are the archive's directories.
	Events, Snapshots string
	// Start is when the history starts (the LSDB's load and its first
	// snapshot); default 2024-03-01T00:00:00Z. Duration is how long it
	// lasts.
	Start    time.Time
	Duration time.Duration
	// MeanGap is the mean time between two changes (exponentially
	// distributed; one in ten falls exactly on a minute, where a snapshot
	// may be taken); default 45 s, about 4,000 events a day.
	MeanGap time.Duration
	// Seed seeds the changes.
	Seed uint64
	// Snapshot says whether the minute that starts at t gets its
	// snapshot; every minute when nil. The first minute always does.
	Snapshot func(t time.Time) bool
	// Observe, when set, is called after each change: the database holds
	// the state of every time in [at, next).
	Observe func(db *lsdb.DB, at, next time.Time) error
}

// Stats say what was generated.
type Stats struct {
	Changes, Events, Snapshots int
	End                        time.Time
}

// gen is one generation's state: the LSAs as ospfd would hold them.
type gen struct {
	cfg  Config
	rng  *rand.Rand
	clk  *streamtest.Clock
	db   *lsdb.DB
	sub  *lsdb.Subscription
	arch *archive.Archive
	snap *archive.SnapshotWriter
	st   Stats

	routers   map[netip.Addr]*ospf.RouterLSA // Router-LSAs in the database
	ids       []netip.Addr                   // every router with a Router-LSA at the start
	withdrawn map[netip.Addr]*ospf.RouterLSA // Router-LSAs flushed, to come back
	downLinks []p2p                          // point-to-point links taken down, to come back
	stubs     map[netip.Addr][]ospf.RouterLink
	externals []*ospf.ExternalLSA // AS-external LSAs in the database
	networks  []*ospf.NetworkLSA
	left      []member // routers that left a LAN, to come back
	nextExt   uint32
	evs       []lsdb.Event
}

type p2p struct {
	a, b   netip.Addr
	la, lb ospf.RouterLink
}

type member struct {
	n *ospf.NetworkLSA
	r netip.Addr
}

var area0 = netip.IPv4Unspecified()

// Generate writes the history cfg describes.
func Generate(cfg Config) (Stats, error) {
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	if cfg.MeanGap <= 0 {
		cfg.MeanGap = 45 * time.Second
	}
	if cfg.Snapshot == nil {
		cfg.Snapshot = func(time.Time) bool { return true }
	}
	lsas, err := ospfapitest.LoadSnapshotFile(streamtest.Fixture, ospfapitest.EncodeOptions{})
	if err != nil {
		return Stats{}, err
	}
	g := &gen{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x4e5943)), clk: streamtest.NewClock(cfg.Start),
		routers: map[netip.Addr]*ospf.RouterLSA{}, withdrawn: map[netip.Addr]*ospf.RouterLSA{}, stubs: map[netip.Addr][]ospf.RouterLink{}}
	for _, l := range lsas {
		switch x := l.LSA.(type) {
		case *ospf.RouterLSA:
			g.routers[x.AdvRouter] = x
			g.ids = append(g.ids, x.AdvRouter)
		case *ospf.ExternalLSA:
			g.externals = append(g.externals, x)
		case *ospf.NetworkLSA:
			g.networks = append(g.networks, x)
		}
	}
	slices.SortFunc(g.ids, netip.Addr.Compare)
	g.db = lsdb.New(lsdb.Config{Now: g.clk.Now})
	if err := ospfapitest.LoadDB(g.db, lsas, g.clk.Now()); err != nil {
		return Stats{}, err
	}
	if g.sub, err = g.db.Feed().Subscribe(g.db.Feed().LastSeq()); err != nil {
		return Stats{}, err
	}
	fsys := noSyncFS{}
	if g.arch, err = archive.NewArchive(archive.ArchiveConfig{Dir: cfg.Events, Now: g.clk.Now, FS: fsys}); err != nil {
		return Stats{}, err
	}
	defer g.arch.Close()
	if g.snap, err = archive.NewSnapshotWriter(archive.SnapshotConfig{Dir: cfg.Snapshots, Source: g.db, Current: "-", Now: g.clk.Now, FS: fsys}); err != nil {
		return Stats{}, err
	}
	if err := g.snapshot(cfg.Start); err != nil {
		return Stats{}, err
	}
	end := cfg.Start.Add(cfg.Duration)
	now, next := cfg.Start, g.after(cfg.Start)
	for next.Before(end) {
		// The snapshots of the minutes before the change.
		for m := now.Truncate(time.Minute).Add(time.Minute); m.Before(next); m = m.Add(time.Minute) {
			if cfg.Snapshot(m) {
				g.clk.Set(m)
				if err := g.snapshot(m); err != nil {
					return g.st, err
				}
			}
		}
		now = next
		g.clk.Set(now)
		if err := g.change(); err != nil {
			return g.st, err
		}
		// A snapshot at the change's very time is taken after it.
		if now.Equal(now.Truncate(time.Minute)) && cfg.Snapshot(now) {
			if err := g.snapshot(now); err != nil {
				return g.st, err
			}
		}
		next = g.after(now)
		if cfg.Observe != nil {
			if err := cfg.Observe(g.db, now, next); err != nil {
				return g.st, err
			}
		}
	}
	g.st.End = now
	return g.st, g.arch.Close()
}

// after is the time of the change after one at t: never t itself, to the
// millisecond, and one in ten exactly on the next minute.
func (g *gen) after(t time.Time) time.Time {
	if g.rng.IntN(10) == 0 {
		return t.Truncate(time.Minute).Add(time.Minute)
	}
	d := time.Duration(g.rng.ExpFloat64() * float64(g.cfg.MeanGap)).Truncate(time.Millisecond)
	return t.Add(max(d, time.Millisecond))
}

func (g *gen) snapshot(m time.Time) error {
	g.st.Snapshots++
	return g.snap.WriteAt(m)
}

// change makes one random change, commits it and archives its events.
func (g *gen) change() error {
	var err error
	for done := false; !done && err == nil; {
		switch p := g.rng.IntN(100); {
		case p < 30:
			done, err = g.flap()
		case p < 50:
			done, err = g.metric()
		case p < 65:
			done, err = g.external()
		case p < 75:
			done, err = g.outage()
		case p < 90:
			done, err = g.stub()
		default:
			done, err = g.lan()
		}
	}
	if err != nil {
		return err
	}
	g.st.Changes++
	if g.db.Commit() == 0 {
		return nil
	}
	g.evs, err = g.sub.Read(context.Background(), g.evs[:0])
	if err != nil {
		return err
	}
	g.st.Events += len(g.evs)
	_, err = g.arch.Write(g.evs)
	return err
}

// update floods a new instance of l (or its flush, at MaxAge).
func (g *gen) update(l ospf.LSA, flush bool) error {
	h := l.Hdr()
	h.SeqNum++
	h.Age = 0
	if flush {
		h.Age = ospf.MaxAge
	}
	raw, err := ospf.Marshal(l)
	if err != nil {
		return err
	}
	return g.db.Update(area0, raw, g.clk.Now())
}

// upRouter picks a router whose Router-LSA is in the database.
func (g *gen) upRouter() (netip.Addr, *ospf.RouterLSA, bool) {
	id := g.ids[g.rng.IntN(len(g.ids))]
	r := g.routers[id]
	return id, r, r != nil
}

// p2pIndex picks a point-to-point link of r, -1 when it has none.
func (g *gen) p2pIndex(r *ospf.RouterLSA) int {
	var idx []int
	for i, l := range r.Links {
		if l.Type == ospf.LinkPointToPoint {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return -1
	}
	return idx[g.rng.IntN(len(idx))]
}

// flap takes a point-to-point link down on both sides, or brings one back.
// A router is never left without links: no event can say it has none.
func (g *gen) flap() (bool, error) {
	if len(g.downLinks) > 0 && g.rng.IntN(2) == 0 {
		i := g.rng.IntN(len(g.downLinks))
		d := g.downLinks[i]
		ra, rb := g.routers[d.a], g.routers[d.b]
		if ra == nil || rb == nil {
			return false, nil
		}
		g.downLinks = slices.Delete(g.downLinks, i, i+1)
		ra.Links = append(ra.Links, d.la)
		rb.Links = append(rb.Links, d.lb)
		return true, errors.Join(g.update(ra, false), g.update(rb, false))
	}
	a, ra, ok := g.upRouter()
	if !ok || len(ra.Links) < 2 {
		return false, nil
	}
	i := g.p2pIndex(ra)
	if i < 0 {
		return false, nil
	}
	b := ra.Links[i].ID
	rb := g.routers[b]
	if rb == nil || len(rb.Links) < 2 {
		return false, nil
	}
	j := slices.IndexFunc(rb.Links, func(l ospf.RouterLink) bool { return l.Type == ospf.LinkPointToPoint && l.ID == a })
	if j < 0 {
		return false, nil
	}
	g.downLinks = append(g.downLinks, p2p{a: a, b: b, la: ra.Links[i], lb: rb.Links[j]})
	ra.Links = slices.Delete(ra.Links, i, i+1)
	rb.Links = slices.Delete(rb.Links, j, j+1)
	return true, errors.Join(g.update(ra, false), g.update(rb, false))
}

// metric changes the cost of one side of a point-to-point link.
func (g *gen) metric() (bool, error) {
	_, r, ok := g.upRouter()
	if !ok {
		return false, nil
	}
	i := g.p2pIndex(r)
	if i < 0 {
		return false, nil
	}
	m := uint16(1 + g.rng.IntN(200))
	if m == r.Links[i].Metric {
		m++
	}
	r.Links[i].Metric = m
	return true, g.update(r, false)
}

// external adds, removes or changes an AS-external route.
func (g *gen) external() (bool, error) {
	switch k := g.rng.IntN(3); {
	case k == 0 || len(g.externals) == 0:
		id, _, ok := g.upRouter()
		if !ok {
			return false, nil
		}
		g.nextExt++
		n := g.nextExt
		x := &ospf.ExternalLSA{
			Header: ospf.Header{Options: 0x02, Type: ospf.ASExternalLSAType, LSID: netip.AddrFrom4([4]byte{100, byte(64 + n>>16&63), byte(n >> 8), byte(n)}),
				AdvRouter: id, SeqNum: ospf.InitialSeqNum - 1},
			Mask: netip.MustParseAddr("255.255.255.255"), Type2: g.rng.IntN(2) == 0, Metric: uint32(1 + g.rng.IntN(100)),
		}
		g.externals = append(g.externals, x)
		return true, g.update(x, false)
	case k == 1:
		i := g.rng.IntN(len(g.externals))
		x := g.externals[i]
		g.externals = slices.Delete(g.externals, i, i+1)
		return true, g.update(x, true)
	default:
		x := g.externals[g.rng.IntN(len(g.externals))]
		x.Metric = x.Metric%100 + 1
		return true, g.update(x, false)
	}
}

// outage flushes a router's Router-LSA, or brings one back.
func (g *gen) outage() (bool, error) {
	if len(g.withdrawn) > 0 && g.rng.IntN(2) == 0 {
		ids := make([]netip.Addr, 0, len(g.withdrawn))
		for id := range g.withdrawn {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, netip.Addr.Compare)
		id := ids[g.rng.IntN(len(ids))]
		r := g.withdrawn[id]
		delete(g.withdrawn, id)
		g.routers[id] = r
		return true, g.update(r, false)
	}
	id, r, ok := g.upRouter()
	if !ok {
		return false, nil
	}
	delete(g.routers, id)
	g.withdrawn[id] = r
	return true, g.update(r, true)
}

// stub adds a stub network to a router, or removes one it added.
func (g *gen) stub() (bool, error) {
	id, r, ok := g.upRouter()
	if !ok {
		return false, nil
	}
	if s := g.stubs[id]; len(s) > 0 && g.rng.IntN(2) == 0 {
		l := s[len(s)-1]
		g.stubs[id] = s[:len(s)-1]
		i := slices.IndexFunc(r.Links, func(x ospf.RouterLink) bool { return x.Type == ospf.LinkStub && x.ID == l.ID })
		if i < 0 {
			return false, fmt.Errorf("router %s lost its stub %s", id, l.ID)
		}
		r.Links = slices.Delete(r.Links, i, i+1)
		return true, g.update(r, false)
	}
	n := len(g.stubs[id])
	l := ospf.RouterLink{ID: netip.AddrFrom4([4]byte{198, 18, byte(g.rng.IntN(256)), byte(n)}), Data: netip.MustParseAddr("255.255.255.255"),
		Type: ospf.LinkStub, Metric: uint16(1 + g.rng.IntN(10))}
	if slices.ContainsFunc(r.Links, func(x ospf.RouterLink) bool { return x.Type == ospf.LinkStub && x.ID == l.ID }) {
		return false, nil
	}
	g.stubs[id] = append(g.stubs[id], l)
	r.Links = append(r.Links, l)
	return true, g.update(r, false)
}

// lan makes a router that is not the DR leave a LAN, or one come back.
func (g *gen) lan() (bool, error) {
	if len(g.left) > 0 && g.rng.IntN(2) == 0 {
		i := g.rng.IntN(len(g.left))
		m := g.left[i]
		g.left = slices.Delete(g.left, i, i+1)
		m.n.Attached = append(m.n.Attached, m.r)
		return true, g.update(m.n, false)
	}
	if len(g.networks) == 0 {
		return false, nil
	}
	n := g.networks[g.rng.IntN(len(g.networks))]
	var others []int
	for i, r := range n.Attached {
		if r != n.AdvRouter {
			others = append(others, i)
		}
	}
	if len(others) < 2 {
		return false, nil
	}
	i := others[g.rng.IntN(len(others))]
	g.left = append(g.left, member{n, n.Attached[i]})
	n.Attached = slices.Delete(n.Attached, i, i+1)
	return true, g.update(n, false)
}

// noSyncFS is the file system without fsync: a generated archive need
// not survive a crash, and syncing thousands of files takes minutes.
type noSyncFS struct{ archive.OSFS }

func (f noSyncFS) OpenFile(name string, flag int, perm fs.FileMode) (archive.File, error) {
	file, err := f.OSFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return noSyncFile{file}, nil
}

type noSyncFile struct{ archive.File }

func (noSyncFile) Sync() error { return nil }
