package lsdb_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/seedref"
)

var update = flag.Bool("update", false, "rewrite testdata/seed_order.ops.json, and testdata/seed_order.golden.json by running the seed")

// seedOp is one step of a script played to our database and to the
// seed's: an LSA_UPDATE_NOTIFY or LSA_DELETE_NOTIFY of the LSA (hex), or
// "expire": the seed's 10-second TTL and our hold-down pass, and "snapshot":
// both write their snapshot.
type seedOp struct {
	Op  string `json:"op"`
	LSA string `json:"lsa,omitempty"`
}

// seedScript drives a database with a hold-down as long as the seed's TTL
// and records what it played.
type seedScript struct {
	h   *harness
	ops []seedOp
	out []string // our snapshots
}

func (s *seedScript) update(l ospf.LSA) {
	s.h.t.Helper()
	raw := s.h.raw(l, 1)
	if err := s.h.db.Update(area0, raw, s.h.clk.Now()); err != nil {
		s.h.t.Fatal(err)
	}
	s.ops = append(s.ops, seedOp{Op: "update", LSA: hex.EncodeToString(raw)})
	s.commit()
}

// del sends LSA_DELETE_NOTIFY of the instance held; ospfd sends it before
// the UPDATE of every new instance, and alone for an LSA it removes.
func (s *seedScript) del(l ospf.LSA) {
	s.h.t.Helper()
	hd := l.Hdr()
	hd.SeqNum, hd.Age = s.h.seqs[hd.Key()], 1
	raw, err := ospf.Marshal(l)
	hd.SeqNum = 0
	if err != nil {
		s.h.t.Fatal(err)
	}
	if err := s.h.db.Delete(area0, raw, s.h.clk.Now()); err != nil {
		s.h.t.Fatal(err)
	}
	s.ops = append(s.ops, seedOp{Op: "delete", LSA: hex.EncodeToString(raw)})
	s.commit()
}

func (s *seedScript) commit() {
	s.h.clk.Advance(100 * time.Millisecond)
	s.h.db.Commit()
}

func (s *seedScript) expire() {
	s.h.clk.Advance(11 * time.Second)
	s.h.db.Expire()
	s.ops = append(s.ops, seedOp{Op: "expire"})
}

func (s *seedScript) snapshot() {
	v := s.h.db.View()
	snap := v.Snapshot()
	snap.Updated = 0
	s.out = append(s.out, string(snap.AppendJSON(nil)))
	v.Updated = time.UnixMilli(0)
	if direct := string(v.AppendSnapshotJSON(nil)); direct != s.out[len(s.out)-1] {
		s.h.t.Errorf("the view's snapshot written directly:\n%s\nthe Snapshot's:\n%s", direct, s.out[len(s.out)-1])
	}
	s.ops = append(s.ops, seedOp{Op: "snapshot"})
}

// playSeedScript plays the script whose snapshots testdata/seed_order.golden.json
// holds as the seed wrote them: a dump in an order that is not numeric,
// with an external before its router's Router-LSA; then updates that keep
// their place (a Router-LSA whose links change order, a network that gains
// a router, an external deleted and reinstalled within the TTL), LSAs that
// go for good and come back last, a router known first by its external,
// a router without links.
func playSeedScript(t *testing.T) *seedScript {
	s := &seedScript{h: newHarness(t, 10*time.Second)}
	h := s.h
	h.db.BeginSync()
	r2 := router("10.0.0.2", p2p("10.0.0.1", 10), stub("172.16.2.0/24", 1), p2p("10.0.0.3", 5))
	r1 := router("10.0.0.1", stub("172.16.1.0/24", 1), transit("10.1.0.1", "10.1.0.1", 10), p2p("10.0.0.2", 10))
	lan := network("10.1.0.1", "10.0.0.1", 24, "10.0.0.3", "10.0.0.1")
	r9 := router("10.0.0.9", p2p("10.0.0.1", 1))
	r3 := router("10.0.0.3", transit("10.1.0.1", "10.1.0.3", 10), p2p("10.0.0.2", 5))
	r10 := router("10.0.0.10")
	x9a := external("10.0.0.9", "198.51.100.0/24", 20, true, "")
	x9b := external("10.0.0.9", "192.0.2.0/24", 1, true, "")
	x1 := external("10.0.0.1", "203.0.113.0/24", 7, false, "10.1.0.3")
	other := network("10.2.0.1", "10.0.0.2", 24, "10.0.0.2")
	for _, l := range []ospf.LSA{x9a, r2, r1, lan, r9, x1, r3, x9b, r10, other} {
		s.update(l)
	}
	h.db.EndSync()
	s.snapshot()

	// Updates keep their place.
	s.del(r2)
	r2.Links = []ospf.RouterLink{stub("172.16.2.0/24", 1), p2p("10.0.0.3", 5), p2p("10.0.0.1", 20)}
	s.update(r2)
	s.del(lan)
	lan.Attached = append(lan.Attached, ip("10.0.0.4"))
	s.update(lan)
	s.del(x9a)
	x9a.Metric = 30
	s.update(x9a) // within the TTL
	// New LSAs go last: a router, its external, a router known first by
	// its external.
	r4 := router("10.0.0.4", p2p("10.0.0.2", 3))
	s.update(r4)
	s.update(external("10.0.0.4", "198.51.100.128/25", 5, false, ""))
	x5 := external("10.0.0.5", "100.64.0.0/10", 9, true, "")
	s.update(x5)
	s.snapshot()

	// Gone for good: a router, an external, a network.
	s.del(r10)
	s.del(x9b)
	s.del(other)
	s.expire()
	s.snapshot()
	// Back, last.
	s.update(router("10.0.0.5", p2p("10.0.0.4", 2), stub("10.5.0.0/16", 1)))
	s.update(r10)
	s.update(x9b)
	s.update(other)
	s.snapshot()
	return s
}

