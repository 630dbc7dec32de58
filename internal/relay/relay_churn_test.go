package relay

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/stream"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// churn drives a database with LSAs of every kind, each instance newer
// than the last of its key.
type churn struct {
	t    testing.TB
	db   *lsdb.DB
	seqs map[churnKey]int32
	held map[churnKey]ospf.LSA
}

type churnKey struct {
	area netip.Addr
	key  ospf.Key
}

func newChurn(t testing.TB, db *lsdb.DB) *churn {
	return &churn{t: t, db: db, seqs: map[churnKey]int32{}, held: map[churnKey]ospf.LSA{}}
}

// update sends l (withdrawn: at MaxAge) in area.
func (c *churn) update(area netip.Addr, l ospf.LSA, withdrawn bool) {
	c.t.Helper()
	h := l.Hdr()
	h.Options = 0x02
	k := churnKey{area, h.Key()}
	if h.Type == ospf.ASExternalLSAType {
		k.area = streamtest.Area0
	}
	s, ok := c.seqs[k]
	if !ok {
		s = ospf.InitialSeqNum - 1
	}
	c.seqs[k] = s + 1
	h.SeqNum, h.Age = s+1, 1
	if withdrawn {
		h.Age = ospf.MaxAge
		delete(c.held, k)
	} else {
		c.held[k] = l
	}
	raw, err := ospf.Marshal(l)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.db.Update(area, raw, time.Now()); err != nil {
		c.t.Fatal(err)
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

var churnRouters = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}

func routerLSA(id string, flags uint8, links ...ospf.RouterLink) *ospf.RouterLSA {
	return &ospf.RouterLSA{Header: ospf.Header{Type: ospf.RouterLSAType, LSID: addr(id), AdvRouter: addr(id)}, Flags: flags, Links: links}
}

// lan is the Network-LSA of 10.1.0.0/24 as router dr (10.0.0.N, interface
// 10.1.0.N) originates it.
func lan(dr string, attached ...string) *ospf.NetworkLSA {
	d := addr(dr).As4()
	n := &ospf.NetworkLSA{Header: ospf.Header{Type: ospf.NetworkLSAType, LSID: netip.AddrFrom4([4]byte{10, 1, 0, d[3]}), AdvRouter: addr(dr)},
		Mask: addr("255.255.255.0")}
	for _, a := range attached {
		n.Attached = append(n.Attached, addr(a))
	}
	return n
}

func transitTo(dr, self string) ospf.RouterLink {
	d, s := addr(dr).As4(), addr(self).As4()
	return ospf.RouterLink{ID: netip.AddrFrom4([4]byte{10, 1, 0, d[3]}), Data: netip.AddrFrom4([4]byte{10, 1, 0, s[3]}), Type: ospf.LinkTransit, Metric: 10}
}

func externalLSA(typ ospf.LSType, adv string, n int, metric, tag uint32, type2 bool, forward string) *ospf.ExternalLSA {
	return &ospf.ExternalLSA{Header: ospf.Header{Type: typ, LSID: netip.AddrFrom4([4]byte{198, 51, byte(n), 0}), AdvRouter: addr(adv)},
		Mask: addr("255.255.255.0"), Metric: metric, Tag: tag, Type2: type2, Forward: addr(forward)}
}

// random returns a random LSA and its area.
func (c *churn) random(rng *rand.Rand) (netip.Addr, ospf.LSA) {
	area1 := addr("0.0.0.1")
	r := churnRouters[rng.IntN(len(churnRouters))]
	pick := func() string { return churnRouters[rng.IntN(len(churnRouters))] }
	switch rng.IntN(7) {
	case 0, 1:
		var links []ospf.RouterLink
		for range rng.IntN(3) { // often none
			switch o := pick(); {
			case o == r:
				links = append(links, ospf.RouterLink{ID: addr("172.16.0.0"), Data: addr("255.255.255.0"), Type: ospf.LinkStub, Metric: uint16(rng.IntN(3))})
			case rng.IntN(2) == 0:
				links = append(links, transitTo(o, r))
			default:
				links = append(links, ospf.RouterLink{ID: addr(o), Data: addr("192.0.2.1"), Type: ospf.LinkPointToPoint, Metric: uint16(1 + rng.IntN(3))})
			}
		}
		area := streamtest.Area0
		if rng.IntN(4) == 0 {
			area = area1
		}
		flags := []uint8{0, ospf.RouterFlagB, ospf.RouterFlagE, ospf.RouterFlagB | ospf.RouterFlagE}[rng.IntN(4)]
		return area, routerLSA(r, flags, links...)
	case 2:
		var members []string
		for _, m := range churnRouters {
			if m == r || rng.IntN(2) == 0 {
				members = append(members, m)
			}
		}
		return streamtest.Area0, lan(r, members...)
	case 3:
		fwd := []string{"0.0.0.0", "10.1.0.9", "10.1.0.8"}[rng.IntN(3)]
		return streamtest.Area0, externalLSA(ospf.ASExternalLSAType, r, rng.IntN(3), uint32(rng.IntN(3)), uint32(rng.IntN(3)), rng.IntN(2) == 0, fwd)
	case 4:
		return area1, externalLSA(ospf.NSSAExternalLSAType, r, 10+rng.IntN(2), uint32(rng.IntN(3)), uint32(rng.IntN(2)), false, "0.0.0.0")
	case 5:
		return area1, &ospf.SummaryLSA{Header: ospf.Header{Type: ospf.SummaryLSAType, LSID: netip.AddrFrom4([4]byte{10, 9, byte(rng.IntN(3)), 0}), AdvRouter: addr(r)},
			Mask: addr("255.255.255.0"), Metric: uint32(rng.IntN(3))}
	default:
		return area1, &ospf.SummaryLSA{Header: ospf.Header{Type: ospf.ASBRSummaryLSAType, LSID: addr(pick()), AdvRouter: addr(r)},
			Mask: addr("0.0.0.0"), Metric: uint32(rng.IntN(3))}
	}
}

// relayView fetches the relay's /v1/view.
func relayView(t testing.TB, base string) *lsdb.View {
	t.Helper()
	resp, err := http.Get(base + "/v1/view")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/v1/view: %s %v: %s", resp.Status, err, body)
	}
	var doc struct {
		Seq  uint64          `json:"seq"`
		View json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	v, err := lsdb.ParseView(doc.View)
	if err != nil {
		t.Fatal(err)
	}
	if v.Seq != doc.Seq {
		t.Fatalf("/v1/view at %d holds a view at %d", doc.Seq, v.Seq)
	}
	return v
}

var cmpView = cmp.Options{cmp.AllowUnexported(lsdb.Link{}), cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{}),
	cmpopts.EquateEmpty(), cmpopts.IgnoreFields(lsdb.View{}, "Updated")}

