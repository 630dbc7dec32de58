package schemavalidate

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// readmeEvents are the example events of the Python client's README.
const readmeEvents = `{"timestamp": 1734928168632, "entity": {"type": "router", "id": "10.69.5.52"}, "added": {"link": {"router": {"id": "10.69.6.10", "metric": 100}}}}
{"timestamp": 1734928167633, "entity": {"type": "router", "id": "10.69.6.10"}, "added": {"link": {"router": {"id": "10.69.5.52", "metric": 100}}}}
{"timestamp": 1734928166886, "entity": {"type": "router", "id": "10.69.3.85"}, "removed": {"link": {"router": {"id": "10.69.4.40", "metric": 100}}}}
{"timestamp": 1734928165886, "entity": {"type": "router", "id": "10.69.1.65"}, "added": {"link": {"router": {"id": "10.69.5.51", "metric": 100}}}}
{"timestamp": 1734928164890, "entity": {"type": "router", "id": "10.69.5.51"}, "added": {"link": {"router": {"id": "10.69.1.65", "metric": 100}}}}
`

func readNYC(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "nycmesh-lsdb-2023-04-29.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// withUpdated inserts the "updated" member the NYC file lacks.
func withUpdated(t *testing.T, doc []byte) []byte {
	t.Helper()
	i := bytes.IndexByte(doc, '{')
	if i < 0 {
		t.Fatal("no object in document")
	}
	out := append([]byte(nil), doc[:i+1]...)
	out = append(out, `"updated": 1682726400000,`...)
	return append(out, doc[i+1:]...)
}

func TestNYCSnapshot(t *testing.T) {
	raw := readNYC(t)

	// The file is BIRD's state without the client's "updated" stamp, which
	// the schema requires.
	err := ValidateSnapshot(raw)
	if err == nil {
		t.Fatal("ValidateSnapshot(NYC without updated) = nil, want an error")
	}
	var e *Error
	if !errors.As(err, &e) || e.Schema != "db_snapshot.schema.json" || e.Line != 0 {
		t.Fatalf("error = %#v, want *Error for db_snapshot.schema.json", err)
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v does not wrap a *jsonschema.ValidationError", err)
	}
	if !strings.Contains(err.Error(), "updated") {
		t.Errorf("error %q does not name the missing property updated", err)
	}

	full := withUpdated(t, raw)
	if err := ValidateSnapshot(full); err != nil {
		t.Errorf("ValidateSnapshot(NYC with updated): %v", err)
	}
	if err := ValidateMultiAreaSnapshot(full); err != nil {
		t.Errorf("ValidateMultiAreaSnapshot(NYC with updated): %v", err)
	}
}

func TestReadmeEvents(t *testing.T) {
	for i, line := range strings.Split(strings.TrimSpace(readmeEvents), "\n") {
		if err := ValidateEvent([]byte(line)); err != nil {
			t.Errorf("line %d: ValidateEvent: %v", i+1, err)
		}
		if err := ValidateMultiAreaEvent([]byte(line)); err != nil {
			t.Errorf("line %d: ValidateMultiAreaEvent: %v", i+1, err)
		}
	}
	if err := ValidateEventStream([]byte(readmeEvents)); err != nil {
		t.Errorf("ValidateEventStream: %v", err)
	}
}

func TestEvents(t *testing.T) {
	const ok = "" // the event is valid
	tests := []struct {
		name string
		doc  string
		// seed and multiArea: a substring of the expected error, or ok.
		seed, multiArea string
	}{
		{
			name: "network gains a router",
			doc:  `{"timestamp": 1, "entity": {"type": "network", "id": "10.70.76.0/24"}, "added": {"router": "10.69.1.1"}}`,
			seed: ok, multiArea: ok,
		},
		{
			name: "external with metric2 and via",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"external": {"id": "0.0.0.0/0", "metric2": 10, "via": "10.0.0.9"}}}}`,
			seed: ok, multiArea: ok,
		},
		{
			name: "xnetwork link",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"xnetwork": {"id": "10.1.0.0/16", "metric": 20}}}}`,
			seed: "xnetwork", multiArea: ok,
		},
		{
			name: "xrouter link",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "removed": {"link": {"xrouter": {"id": "10.0.0.7", "metric": 20}}}}`,
			seed: "xrouter", multiArea: ok,
		},
		{
			name: "nssa-ext link",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"nssa-ext": {"id": "192.0.2.0/24", "metric2": 20}}}}`,
			seed: "nssa-ext", multiArea: ok,
		},
		{
			name: "xnetwork id is not a prefix",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"xnetwork": {"id": "10.1.0.0", "metric": 20}}}}`,
			seed: "xnetwork", multiArea: "/added/link/xnetwork/id",
		},
		{
			name: "xrouter without metric",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"xrouter": {"id": "10.0.0.7"}}}}`,
			seed: "xrouter", multiArea: "metric",
		},
		{
			name: "unknown entity type",
			doc:  `{"timestamp": 1, "entity": {"type": "switch", "id": "10.0.0.1"}}`,
			seed: "/entity/type", multiArea: "/entity/type",
		},
		{
			name: "missing timestamp",
			doc:  `{"entity": {"type": "router", "id": "10.0.0.1"}}`,
			seed: "timestamp", multiArea: "timestamp",
		},
		{
			name: "fractional timestamp",
			doc:  `{"timestamp": 1.5, "entity": {"type": "router", "id": "10.0.0.1"}}`,
			seed: "/timestamp", multiArea: "/timestamp",
		},
		{
			name: "negative metric",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"router": {"id": "10.0.0.2", "metric": -1}}}}`,
			seed: "/added/link/router/metric", multiArea: "/added/link/router/metric",
		},
		{
			name: "router id is not an address",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0"}}`,
			seed: "/entity/id", multiArea: "/entity/id",
		},
		{
			name: "unknown member",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "changed": {}}`,
			seed: "changed", multiArea: "changed",
		},
		{
			name: "not JSON",
			doc:  `{"timestamp": 1,`,
			seed: "not valid JSON", multiArea: "not valid JSON",
		},
		{
			name: "two documents",
			doc:  `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}} {}`,
			seed: "not valid JSON", multiArea: "not valid JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, "ValidateEvent", ValidateEvent([]byte(tt.doc)), tt.seed)
			check(t, "ValidateMultiAreaEvent", ValidateMultiAreaEvent([]byte(tt.doc)), tt.multiArea)
		})
	}
}

// check asserts that err is nil when want is empty, and otherwise an *Error
// whose message contains want.
func check(t *testing.T, fn string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%s: %v", fn, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("%s = %v, want an *Error containing %q", fn, err, want)
		return
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("%s = %q, want it to contain %q", fn, err, want)
	}
}

func TestMultiAreaSnapshot(t *testing.T) {
	const doc = `{"updated": 1, "areas": {
		"0.0.0.0": {"routers": {"10.0.0.1": {"links": {
			"router": [{"id": "10.0.0.2", "metric": 10}],
			"xnetwork": [{"id": "10.1.0.0/16", "metric": 20}],
			"xrouter": [{"id": "10.1.0.9", "metric": 20}]}}}, "networks": {}},
		"0.0.0.1": {"routers": {"10.1.0.9": {"links": {
			"nssa-ext": [{"id": "192.0.2.0/24", "metric2": 20, "via": "10.1.0.9"}]}}}, "networks": {}}}}`
	check(t, "ValidateMultiAreaSnapshot", ValidateMultiAreaSnapshot([]byte(doc)), "")
	check(t, "ValidateSnapshot", ValidateSnapshot([]byte(doc)), "xnetwork")

	const badMetric = `{"updated": 1, "areas": {"0.0.0.0": {"networks": {}, "routers": {"10.0.0.1": {"links": {
		"xnetwork": [{"id": "10.1.0.0/16", "metric": "20"}]}}}}}}`
	check(t, "ValidateMultiAreaSnapshot", ValidateMultiAreaSnapshot([]byte(badMetric)),
		"/areas/0.0.0.0/routers/10.0.0.1/links/xnetwork/0/metric")
}

func TestEventStream(t *testing.T) {
	lines := strings.Split(strings.TrimSpace(readmeEvents), "\n")
	tests := []struct {
		name     string
		stream   string
		wantLine int // 0: valid
	}{
		{"empty", "", 0},
		{"no final newline", lines[0], 0},
		{"bad second line", lines[0] + "\n" + `{"timestamp": -1, "entity": {"type": "router", "id": "10.0.0.1"}}` + "\n" + lines[1] + "\n", 2},
		{"empty line", lines[0] + "\n\n" + lines[1] + "\n", 2},
		{"xrouter on line 3", lines[0] + "\n" + lines[1] + "\n" + `{"timestamp": 1, "entity": {"type": "router", "id": "10.0.0.1"}, "added": {"link": {"xrouter": {"id": "10.0.0.7", "metric": 1}}}}`, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateEventStream([]byte(tt.stream))
			if tt.wantLine == 0 {
				if err != nil {
					t.Fatalf("ValidateEventStream: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Line != tt.wantLine {
				t.Fatalf("ValidateEventStream = %v, want an *Error at line %d", err, tt.wantLine)
			}
			if want := fmt.Sprintf("line %d:", tt.wantLine); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		})
	}
	if err := ValidateMultiAreaEventStream([]byte(tests[4].stream)); err != nil {
		t.Errorf("ValidateMultiAreaEventStream(xrouter): %v", err)
	}
}
