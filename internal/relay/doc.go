// Package relay follows another stream server (the agent's loopback
// listener, `stream --ws-listen`, or another relay) and serves its stream
// again, under the upstream's epoch and sequence numbers, with the same
// archive, minute snapshots, stdout and live page as `ospf-operator
// stream`. It rebuilds the upstream's exact view from /v1/view and the
// state records of /v1/stream (lsdb.Replica), resumes after a restart of
// either side from where its archive ends (archive.ReadPosition), and
// when it cannot (a new upstream epoch, a place the upstream no longer
// holds) writes the difference between the views (lsdb.DiffViews) to its
// archive and stdout rather than leave a silent gap. The view it diffs
// from is the one it saved where its archive ended, at a clean stop or at
// its last checkpoint (checkpoint.go); after a crash, the events archived
// since that checkpoint are read back and left out of the difference
// (lsdb.DiffViewsAfter). It learns the router
// whose LSDB the upstream mirrors from the upstream's /v1/view ("self")
// and serves path queries from it, as the agent does (Relay.Self).
//
// It serves through a stream.Server and writes through the archive
// package: it has no WebSocket framing, fan-out or file format of its
// own, and nothing imports it but the command. Like them it has no
// metrics library: Stats are counters for whoever exports them.
package relay
