package lsdb

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

func TestPoolHandsOutZeroedAndReuses(t *testing.T) {
	var p pool[entry]
	seen := map[*entry]bool{}
	var live []*entry
	for range 3 * poolBlock {
		e := p.get()
		if !reflect.ValueOf(*e).IsZero() {
			t.Fatal("get returned a used entry")
		}
		if seen[e] {
			t.Fatal("get handed out an entry that is still in use")
		}
		seen[e] = true
		e.originMs = 1
		live = append(live, e)
	}
	for _, e := range live[:poolBlock] {
		p.put(e)
		delete(seen, e)
	}
	for range poolBlock {
		e := p.get()
		if !reflect.ValueOf(*e).IsZero() || seen[e] {
			t.Fatal("reused entry not zeroed, or in use")
		}
		seen[e] = true
	}
	if p.blocks != 3 {
		t.Errorf("%d blocks allocated, want 3: what was put back was not used again", p.blocks)
	}
}

// TestChurnDoesNotGrowMemory withdraws and brings back the same externals
// over and over: the entries and router nodes in use stay below a few
// hundred, so the pools must stay at the blocks the first round needed.
func TestChurnDoesNotGrowMemory(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	db := New(Config{Now: func() time.Time { return now }})
	db.BeginSync()
	db.EndSync()
	ext := func(i, seq int, age uint16) []byte {
		adv := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		l := &ospf.ExternalLSA{Header: ospf.Header{Type: ospf.ASExternalLSAType, LSID: netip.AddrFrom4([4]byte{198, 51, byte(i >> 8), byte(i)}),
			AdvRouter: adv, SeqNum: ospf.InitialSeqNum + int32(seq), Age: age, Options: 2},
			Mask: netip.AddrFrom4([4]byte{255, 255, 255, 255}), Metric: 1, Forward: netip.IPv4Unspecified()}
		b, err := ospf.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const n = 300
	var entryBlocks, nodeBlocks int
	for round := range 50 {
		for i := range n {
			if err := db.Update(backbone, ext(i, 2*round, 0), now); err != nil {
				t.Fatal(err)
			}
		}
		if got := db.Commit(); got != n {
			t.Fatalf("round %d: %d events for %d new externals", round, got, n)
		}
		for i := range n {
			if err := db.Update(backbone, ext(i, 2*round+1, ospf.MaxAge), now); err != nil {
				t.Fatal(err)
			}
		}
		if got := db.Commit(); got != n {
			t.Fatalf("round %d: %d events for %d withdrawn externals", round, got, n)
		}
		if len(db.entries) != 0 {
			t.Fatalf("round %d: %d entries left after every LSA was withdrawn", round, len(db.entries))
		}
		if round == 0 {
			entryBlocks, nodeBlocks = db.entryPool.blocks, db.nodePool.blocks
		}
	}
	if db.entryPool.blocks != entryBlocks || db.nodePool.blocks != nodeBlocks {
		t.Errorf("blocks grew with churn: entries %d -> %d, router nodes %d -> %d",
			entryBlocks, db.entryPool.blocks, nodeBlocks, db.nodePool.blocks)
	}
}
