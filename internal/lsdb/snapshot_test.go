package lsdb_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// A snapshot taken from the database is written in the same order as the
// same snapshot parsed back (whose keys are sorted when written), and
// keeps to that order when its maps are changed after it was taken.
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
	s, _ := db.Snapshot()
	if len(s.Areas) != 2 {
		t.Fatalf("%d areas, want 2", len(s.Areas))
	}
	got := string(s.AppendJSON(nil))
	parsed, err := lsdb.ParseSnapshot([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if want := string(parsed.AppendJSON(nil)); got != want {
		t.Fatal("the snapshot taken and the same snapshot parsed back are written in different orders")
	}

	// Changed after it was taken: one router gone, one added that sorts
	// first, a network added.
	a := s.Areas["0.0.0.0"]
	for k := range a.Routers {
		delete(a.Routers, k)
		break
	}
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
	if i, j := strings.Index(changed, `"0.0.0.1": {`), strings.Index(changed, `"10.`); i < 0 || j < 0 || i > j {
		t.Errorf("the added router 0.0.0.1 is not written first (at %d, the first 10.x at %d)", i, j)
	}
}
