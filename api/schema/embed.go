package schema

import (
	"bytes"
	_ "embed" // for go:embed
)

// File names of the schemas in this directory, also used as their base URLs
// when compiled.
const (
	SnapshotFile = "db_snapshot.schema.json"
	EventFile    = "stream_event.schema.json"
)

//go:embed db_snapshot.schema.json
var snapshot []byte

//go:embed stream_event.schema.json
var event []byte

// Snapshot returns the JSON Schema of an LSDB snapshot. The caller owns the
// returned slice.
func Snapshot() []byte { return bytes.Clone(snapshot) }

// Event returns the JSON Schema of one stream event. The caller owns the
// returned slice.
func Event() []byte { return bytes.Clone(event) }
