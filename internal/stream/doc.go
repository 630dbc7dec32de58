// Package stream serves the change feed of an lsdb.DB: as the seed's JSON
// lines on a writer (WriteLines, stdout), and to WebSocket clients
// (Server: the seed's stream on "/", the versioned /v1/snapshot and
// /v1/view and the resumable /v1/stream, see protocol.go, and the live
// page). Outputs runs the server together with the archive's writers
// (internal/archive) for `ospf-operator stream` and the agent.
//
// Every publisher follows the feed at its own pace and none can hold up
// the database or each other: the feed never blocks its writer, and a
// slow WebSocket client is cut off once it falls a queue behind.
//
// The package knows events and their clients, nothing of OSPF's wire
// protocol, of files (internal/archive) or of following another server
// (internal/relay, which builds on it). Questions about the past
// (/v1/events, ?at=) go to the handler its caller passes
// (ServerConfig.History: internal/history's, over the archive). It has no metrics library: the
// server keeps counters (Stats) for whoever exports them.
package stream