// TestSnapshotIsTheSeeds plays the script to our database and compares its
// snapshots, byte for byte, with the seed's (its to_api_dict and
// json.dumps) for the same script, "updated" aside: testdata holds both
// the script and the seed's output; TestSeedGolden checks that the seed
// still writes it.
func TestSnapshotIsTheSeeds(t *testing.T) {
	s := playSeedScript(t)
	ops, err := json.MarshalIndent(s.ops, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	ops = append(ops, '\n')
	opsPath, goldenPath := filepath.Join("testdata", "seed_order.ops.json"), filepath.Join("testdata", "seed_order.golden.json")
	if *update {
		if err := os.WriteFile(opsPath, ops, 0o644); err != nil {
			t.Fatal(err)
		}
		out := runSeedScript(t, opsPath)
		if err := os.WriteFile(goldenPath, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if held, err := os.ReadFile(opsPath); err != nil || !bytes.Equal(held, ops) {
		t.Fatalf("%s is not this test's script (%v): run go test ./internal/lsdb -run TestSnapshotIsTheSeeds -update", opsPath, err)
	}
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Split(bytes.TrimSuffix(golden, []byte("\n")), []byte("\n"))
	if len(want) != len(s.out) {
		t.Fatalf("%d snapshots, the seed wrote %d", len(s.out), len(want))
	}
	for i := range want {
		if got := s.out[i]; got != string(want[i]) {
			t.Errorf("snapshot %d:\n got %s\nseed %s", i, got, want[i])
		}
	}
	// Parsed back, each is written the same.
	for i := range want {
		p, err := lsdb.ParseSnapshot(want[i])
		if err != nil {
			t.Fatal(err)
		}
		if got := p.AppendJSON(nil); !bytes.Equal(got, want[i]) {
			t.Errorf("snapshot %d parsed and written back:\n got %s\nwant %s", i, got, want[i])
		}
		v, err := lsdb.ViewFromSnapshot(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.Snapshot().AppendJSON(nil); !bytes.Equal(got, want[i]) {
			t.Errorf("snapshot %d read as a view and written back:\n got %s\nwant %s", i, got, want[i])
		}
	}
}

// TestSeedGolden runs the seed's own LSDB (../shared/seed/src, or
// $OSPF_SEED_DIR/src) on the script and checks that it writes the golden
// snapshots. It needs Debian's python3 with the seed's packages, and skips
// without them unless CI=true.
func TestSeedGolden(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "seed_order.golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := runSeedScript(t, filepath.Join("testdata", "seed_order.ops.json")); !bytes.Equal(got, golden) {
		t.Fatalf("the seed writes:\n%s\ntestdata holds:\n%s", got, golden)
	}
}

// runSeedScript plays a script to the seed's LSDB and returns its snapshots.
func runSeedScript(t *testing.T, ops string) []byte {
	t.Helper()
	seed := seedref.Require(t)
	cmd := exec.Command(seed.Python, filepath.Join("testdata", "seed_script.py"), seed.Src, ops)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("seed_script.py: %v\n%s", err, stderr.Bytes())
	}
	return out
}