// TestRelayViewEqualsTheUpstreamsAfterEveryCommit drives a real database
// through scripted changes that no event shows (a router without links, a
// DR change, a flag change, a tag change), then random churn of every
// kind of LSA, and checks after every commit that the relay's view (and
// snapshot) is the database's, at the same sequence number, and that the
// relay's periodic comparison with its upstream never corrects anything.
func TestRelayViewEqualsTheUpstreamsAfterEveryCommit(t *testing.T) {
	db := streamtest.NewDB(t, 1<<16)
	up := startUpstream(t, stream.ServerConfig{Source: db}, nil)
	relay := startRelay(t, Config{Upstream: up.url, VerifyInterval: 5 * time.Millisecond})
	c := newChurn(t, db)
	check := func(what string) {
		t.Helper()
		last := db.Feed().LastSeq()
		streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().LastSeq == last }).Should(gomega.BeTrue(), what+": the relay to catch up")
		want, got := db.View(), relayView(t, relay.http)
		if d := cmp.Diff(want, got, cmpView); d != "" {
			t.Fatalf("%s: the relay's view differs from the upstream's (-upstream +relay):\n%s", what, d)
		}
		if got.Seq != last {
			t.Fatalf("%s: the relay's view is at %d, the upstream at %d", what, got.Seq, last)
		}
		snap, _ := db.Snapshot()
		sameSnapshot(t, what, snap.AppendJSON(nil), streamtest.GetSnapshot(t, relay.http).Snapshot)
	}
	commit := func(what string, wantEvents bool) {
		t.Helper()
		before := db.Feed().LastSeq()
		n := db.Commit()
		if !wantEvents && n != 0 {
			t.Fatalf("%s made %d events; the step needs a change no event shows", what, n)
		}
		if db.Feed().LastSeq() == before {
			t.Fatalf("%s published nothing", what)
		}
		check(what)
	}

	c.update(streamtest.Area0, routerLSA("10.0.0.1", 0, transitTo("10.0.0.1", "10.0.0.1")), false)
	c.update(streamtest.Area0, routerLSA("10.0.0.2", 0, transitTo("10.0.0.1", "10.0.0.2")), false)
	c.update(streamtest.Area0, lan("10.0.0.1", "10.0.0.1", "10.0.0.2"), false)
	c.update(streamtest.Area0, externalLSA(ospf.ASExternalLSAType, "10.0.0.2", 1, 10, 1, true, "0.0.0.0"), false)
	commit("a LAN and an external", true)
	c.update(streamtest.Area0, routerLSA("10.0.0.3", 0), false)
	commit("a router without links", false)
	c.update(streamtest.Area0, routerLSA("10.0.0.3", ospf.RouterFlagB), false)
	commit("a flag change", false)
	c.update(streamtest.Area0, externalLSA(ospf.ASExternalLSAType, "10.0.0.2", 1, 10, 2, true, "0.0.0.0"), false)
	commit("a tag change", false)
	// The DR moves from 10.0.0.1 to 10.0.0.2, with the same members.
	c.update(streamtest.Area0, routerLSA("10.0.0.1", 0, transitTo("10.0.0.2", "10.0.0.1")), false)
	c.update(streamtest.Area0, routerLSA("10.0.0.2", 0, transitTo("10.0.0.2", "10.0.0.2")), false)
	c.update(streamtest.Area0, lan("10.0.0.2", "10.0.0.1", "10.0.0.2"), false)
	c.update(streamtest.Area0, lan("10.0.0.1", "10.0.0.1", "10.0.0.2"), true)
	commit("a DR change", false)

	rng := rand.New(rand.NewPCG(11, 5))
	for step := range 400 {
		if len(c.held) > 0 && rng.IntN(4) == 0 {
			keys := slices.SortedFunc(maps.Keys(c.held), func(a, b churnKey) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			k := keys[rng.IntN(len(keys))]
			c.update(k.area, c.held[k], true)
		} else {
			area, l := c.random(rng)
			c.update(area, l, false)
		}
		if rng.IntN(3) == 0 {
			continue // several changes in one commit
		}
		db.Commit()
		check(fmt.Sprintf("step %d", step))
	}

	v := relay.Stats().Verified
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().Verified >= v+2 }).Should(gomega.BeTrue(), "two comparisons with the upstream after the churn")
	if st := relay.Stats(); st.Corrections != 0 || st.Verified == 0 {
		t.Fatalf("%d corrections in %d comparisons, want none", st.Corrections, st.Verified)
	}
}
