package streamtest

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// Area0 is the backbone, where the Emitter's routes are.
var Area0 = netip.IPv4Unspecified()

// Fixture is the path of the NYC Mesh LSDB of testdata/ (ospfapitest.NYC
// loads its LSAs).
var Fixture = ospfapitest.Fixture

// NewDB returns a loaded, empty database whose feed keeps window events.
func NewDB(t testing.TB, window int) *lsdb.DB {
	t.Helper()
	db := lsdb.New(lsdb.Config{FeedWindow: window})
	db.BeginSync()
	db.EndSync()
	return db
}

// LoadFixture returns a database loaded with the NYC Mesh LSDB.
func LoadFixture(t testing.TB) *lsdb.DB {
	t.Helper()
	db := lsdb.New(lsdb.Config{})
	if err := ospfapitest.LoadDB(db, ospfapitest.NYC(t), time.Now()); err != nil {
		t.Fatal(err)
	}
	return db
}

// RouteOrigin is the router that originates the Emitter's route n: a
// router of its own, so that the state record that follows the route's
// event (which carries all the router's routes) is as small as the event.
func RouteOrigin(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(64 + n>>16), byte(n >> 8), byte(n)})
}

// RouteID is the prefix address of the Emitter's route n, 172.16.0.0/12
// counted from 172.16.0.1.
func RouteID(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{172, byte(16 + n>>16), byte(n >> 8), byte(n)})
}

// Emitter makes events: every route it adds is one "added external"
// event, which the state record of the route's router follows. N is the
// number of the last route added; set it to start further on. Now is the
// clock its LSAs arrive by (time.Now when nil): an event's timestamp is
// its LSA's arrival less one second of LS age.
type Emitter struct {
	DB  *lsdb.DB
	N   uint32
	Now func() time.Time

	mu sync.Mutex
}

// Emit adds k routes, one commit each, and returns the feed's newest
// sequence number.
func (e *Emitter) Emit(t testing.TB, k int) uint64 {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for range k {
		e.N++
		raw, err := ospf.Marshal(Route(e.N))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now
		if e.Now != nil {
			now = e.Now
		}
		if err := e.DB.Update(Area0, raw, now()); err != nil {
			t.Fatal(err)
		}
		if e.DB.Commit() != 1 {
			t.Fatalf("route %d made no event", e.N)
		}
	}
	return e.DB.Feed().LastSeq()
}

// Route is the first instance of the Emitter's route n.
func Route(n uint32) *ospf.ExternalLSA {
	return &ospf.ExternalLSA{
		Header: ospf.Header{Age: 1, Options: 0x02, Type: ospf.ASExternalLSAType,
			LSID: RouteID(n), AdvRouter: RouteOrigin(n), SeqNum: ospf.InitialSeqNum},
		Mask:   netip.MustParseAddr("255.255.255.255"),
		Metric: 20,
	}
}

// FeedLines returns the seed encoding of the feed's events from..to, by
// sequence number (state records have none).
func FeedLines(t testing.TB, db *lsdb.DB, from, to uint64) map[uint64]string {
	t.Helper()
	sub, err := db.Feed().Subscribe(from - 1)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[uint64]string)
	for sub.Next() <= to {
		evs, err := sub.Read(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			if evs[i].Seq <= to {
				out[evs[i].Seq] = string(evs[i].AppendJSON(nil))
			}
		}
	}
	return out
}

// WantLines returns the seed encoding of the feed's events from..to, in
// order.
func WantLines(t testing.TB, db *lsdb.DB, from, to uint64) []string {
	t.Helper()
	m := FeedLines(t, db, from, to)
	out := make([]string, 0, len(m))
	for s := from; s <= to; s++ {
		if l, ok := m[s]; ok { // not a state record
			out = append(out, l)
		}
	}
	return out
}

// FirstLines returns the seed encoding of the feed's first n events.
func FirstLines(t testing.TB, db *lsdb.DB, n int) []string {
	t.Helper()
	lines := WantLines(t, db, 1, db.Feed().LastSeq())
	if len(lines) < n {
		t.Fatalf("the feed holds %d events, want at least %d", len(lines), n)
	}
	return lines[:n]
}
