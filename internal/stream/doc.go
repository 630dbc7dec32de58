// Package stream publishes the change feed of an lsdb.DB: as the seed's
// JSON lines on a writer (WriteLines, stdout), to WebSocket clients
// (Server: the seed's stream on "/", and the versioned /v1/snapshot and
// resumable /v1/stream, see protocol.go), to hourly archive files
// (Archive) and to minute snapshot files (SnapshotWriter). Outputs runs the
// last three together for `ospf-operator stream`.
//
// Every publisher follows the feed at its own pace and none can hold up
// the database or each other: the feed never blocks its writer, a slow
// WebSocket client is cut off once it falls a queue behind, and a full
// disk costs the archive retries, not the stream.
//
// The package knows events and their consumers, nothing of OSPF's wire
// protocol. It has no metrics library: each publisher keeps counters
// (Stats) for whoever exports them.
package stream
