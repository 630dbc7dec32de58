// Package schema holds the JSON Schemas of ospf-operator's two public output
// formats, byte for byte as the Python ospf-stream-client published them:
// the LSDB snapshot (BIRD's `show ospf state`, parsed) and one event of the
// newline-delimited diff stream. They are the output contract: anything that
// reads a snapshot or an event from ospf-operator may rely on them.
//
// The package only carries the documents. Validating against them, and the
// multi-area extension of both, is internal/schemavalidate's job.
package schema
