// Package archive keeps the change feed of an lsdb.DB on disk, as the
// seed laid it out: the events in hourly files of JSON lines, each in the
// file of the hour of its own timestamp (Archive, DIR/YYYY/MM/DD/HH.jsonl,
// in UTC) and the snapshot once a minute (SnapshotWriter,
// DIR/YYYY/MM/DD/HH/MM.json and the seed's current snapshot,
// DIR/../../mesh_ospf_data.json, whose ".." the kernel resolves), with the
// file system behind an interface (FS) so that tests can fill the disk or
// deny permission and watch the writers recover. It also keeps the
// position file in which a relay records how far its archive got
// (WritePosition, ReadPosition).
//
// The Janitor removes what is older than a retention and gzips the hours
// and minutes that are closed (HH.jsonl.gz, MM.json.gz); ReadHour and
// ReadSnapshotFile read either form, so every reader of the history does.
//
// A write error never stops the feed or another publisher: the archive
// keeps its events and retries, the snapshot writer tries again the next
// minute, and both count what happened (Stats) for whoever exports
// metrics. Every file is replaced atomically or appended in whole lines,
// so a reader never sees a part.
//
// The package knows files and the seed's formats, nothing of WebSocket
// clients, of the relay's upstream or of OSPF's wire protocol: it never
// imports internal/stream, and the position file's epoch is an opaque
// name to it.
package archive
