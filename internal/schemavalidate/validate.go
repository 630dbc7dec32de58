package schemavalidate

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ospf-operator/ospf-operator/api/schema"
)

// Error reports a document that does not conform to a schema, or that is not
// JSON at all.
type Error struct {
	// Schema names the schema and variant, e.g. "stream_event.schema.json (multi-area)".
	Schema string
	// Line is the 1-based line of a JSON Lines stream, 0 for a single document.
	Line int
	// Err is a *jsonschema.ValidationError, or the JSON syntax error.
	Err error
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s: line %d: %v", e.Schema, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Schema, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ValidateSnapshot checks a snapshot document against the published schema.
func ValidateSnapshot(doc []byte) error { return validate(doc, snapshotSeed) }

// ValidateEvent checks one stream event against the published schema.
func ValidateEvent(doc []byte) error { return validate(doc, eventSeed) }

// ValidateEventStream checks every line of a JSON Lines event stream against
// the published event schema. A final newline is allowed, empty lines are not.
func ValidateEventStream(jsonl []byte) error { return validateLines(jsonl, eventSeed) }

// ValidateMultiAreaSnapshot checks a snapshot document against the multi-area
// variant of the snapshot schema.
func ValidateMultiAreaSnapshot(doc []byte) error { return validate(doc, snapshotMultiArea) }

// ValidateMultiAreaEvent checks one stream event against the multi-area
// variant of the event schema.
func ValidateMultiAreaEvent(doc []byte) error { return validate(doc, eventMultiArea) }

// ValidateMultiAreaEventStream is ValidateEventStream with the multi-area
// variant of the event schema.
func ValidateMultiAreaEventStream(jsonl []byte) error {
	return validateLines(jsonl, eventMultiArea)
}

// which selects one of the four compiled schemas.
type which int

const (
	snapshotSeed which = iota
	eventSeed
	snapshotMultiArea
	eventMultiArea
	numSchemas
)

var names = [numSchemas]string{
	snapshotSeed:      schema.SnapshotFile,
	eventSeed:         schema.EventFile,
	snapshotMultiArea: schema.SnapshotFile + " (multi-area)",
	eventMultiArea:    schema.EventFile + " (multi-area)",
}

// compiled holds the four schemas, compiled on first use. An error here means
// the embedded schemas no longer have the shape this package expects.
var compiled = sync.OnceValues(compileAll)

func compileAll() ([numSchemas]*jsonschema.Schema, error) {
	var out [numSchemas]*jsonschema.Schema
	sources := [numSchemas]struct {
		doc    []byte
		extend func(any) error
	}{
		snapshotSeed:      {schema.Snapshot(), nil},
		eventSeed:         {schema.Event(), nil},
		snapshotMultiArea: {schema.Snapshot(), extendSnapshot},
		eventMultiArea:    {schema.Event(), extendEvent},
	}
	c := jsonschema.NewCompiler()
	for i, src := range sources {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src.doc))
		if err != nil {
			return out, fmt.Errorf("parse %s: %w", names[i], err)
		}
		if src.extend != nil {
			if err := src.extend(doc); err != nil {
				return out, fmt.Errorf("derive %s: %w", names[i], err)
			}
		}
		url := "https://github.com/ospf-operator/ospf-operator/api/schema/" + urlNames[i]
		if err := c.AddResource(url, doc); err != nil {
			return out, fmt.Errorf("add %s: %w", names[i], err)
		}
		if out[i], err = c.Compile(url); err != nil {
			return out, fmt.Errorf("compile %s: %w", names[i], err)
		}
	}
	return out, nil
}

// urlNames are the distinct resource names the compiler knows the schemas by;
// they appear in validation messages.
var urlNames = [numSchemas]string{
	snapshotSeed:      schema.SnapshotFile,
	eventSeed:         schema.EventFile,
	snapshotMultiArea: "multi-area/" + schema.SnapshotFile,
	eventMultiArea:    "multi-area/" + schema.EventFile,
}

func validate(doc []byte, w which) error {
	schemas, err := compiled()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return &Error{Schema: names[w], Err: fmt.Errorf("not valid JSON: %w", err)}
	}
	if err := schemas[w].Validate(v); err != nil {
		return &Error{Schema: names[w], Err: err}
	}
	return nil
}

func validateLines(jsonl []byte, w which) error {
	jsonl = bytes.TrimSuffix(jsonl, []byte("\n"))
	if len(jsonl) == 0 {
		return nil
	}
	for i, line := range bytes.Split(jsonl, []byte("\n")) {
		if err := validate(line, w); err != nil {
			var e *Error
			if !errors.As(err, &e) {
				return err // the schemas did not compile: no line to blame
			}
			e.Line = i + 1
			return e
		}
	}
	return nil
}
