// Package history answers questions about the past from an archive in
// the seed's layout (internal/archive writes one; the seed's own archives
// are read the same way): the LSDB snapshot as it was at a time (At), the
// events between two times (Events), and the net change between them
// (Diff), for the history command and the /v1/snapshot?at=, /v1/view?at=,
// /v1/events, /v1/path?at= and /v1/whatif?at= endpoints (Handler; the
// last two ask internal/topo about the state at the time).
//
// The state at a time T is the newest minute snapshot taken at or before
// T (its "updated"), with the archived events after the snapshot's time
// and up to T, inclusive, applied in timestamp order: an event stamped
// exactly T is part of the state at T, and one stamped exactly at the
// snapshot's time is taken to be in the snapshot. The events between T1
// and T2 are those stamped after T1 and at or before T2, so that the
// state at T1 and those events make the state at T2.
//
// The seed's events are a diff, not a state, and leave things out; the
// rules by which they are applied, and what no event can say (a DR
// change, a router left without links, the area), are in replay.go. An
// event's timestamp is when its LSA was originated (arrival minus LS
// age), so an event published just after a snapshot may carry a time
// before it, and a withdrawal held down is published after its time:
// such an event is taken to be in that snapshot, and the state is off
// until the next snapshot. The minute snapshots bound every such error to
// a minute where the archive has them.
//
// Hour files are read plain or compressed (archive.ReadHour), in the
// archive's time zone (UTC, or the seed's local time), one or two at a
// time: a day of events is never held in memory. A malformed line or
// snapshot is skipped with a count and the first one's file and line
// (Report), or is an error in strict mode; an unfinished last line (an
// hour being written) is always skipped.
//
// The package reads files and knows the seed's formats; it writes
// nothing, keeps nothing between questions, and knows no WebSocket
// clients or servers beyond the http.Handler it offers.
package history
