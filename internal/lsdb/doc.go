// Package lsdb is the link-state database: an exact copy of one ospfd's
// OSPFv2 LSDB, the typed graph view derived from it, and the change feed
// that publishes every change of that view. It knows nothing of sockets
// or Kubernetes (package mirror feeds it from ospfd's API) and nothing of
// the wire format beyond what package ospf provides.
//
// # Raw bytes
//
// Each LSA is kept as the bytes ospfd sent, checked on arrival by
// ospf.Validate (length, checksum, the structure of the known types) and
// copied into large pointer-free blocks. The view reads what it needs
// straight from those bytes: no decoded copy is kept, so 50,000 LSAs cost a
// few allocations and the garbage collector has almost nothing to scan.
// Opaque and unknown types are kept and counted but never enter the view.
//
// # The view
//
// Per area, the view holds routers (their Router-LSA's flags and links,
// transit links resolved to their network's prefix, the summaries and
// NSSA routes they originate into the area, the AS-external routes
// published under the area) and transit networks (the Network-LSA chosen
// for each prefix: its designated router, the DR's interface address, the
// attached routers). It is maintained incrementally: each LSA whose content
// changed recomputes only what depends on it, and the difference becomes
// the seed's events. A refresh (same content, next sequence number) changes
// nothing and emits nothing. DB.View returns the view as a View, consistent
// at one sequence number; the seed's snapshot (Snapshot) is one rendering
// of it.
//
// # Arrival order
//
// The seed's snapshot lists networks, routers and externals in the order
// in which it first received their LSAs (a Python dict in insertion
// order). The database numbers each LSA when its key first arrives and
// keeps the number while the LSA is updated, and across a withdrawal it
// comes back from while the database still holds it (the reinstall
// window, the hold-down); once dropped, an LSA that comes back is
// numbered anew, last. The view carries the numbers beside its
// ID-ordered routers and networks (RouterView.LSAOrder, Route.Order,
// NetworkView.Order; see View), the state records carry them to
// replicas, and View.Snapshot writes in their order: the seed's bytes for
// the same LSDB. Digests leave them out: two databases that received the
// same LSDB in different orders hold the same content.
//
// # Commits, hold-down and the reinstall window
//
// Updates and deletions are applied to the LSAs at once and to the view at
// the next Commit, so that a burst of notifications becomes one consistent
// change. A withdrawal (a DELETE, or an LSA flushed at MaxAge) stays in the
// view for Config.HoldDown: if the LSA comes back unchanged within it, no
// event is emitted at all; Expire applies the withdrawals whose deadline
// passed (NextDeadline says when). A DELETE always waits at least
// Config.ReinstallWindow, because ospfd sends DELETE(old) and then
// UPDATE(new) every time it reinstalls an LSA: without the window each
// reinstall would flap the view.
//
// # Dumps and resyncs
//
// BeginSync and EndSync bracket a full dump of ospfd's database. The first
// dump builds the view and emits nothing. A later one, after a reconnect,
// replaces every LSA it carries, withdraws those it no longer carries
// (NSSA LSAs excepted: ospfd never dumps them, so they age out instead)
// and publishes exactly the differences, so that a reconnect neither loses
// nor invents events.
//
// # The change feed
//
// Every commit publishes, on the Feed and in one sequence, first its
// events (the seed's stream: a router's link added or removed, a router
// attached to or detached from a network), then its state records: the
// state, after the commit, of each router, route and network whose view
// may have changed. A router's record carries its flags and links; each of
// its summary, external and NSSA routes has a record of its own, so that
// one changed route of an ASBR with 20,000 is one small record. Feed.Subscribe yields the events; Feed.SubscribeAll yields
// both, and a Replica built from a View and the records after it holds the
// database's view at the end of every commit, including what no event
// shows (flags, tags, a router without links, a DR's new address).
package lsdb
