package lsdb_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// A snapshot taken from the database is written in the same order as the
// same snapshot parsed back, and keeps to that order when its maps are
// changed after it was taken: keys added then come after the others, as
// in a Python dict.
func TestSnapshotOrder(t *testing.T) {
	lsas, err := ospfapitest.LoadSnapshotFile("../../testdata/nycmesh-lsdb-2023-04-29.json", ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Two clones, so that there are two areas, and router IDs and
	// prefixes whose order as strings is not their numeric order.
	if lsas, err = ospfapitest.Clone(lsas, 2); err != nil {
		t.Fatal(err)
	}
	for i := range lsas[len(lsas)/2:] {
		l := &lsas[len(lsas)/2+i]
		if l.Area == area0 && !l.LSA.Hdr().Type.ASScoped() {
			l.Area = ip("0.0.0.10")
		}
	}
	db := lsdb.New(lsdb.Config{})
	if err := ospfapitest.LoadDB(db, lsas, time.Now()); err != nil {
		t.Fatal(err)
	}
	v := db.View()
	s := v.Snapshot()
	if len(s.Areas) != 2 {
		t.Fatalf("%d areas, want 2", len(s.Areas))
	}
	got := string(s.AppendJSON(nil))
	if direct := string(v.AppendSnapshotJSON(nil)); direct != got {
		t.Fatal("the view's snapshot written directly differs from the Snapshot's")
	}
	var streamed strings.Builder
	if err := v.WriteSnapshotJSON(&streamed); err != nil || streamed.String() != got {
		t.Fatalf("WriteSnapshotJSON differs from AppendSnapshotJSON (%v)", err)
	}
	parsed, err := lsdb.ParseSnapshot([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if want := string(parsed.AppendJSON(nil)); got != want {
		t.Fatal("the snapshot taken and the same snapshot parsed back are written in different orders")
	}

	// Changed after it was taken: one router gone, two added (the one
	// that sorts first among them first), a network added.
	a := s.Areas["0.0.0.0"]
	for k := range a.Routers {
		delete(a.Routers, k)
		break
	}
	a.Routers["0.0.0.2"] = &lsdb.RouterSnapshot{}
	a.Routers["0.0.0.1"] = &lsdb.RouterSnapshot{}
	a.Networks["0.0.0.0/8"] = &lsdb.NetworkSnapshot{DR: "0.0.0.1", Routers: []string{"0.0.0.1"}}
	changed := string(s.AppendJSON(nil))
	parsed, err = lsdb.ParseSnapshot([]byte(changed))
	if err != nil {
		t.Fatal(err)
	}
	if want := string(parsed.AppendJSON(nil)); changed != want {
		t.Fatal("a snapshot changed after it was taken is not written in order")
	}
	if i, j, k := strings.Index(changed, `"0.0.0.1": {`), strings.Index(changed, `"0.0.0.2": {`), strings.LastIndex(changed, `"10.`); i < 0 || j < i || k > i {
		t.Errorf("the added routers are not written last, in order (0.0.0.1 at %d, 0.0.0.2 at %d, the last 10.x at %d)", i, j, k)
	}
}

// ParseSnapshot reads the seed's files (one line, "updated" in integer
// milliseconds) and the ones this project wrote before (indented,
// "updated" in float seconds, or whole seconds), in their own order.
func TestParseSnapshotBothForms(t *testing.T) {
	const seed = `{"areas": {"0.0.0.0": {"networks": {"10.1.0.0/24": {"dr": "10.0.0.2", "routers": ["10.0.0.2", "10.0.0.1"]}}, "routers": {"10.0.0.2": {"links": {"network": [{"id": "10.1.0.0/24", "metric": 10}]}}, "10.0.0.1": {"links": {"external": [{"id": "0.0.0.0/0", "metric2": 1, "via": "10.1.0.9"}], "network": [{"id": "10.1.0.0/24", "metric": 10}]}}}}}, "updated": 1732939200123}`
	const old = `{
  "areas": {
    "0.0.0.0": {
      "routers": {
        "10.0.0.1": {
          "links": {
            "network": [
              {
                "id": "10.1.0.0/24",
                "metric": 10
              }
            ],
            "external": [
              {
                "id": "0.0.0.0/0",
                "metric2": 1,
                "via": "10.1.0.9"
              }
            ]
          }
        },
        "10.0.0.2": {
          "links": {
            "network": [
              {
                "id": "10.1.0.0/24",
                "metric": 10
              }
            ]
          }
        }
      },
      "networks": {
        "10.1.0.0/24": {
          "dr": "10.0.0.2",
          "routers": [
            "10.0.0.2",
            "10.0.0.1"
          ]
        }
      }
    }
  },
  "updated": 1732939200.123
}`
	want := time.UnixMilli(1732939200123)
	for name, tc := range map[string]struct {
		doc     string
		updated int64
	}{
		"seed":                 {seed, want.UnixMilli()},
		"old":                  {old, want.UnixMilli()},
		"old, whole seconds":   {strings.Replace(old, "1732939200.123", "1732939200", 1), 1732939200000},
		"no updated (BIRD's)":  {`{"areas": {}}`, 0},
		"updated null":         {`{"areas": {}, "updated": null}`, 0},
		"seed, ms as a float":  {strings.Replace(seed, "1732939200123", "1732939200123.0", 1), want.UnixMilli()},
		"unknown keys ignored": {`{"version": 2, "areas": {"0.0.0.0": {"x": [1, {"y": null}], "routers": {"1.1.1.1": {"links": {"virtual": [], "router": [{"id": "2.2.2.2", "metric": 1, "z": true}]}}}}}, "updated": 1}`, 1000},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := lsdb.ParseSnapshot([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if s.Updated != tc.updated {
				t.Errorf("updated %d, want %d", s.Updated, tc.updated)
			}
			if tc.updated != 0 && !s.SnapshotTime().Equal(time.UnixMilli(tc.updated)) {
				t.Errorf("SnapshotTime %v", s.SnapshotTime())
			}
		})
	}
	// The seed's document is written back as it was.
	s, err := lsdb.ParseSnapshot([]byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(s.AppendJSON(nil)); got != seed {
		t.Errorf("written back:\n%s\nwant:\n%s", got, seed)
	}
	// The old one, in its own order (routers first in the file, but
	// networks first as the seed writes; 10.0.0.1 before 10.0.0.2;
	// "network" before "external"), now in the seed's format.
	s, err = lsdb.ParseSnapshot([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	const oldAsSeed = `{"areas": {"0.0.0.0": {"networks": {"10.1.0.0/24": {"dr": "10.0.0.2", "routers": ["10.0.0.2", "10.0.0.1"]}}, "routers": {"10.0.0.1": {"links": {"network": [{"id": "10.1.0.0/24", "metric": 10}], "external": [{"id": "0.0.0.0/0", "metric2": 1, "via": "10.1.0.9"}]}}, "10.0.0.2": {"links": {"network": [{"id": "10.1.0.0/24", "metric": 10}]}}}}}, "updated": 1732939200123}`
	if got := string(s.AppendJSON(nil)); got != oldAsSeed {
		t.Errorf("old file written:\n%s\nwant:\n%s", got, oldAsSeed)
	}
	// encoding/json goes through the same parser.
	var viaJSON lsdb.Snapshot
	if err := json.Unmarshal([]byte(seed), &viaJSON); err != nil || string(viaJSON.AppendJSON(nil)) != seed {
		t.Errorf("json.Unmarshal: %v", err)
	}
	for name, bad := range map[string]string{
		"not JSON":         `{"areas": {`,
		"no areas":         `{"updated": 1}`,
		"areas null":       `{"areas": null}`,
		"area not an IP":   `{"areas": {"backbone": {}}}`,
		"area null":        `{"areas": {"0.0.0.0": null}}`,
		"routers an array": `{"areas": {"0.0.0.0": {"routers": []}}}`,
		"metric a string":  `{"areas": {"0.0.0.0": {"routers": {"1.1.1.1": {"links": {"router": [{"id": "2.2.2.2", "metric": "1"}]}}}}}}`,
		"metric negative":  `{"areas": {"0.0.0.0": {"routers": {"1.1.1.1": {"links": {"router": [{"id": "2.2.2.2", "metric": -1}]}}}}}}`,
		"metric too large": `{"areas": {"0.0.0.0": {"routers": {"1.1.1.1": {"links": {"router": [{"id": "2.2.2.2", "metric": 4294967296}]}}}}}}`,
		"updated a string": `{"areas": {}, "updated": "now"}`,
		"updated negative": `{"areas": {}, "updated": -1}`,
	} {
		if _, err := lsdb.ParseSnapshot([]byte(bad)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

// A key that appears twice keeps its first place and takes its last
// value, as Python's json.loads does; strings are escaped as json.dumps
// escapes them.
func TestParseSnapshotRepeatsAndEscapes(t *testing.T) {
	doc := `{"areas": {"0.0.0.0": {"networks": {}, "routers": {"1.1.1.1": {"links": {}}, "2.2.2.2": {"links": {}}, "1.1.1.1": {"links": {"stubnet": [{"id": "10.0.0.0/8", "metric": 1}]}}}}}, "updated": 0}`
	s, err := lsdb.ParseSnapshot([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"areas": {"0.0.0.0": {"networks": {}, "routers": {"1.1.1.1": {"links": {"stubnet": [{"id": "10.0.0.0/8", "metric": 1}]}}, "2.2.2.2": {"links": {}}}}}, "updated": 0}`
	if got := string(s.AppendJSON(nil)); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	s.Areas["0.0.0.0"].Networks["x\"\u00e9\U0001f600\n\x01\x7f"] = &lsdb.NetworkSnapshot{DR: "d", Routers: []string{}}
	// As Python writes it: json.dumps({"x\"\u00e9\U0001f600\n\x01\x7f": 0})
	const key = `"x\"\u00e9\ud83d\ude00\n\u0001\u007f": {"dr": "d", "routers": []}`
	if got := string(s.AppendJSON(nil)); !strings.Contains(got, key) {
		t.Errorf("escaped key: %s, want %s in it", got, key)
	}
	back, err := lsdb.ParseSnapshot(s.AppendJSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	if string(back.AppendJSON(nil)) != string(s.AppendJSON(nil)) {
		t.Errorf("escaped key read back: %s", back.AppendJSON(nil))
	}
}

// FuzzParseSnapshot: ParseSnapshot never panics, refuses what is not JSON,
// and what it reads it writes so that reading that back writes the same
// ("updated" too when it is a time in milliseconds: below 1e11 it reads
// as seconds, so a small stamp grows each time round).
func FuzzParseSnapshot(f *testing.F) {
	for _, s := range []string{
		`{"areas": {"0.0.0.0": {"networks": {"10.1.0.0/24": {"dr": "10.0.0.2", "routers": ["10.0.0.2"]}}, "routers": {"10.0.0.2": {"links": {"external": [{"id": "0.0.0.0/0", "metric2": 1, "via": "10.1.0.9"}], "network": [{"id": "10.1.0.0/24", "metric": 10}]}}}}}, "updated": 1732939200123}`,
		"{\n  \"areas\": {\n    \"0.0.0.0\": {\n      \"routers\": {\n        \"1.1.1.1\": {\n          \"links\": {}\n        }\n      },\n      \"networks\": {}\n    }\n  },\n  \"updated\": 1732939200.5\n}",
		`{"areas": {"0.0.0.1": {"routers": {"1.1.1.1": {"links": {"xnetwork": [{"id": "10.9.0.0/24", "metric": 1}], "nssa-ext": [{"id": "10.8.0.0/16", "metric": 2}]}}}}}}`,
		`{"areas": {"0.0.0.0": {"routers": {"a\"\u00e9": null, "1.1.1.1": {"links": {"router": [null, {"id": "2.2.2.2"}]}}}}}, "x": [1, 2.5e3, true, false, null, {"y": "z"}]}`,
		`{"areas": null}`, `[]`, `{"areas": {"0.0.0.0": {"routers": []}}}`, `{"areas": {}, "updated": -1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := lsdb.ParseSnapshot(doc)
		if err != nil {
			return
		}
		var any interface{}
		if err := json.Unmarshal(doc, &any); err != nil {
			t.Fatalf("parsed what encoding/json refuses (%v)", err)
		}
		once := s.AppendJSON(nil)
		again, err := lsdb.ParseSnapshot(once)
		if err != nil {
			t.Fatalf("cannot read back what it wrote: %v\n%s", err, once)
		}
		if s.Updated != 0 && s.Updated < 1e11 {
			again.Updated = s.Updated
		}
		if twice := again.AppendJSON(nil); !bytes.Equal(once, twice) {
			t.Fatalf("written back differently:\n%s\n%s", once, twice)
		}
	})
}
