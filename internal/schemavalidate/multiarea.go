package schemavalidate

import (
	"fmt"
	"strings"
)

// extraKinds are the link kinds the multi-area variant adds, each shaped like
// a seed kind: Summary-LSAs (type 3) like network, ASBR-Summary-LSAs (type 4)
// like router, NSSA-LSAs (type 7) like external.
var extraKinds = []struct{ name, like string }{
	{"xnetwork", "network"},
	{"xrouter", "router"},
	{"nssa-ext", "external"},
}

// extendSnapshot adds the extra link kinds to the links of a router in the
// parsed snapshot schema.
func extendSnapshot(doc any) error {
	links, err := walk(doc, "properties", "areas", "patternProperties", "*",
		"properties", "routers", "patternProperties", "*",
		"properties", "links", "properties")
	if err != nil {
		return err
	}
	return addKinds(links)
}

// extendEvent adds the extra link kinds to the added and removed links of
// the parsed event schema.
func extendEvent(doc any) error {
	for _, side := range []string{"added", "removed"} {
		links, err := walk(doc, "properties", side, "properties", "link", "properties")
		if err != nil {
			return err
		}
		if err := addKinds(links); err != nil {
			return fmt.Errorf("%s: %w", side, err)
		}
	}
	return nil
}

func addKinds(props map[string]any) error {
	for _, k := range extraKinds {
		if _, ok := props[k.name]; ok {
			return fmt.Errorf("link kind %q already in the seed schema", k.name)
		}
		like, ok := props[k.like]
		if !ok {
			return fmt.Errorf("link kind %q missing from the seed schema", k.like)
		}
		props[k.name] = deepCopy(like)
	}
	return nil
}

// walk follows path through nested JSON objects. The step "*" enters the only
// member of an object, as in a patternProperties with a single pattern.
func walk(doc any, path ...string) (map[string]any, error) {
	cur := doc
	for i, step := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("/%s is not an object", strings.Join(path[:i], "/"))
		}
		if step == "*" {
			if len(m) != 1 {
				return nil, fmt.Errorf("/%s has %d members, want 1", strings.Join(path[:i], "/"), len(m))
			}
			for _, v := range m {
				cur = v
			}
			continue
		}
		if cur, ok = m[step]; !ok {
			return nil, fmt.Errorf("/%s not found", strings.Join(path[:i+1], "/"))
		}
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("/%s is not an object", strings.Join(path, "/"))
	}
	return m, nil
}

// deepCopy copies a value decoded from JSON, so that the derived kinds share
// no maps or slices with the kinds they were copied from.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}
