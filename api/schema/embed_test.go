package schema

import (
	"encoding/json"
	"testing"
)

func TestSchemas(t *testing.T) {
	for name, get := range map[string]func() []byte{SnapshotFile: Snapshot, EventFile: Event} {
		b := get()
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc["type"] != "object" {
			t.Errorf("%s: type = %v, want object", name, doc["type"])
		}
		// Callers own the slice: changing it leaves the next copy intact.
		b[0] = 'x'
		if get()[0] != '{' {
			t.Errorf("%s: a caller's change reached the embedded schema", name)
		}
	}
}
