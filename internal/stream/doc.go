// Package stream publishes the change feed of an lsdb.DB as the seed's
// event stream: JSON lines on a writer (stdout) for now, and later
// WebSocket clients, hourly archive files and minute snapshots. It knows
// events and their consumers, nothing of OSPF's wire protocol.
package stream
