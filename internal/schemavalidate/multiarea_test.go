package schemavalidate

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ospf-operator/ospf-operator/api/schema"
)

func parse(t *testing.T, doc []byte) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestDerivedKindsCopySeedKinds checks that each added kind is exactly its
// seed counterpart, and that the seed kinds are left untouched.
func TestDerivedKindsCopySeedKinds(t *testing.T) {
	snap := parse(t, schema.Snapshot())
	if err := extendSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	ev := parse(t, schema.Event())
	if err := extendEvent(ev); err != nil {
		t.Fatal(err)
	}
	seedSnap := parse(t, schema.Snapshot())
	seedEv := parse(t, schema.Event())

	type place struct {
		name      string
		got, seed any
		path      []string
	}
	places := []place{
		{"snapshot", snap, seedSnap, []string{"properties", "areas", "patternProperties", "*",
			"properties", "routers", "patternProperties", "*", "properties", "links", "properties"}},
		{"event added", ev, seedEv, []string{"properties", "added", "properties", "link", "properties"}},
		{"event removed", ev, seedEv, []string{"properties", "removed", "properties", "link", "properties"}},
	}
	for _, p := range places {
		got, err := walk(p.got, p.path...)
		if err != nil {
			t.Fatal(err)
		}
		seed, err := walk(p.seed, p.path...)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(seed)+len(extraKinds) {
			t.Errorf("%s: %d link kinds, want %d", p.name, len(got), len(seed)+len(extraKinds))
		}
		for _, k := range extraKinds {
			if diff := cmp.Diff(seed[k.like], got[k.name]); diff != "" {
				t.Errorf("%s: %s differs from seed %s (-want +got):\n%s", p.name, k.name, k.like, diff)
			}
			if diff := cmp.Diff(seed[k.like], got[k.like]); diff != "" {
				t.Errorf("%s: seed kind %s changed (-want +got):\n%s", p.name, k.like, diff)
			}
		}
	}
}

func TestDeriveErrors(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		extend func(any) error
		want   string
	}{
		{"event without removed", `{"properties": {"added": {"properties": {"link": {"properties": {"router": {}, "network": {}, "external": {}}}}}}}`, extendEvent, "/properties/removed not found"},
		{"event missing a seed kind", `{"properties": {"added": {"properties": {"link": {"properties": {"router": {}, "external": {}}}}}}}`, extendEvent, `"network" missing`},
		{"event already has the kind", `{"properties": {"added": {"properties": {"link": {"properties": {"router": {}, "network": {}, "external": {}, "xrouter": {}}}}}}}`, extendEvent, `"xrouter" already`},
		{"two area patterns", `{"properties": {"areas": {"patternProperties": {"a": {}, "b": {}}}}}`, extendSnapshot, "has 2 members, want 1"},
		{"links not an object", `{"properties": {"areas": {"patternProperties": {"a": {"properties": {"routers": {"patternProperties": {"r": {"properties": {"links": []}}}}}}}}}}`, extendSnapshot, "links is not an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.extend(parse(t, []byte(tt.doc)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
