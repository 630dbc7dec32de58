package lsdb

import (
	"bytes"
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// Config tunes a DB. The zero value is usable: no hold-down, a one-second
// reinstall window, a 65,536-event feed window.
type Config struct {
	// HoldDown delays the removal events of a withdrawn LSA; they vanish if
	// the LSA comes back unchanged within it. 0 disables the hold-down.
	HoldDown time.Duration
	// ReinstallWindow is how long a DELETE notification waits for the UPDATE
	// that ospfd sends right after it when it reinstalls an LSA, even when
	// HoldDown is 0 (FRR up to 10.3 sends DELETE(old) then UPDATE(new) on
	// every reinstall). Default 1s.
	ReinstallWindow time.Duration
	// FeedWindow is how many recent events the change feed keeps.
	FeedWindow int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

var backbone = netip.IPv4Unspecified()

// entry is one LSA of the database.
type entry struct {
	k   ukey
	raw []byte // the newest instance ospfd told us about, as received
	// originMs is the newest instance's origination time (arrival - age).
	originMs int64
	// withdrawnMs is when ospfd deleted the LSA or flushed it (MaxAge),
	// withdrawAt when the view drops it.
	withdrawnMs int64
	withdrawAt  int64 // unix nanoseconds
	// viewRaw is the instance the graph view reflects, nil when none;
	// viewMs is the origination time of the first instance with its
	// content (a refresh does not move it).
	viewRaw []byte
	viewMs  int64
	seenGen uint64
	// withdrawn is set when ospfd deleted the LSA or flushed it.
	withdrawn bool
	dirty     bool
	// For summary, external and NSSA LSAs in the view: the link they add to
	// their router, and their index in that router's list.
	link Link
	slot int32
	// order is the LSA's arrival index: given when its key first arrives,
	// kept across updates and across a withdrawal it comes back from while
	// the entry is still held (the reinstall window, the hold-down), new
	// once the entry was dropped. The seed's snapshot lists routers,
	// networks and externals in this order (see View).
	order uint64
}

// DB is an exact copy of an OSPF link-state database and its graph view.
// It is the one owner of the state: every method is safe for concurrent
// use, and every change of the view is published on its Feed.
type DB struct {
	mu  sync.Mutex
	cfg Config

	entries map[ukey]*entry
	dirty   list
	pending map[*entry]struct{} // withdrawals waiting for their deadline
	raw     slab[byte]
	links   slab[Link] // routers' links in the view

	// Entries and router nodes come from pools; those a commit drops go
	// back when it ends, once nothing of that commit can still reach them.
	entryPool   pool[entry]
	nodePool    pool[routerNode]
	dropped     []*entry
	droppedNode []*routerNode

	areas     map[uint32]*area
	placement map[uint32]uint32 // area under which a router's externals are published, while it has any

	syncing bool
	loaded  bool
	gen     uint64
	orders  uint64 // the last arrival index given (entry.order)
	seen    int    // entries the current dump has carried

	out []Event // events of the current commit
	// what the current commit touched, for its state records
	touchedR     []areaRouter
	touchedN     []areaNetwork
	touchedRoute []areaRoute
	scratch      []Link
	mute         bool // building the first view: no events
	feed         *Feed

	stats Stats
}

// Stats counts what the database has seen.
type Stats struct {
	Updates, Deletes uint64
	Ignored          uint64 // opaque and unknown LSA types, kept but not in the view
	Stale            uint64 // updates older than the instance held (RFC 2328 13.1)
	Malformed        uint64 // LSAs rejected by Decode
	Resyncs          uint64
}

// New returns an empty database.
func New(cfg Config) *DB {
	if cfg.ReinstallWindow == 0 {
		cfg.ReinstallWindow = time.Second
	}
	if cfg.FeedWindow == 0 {
		cfg.FeedWindow = 1 << 16
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &DB{
		cfg:       cfg,
		entries:   make(map[ukey]*entry),
		pending:   make(map[*entry]struct{}),
		areas:     make(map[uint32]*area),
		placement: make(map[uint32]uint32),
		feed:      NewFeed(cfg.FeedWindow),
	}
}

// Feed is the change feed of the view.
func (db *DB) Feed() *Feed { return db.feed }

// Loaded reports whether a first full dump has been applied.
func (db *DB) Loaded() bool {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.loaded
}

// Stats returns the counters.
func (db *DB) Stats() Stats {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.stats
}

// BeginSync starts a full dump of ospfd's database (the first one, or a
// resync after a reconnect). Until EndSync, changes are collected but not
// published, so that the view only ever moves between consistent states.
func (db *DB) BeginSync() {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.syncing = true
	db.gen++
	db.seen = 0
}

// SyncResult describes a completed dump.
type SyncResult struct {
	LSAs      int // LSAs in the database after the dump
	Withdrawn int // LSAs held before that the dump no longer had
	Events    int // events the resync published (0 for the first load)
}

// EndSync completes a dump: LSAs held before that the dump did not carry are
// withdrawn (NSSA LSAs excepted: ospfd never dumps them, so they age out at
// MaxAge instead), and the view is brought up to date. The first dump
// publishes no events; a resync publishes exactly the differences.
func (db *DB) EndSync() SyncResult {
	db.mu.Lock()
	defer db.mu.Unlock()
	now := db.cfg.Now()
	var res SyncResult
	var gone []*entry
	if db.seen < len(db.entries) { // else the dump carried every LSA held, as on a first load
		for _, e := range db.entries {
			if e.seenGen != db.gen && !e.withdrawn {
				gone = append(gone, e)
			}
		}
	}
	// In key order, so that the resync's events come in the same order
	// whatever the order of the map.
	slices.SortFunc(gone, func(x, y *entry) int { return x.k.compare(y.k) })
	for _, e := range gone {
		if e.k.typ() == ospf.NSSAExternalLSAType {
			// Not in any dump: keep it until it would have reached MaxAge.
			if e.withdrawAt == 0 && instance(e.raw).Age&ospf.DoNotAge == 0 {
				e.withdrawn = true
				e.withdrawnMs = e.originMs + ospf.MaxAge*1000
				e.withdrawAt = e.withdrawnMs * 1e6
				db.markDirty(e)
			}
			continue
		}
		e.withdrawn = true
		e.withdrawnMs = now.UnixMilli()
		e.withdrawAt = now.Add(db.cfg.HoldDown).UnixNano()
		db.markDirty(e)
		res.Withdrawn++
	}
	db.syncing = false
	if !db.loaded {
		db.presize()
		db.mute = true
		db.commitLocked(now, true)
		db.mute = false
		db.loaded = true
	} else {
		db.stats.Resyncs++
		res.Events = db.commitLocked(now, false)
	}
	res.LSAs = len(db.entries)
	return res
}

// Update applies an LSA_UPDATE_NOTIFY (or one LSA of a dump): lsa is the
// whole LSA as received, area the area it belongs to (ignored for AS-scoped
// types). An LSA at MaxAge is a withdrawal.
func (db *DB) Update(area netip.Addr, lsa []byte, arrival time.Time) error {
	hdr, err := ospf.Validate(lsa)
	if err != nil {
		db.mu.Lock()
		db.stats.Malformed++
		db.mu.Unlock()
		return err
	}
	h := &hdr
	db.mu.Lock()
	defer db.mu.Unlock()
	db.stats.Updates++
	if !h.Type.Known() {
		db.stats.Ignored++
	}
	k := keyOf(area, h)
	e := db.entries[k]
	if e != nil && !db.syncing && !e.withdrawn && compareRaw(h, e.raw) <= 0 {
		// Within a session ospfd only moves forward: an older instance is
		// stale, the same instance a repeat. A dump is the truth as it is
		// (ospfd may have restarted with lower sequence numbers), so it
		// always replaces.
		if compareRaw(h, e.raw) < 0 {
			db.stats.Stale++
		}
		return nil
	}
	if e == nil {
		e = db.entryPool.get()
		e.k = k
		db.orders++
		e.order = db.orders
		db.entries[k] = e
	}
	if e.seenGen != db.gen {
		e.seenGen = db.gen
		db.seen++
	}
	e.raw = db.raw.copy(lsa[:h.Length], slabBlock)
	e.originMs = arrival.UnixMilli() - int64(h.EffectiveAge())*1000
	if h.IsMaxAge() {
		if !e.withdrawn {
			e.withdrawn = true
			e.withdrawnMs = arrival.UnixMilli()
			e.withdrawAt = arrival.Add(db.cfg.HoldDown).UnixNano()
		}
	} else {
		e.withdrawn = false
		e.withdrawAt = 0
	}
	db.markDirty(e)
	return nil
}

// Delete applies an LSA_DELETE_NOTIFY: ospfd removed that instance from its
// database, either to reinstall a newer one (an UPDATE follows at once) or
// because it was flushed.
func (db *DB) Delete(area netip.Addr, lsa []byte, arrival time.Time) error {
	h, err := ospf.DecodeHeader(lsa)
	if err != nil {
		db.mu.Lock()
		db.stats.Malformed++
		db.mu.Unlock()
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.stats.Deletes++
	e := db.entries[keyOf(area, &h)]
	if e == nil || e.withdrawn {
		return nil
	}
	if compareRaw(&h, e.raw) < 0 {
		// It names an instance we already replaced.
		db.stats.Stale++
		return nil
	}
	hold := db.cfg.HoldDown
	if hold < db.cfg.ReinstallWindow {
		hold = db.cfg.ReinstallWindow
	}
	e.withdrawn = true
	e.withdrawnMs = arrival.UnixMilli()
	e.withdrawAt = arrival.Add(hold).UnixNano()
	db.markDirty(e)
	return nil
}

// presize makes the maps of the first view, which the first commit builds
// from nothing, as large as the dump needs, so that they are not rehashed
// over and over as they grow.
func (db *DB) presize() {
	type counts struct{ routers, networks int }
	per := make(map[uint32]*counts)
	externals, routers := 0, 0
	for e := range db.dirty.all {
		if e.withdrawn {
			continue
		}
		switch e.k.typ() {
		case ospf.RouterLSAType, ospf.NetworkLSAType:
			c := per[e.k.area]
			if c == nil {
				c = &counts{}
				per[e.k.area] = c
			}
			if e.k.typ() == ospf.RouterLSAType {
				c.routers++
				routers++
			} else {
				c.networks++
			}
		case ospf.ASExternalLSAType:
			externals++
		}
	}
	for id, c := range per {
		if db.areas[id] == nil {
			db.areas[id] = newArea(id, c.routers, c.networks)
		}
	}
	if len(db.placement) == 0 {
		db.placement = make(map[uint32]uint32, min(externals, routers))
	}
}

func (db *DB) markDirty(e *entry) {
	if !e.dirty {
		e.dirty = true
		db.dirty.add(e)
	}
}

// Commit brings the view up to date with everything applied since the last
// commit and publishes the events. It does nothing during a dump.
func (db *DB) Commit() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.syncing || !db.loaded {
		return 0
	}
	return db.commitLocked(db.cfg.Now(), false)
}

// NextDeadline is when the next held-down withdrawal falls due.
func (db *DB) NextDeadline() (time.Time, bool) {
	db.mu.Lock()
	defer db.mu.Unlock()
	var next int64
	for e := range db.pending {
		if next == 0 || e.withdrawAt < next {
			next = e.withdrawAt
		}
	}
	if next == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, next), true
}

// Expire applies the withdrawals whose hold-down has passed and publishes
// their events.
func (db *DB) Expire() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.syncing || !db.loaded {
		return 0
	}
	now := db.cfg.Now()
	var due []*entry
	for e := range db.pending {
		if now.UnixNano() >= e.withdrawAt {
			due = append(due, e)
		}
	}
	// In the order they were withdrawn, then by key: the same events in
	// the same order whatever the order of the map.
	slices.SortFunc(due, func(x, y *entry) int {
		return cmp.Or(cmp.Compare(x.withdrawAt, y.withdrawAt), x.k.compare(y.k))
	})
	for _, e := range due {
		db.markDirty(e)
	}
	return db.commitLocked(now, false)
}

// commitLocked moves every dirty entry's view to where it should be now,
// and publishes the events and then the state records of the change. It
// returns the number of events (state records not counted). initial skips
// hold-downs (nothing was published yet).
func (db *DB) commitLocked(now time.Time, initial bool) int {
	db.out = db.out[:0]
	// Networks first: routers' transit links resolve against them.
	for e := range db.dirty.all {
		if e.k.typ() == ospf.NetworkLSAType {
			db.commitEntry(e, now, initial)
		}
	}
	for e := range db.dirty.all {
		if e.k.typ() != ospf.NetworkLSAType {
			db.commitEntry(e, now, initial)
		}
	}
	db.dirty.reset()
	n := len(db.out)
	if !db.mute {
		db.appendStates(now.UnixMilli())
		db.feed.publish(db.out)
	}
	db.dropped = db.entryPool.putAll(db.dropped)
	db.droppedNode = db.nodePool.putAll(db.droppedNode)
	return n
}

// commitEntry moves one entry's view to where it should be now.
func (db *DB) commitEntry(e *entry, now time.Time, initial bool) {
	e.dirty = false
	var want []byte
	ts := e.originMs
	switch {
	case !e.withdrawn:
		want = e.raw
		delete(db.pending, e)
	case initial || now.UnixNano() >= e.withdrawAt || e.viewRaw == nil:
		ts = e.withdrawnMs
		delete(db.pending, e)
	default:
		// Held down: the view keeps what it has until the deadline.
		want = e.viewRaw
		db.pending[e] = struct{}{}
	}
	switch {
	case sameSlice(want, e.viewRaw):
	case want != nil && e.viewRaw != nil && sameContent(want, e.viewRaw):
		e.viewRaw = want
	default:
		db.applyView(e, want, ts)
	}
	if e.withdrawn && e.viewRaw == nil {
		if _, held := db.pending[e]; !held {
			delete(db.entries, e.k)
			db.dropped = append(db.dropped, e)
		}
	}
}

func sameSlice(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// compareRaw compares a header with the instance held as raw bytes.
func compareRaw(h *ospf.Header, raw []byte) int {
	held := instance(raw)
	return ospf.Compare(h, &held)
}

// sameContent reports whether two instances of one LSA differ only in their
// header's age, sequence number or checksum.
func sameContent(a, b []byte) bool {
	if len(a) != len(b) || len(a) < ospf.HeaderLen {
		return false
	}
	// Options (byte 2) and everything after the header.
	return a[2] == b[2] && bytes.Equal(a[ospf.HeaderLen:], b[ospf.HeaderLen:])
}

// String describes the database for logs.
func (db *DB) String() string {
	db.mu.Lock()
	defer db.mu.Unlock()
	return fmt.Sprintf("%d LSAs in %d areas", len(db.entries), len(db.areas))
}

// TypeCount is how many LSAs of one type one area holds (area 0.0.0.0 for
// AS-scoped types).
type TypeCount struct {
	Area  netip.Addr
	Type  ospf.LSType
	Count int
}

// Counts returns the number of LSAs held by area and type, withdrawn ones
// excluded, in order.
func (db *DB) Counts() []TypeCount {
	db.mu.Lock()
	m := make(map[[2]uint32]int)
	for k, e := range db.entries {
		if !e.withdrawn {
			m[[2]uint32{k.area, k.t}]++
		}
	}
	db.mu.Unlock()
	out := make([]TypeCount, 0, len(m))
	for k, n := range m {
		out = append(out, TypeCount{Area: addrOf(k[0]), Type: ospf.LSType(k[1]), Count: n})
	}
	slices.SortFunc(out, func(a, b TypeCount) int {
		return cmp.Or(a.Area.Compare(b.Area), cmp.Compare(a.Type, b.Type))
	})
	return out
}
