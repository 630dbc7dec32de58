package ospfapitest_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// rawClient speaks the protocol by hand, to test the fake's side of it.
type rawClient struct {
	sc, ac net.Conn
	sr     *bufio.Reader
	ar     *bufio.Reader
}

// rawDial does the handshake: listen on Q, connect from Q-1, accept.
func rawDial(t *testing.T, addr string) *rawClient {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		q := ln.Addr().(*net.TCPAddr).Port
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: q - 1}, Timeout: 5 * time.Second}
		sc, err := d.Dial("tcp4", addr)
		if err != nil {
			ln.Close()
			continue
		}
		_ = ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
		ac, err := ln.Accept()
		ln.Close()
		if err != nil {
			t.Fatal(err)
		}
		c := &rawClient{sc: sc, ac: ac, sr: bufio.NewReader(sc), ar: bufio.NewReader(ac)}
		t.Cleanup(func() { sc.Close(); ac.Close() })
		return c
	}
	t.Fatal("no port pair")
	return nil
}

func (c *rawClient) send(t *testing.T, m ospfapi.Message) {
	t.Helper()
	b, err := ospfapi.MarshalMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.sc.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (c *rawClient) reply(t *testing.T) *ospfapi.Reply {
	t.Helper()
	_ = c.sc.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := ospfapi.ReadMessage(c.sr, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := m.(*ospfapi.Reply)
	if !ok {
		t.Fatalf("got %T on the sync channel", m)
	}
	return r
}

func (c *rawClient) async(t *testing.T) ospfapi.Message {
	t.Helper()
	_ = c.ac.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := ospfapi.ReadMessage(c.ar, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// quiet checks that nothing arrives on the async channel for a moment.
func (c *rawClient) quiet(t *testing.T) {
	t.Helper()
	_ = c.ac.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	m, err := ospfapi.ReadMessage(c.ar, nil)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, %v on the async channel, want nothing", m, err)
	}
	c.ar = bufio.NewReader(c.ac) // the timed-out read consumed nothing
}

// multiArea is a small two-area database with every dumped type, an NSSA
// LSA, and out-of-order input.
func multiArea(t *testing.T) []ospfapitest.AreaLSA {
	t.Helper()
	s := &lsdb.Snapshot{Areas: map[string]*lsdb.AreaSnapshot{
		"0.0.0.0": {Routers: map[string]*lsdb.RouterSnapshot{
			"1.1.1.1": {Links: lsdb.Links{Network: []lsdb.SnapshotLink{{ID: "10.0.0.0/24", Metric: 1}},
				External: []lsdb.SnapshotExternal{{ID: "0.0.0.0/0", Metric2: u32p(1)}}}},
			"2.2.2.2": {Links: lsdb.Links{Network: []lsdb.SnapshotLink{{ID: "10.0.0.0/24", Metric: 1}}}},
		}, Networks: map[string]*lsdb.NetworkSnapshot{"10.0.0.0/24": {DR: "2.2.2.2", Routers: []string{"2.2.2.2", "1.1.1.1"}}}},
		"0.0.0.1": {Routers: map[string]*lsdb.RouterSnapshot{
			"2.2.2.2": {Links: lsdb.Links{XNetwork: []lsdb.SnapshotLink{{ID: "10.0.0.0/24", Metric: 1}},
				XRouter: []lsdb.SnapshotLink{{ID: "1.1.1.1", Metric: 1}}}},
			"3.3.3.3": {Links: lsdb.Links{Stubnet: []lsdb.SnapshotLink{{ID: "10.3.0.0/16", Metric: 1}},
				NSSAExt: []lsdb.SnapshotExternal{{ID: "172.16.0.0/12", Metric: u32p(5)}}}},
		}},
	}}
	lsas, err := ospfapitest.FromSnapshot(s, ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Reverse, so that the server has to order them.
	for i, j := 0, len(lsas)-1; i < j; i, j = i+1, j-1 {
		lsas[i], lsas[j] = lsas[j], lsas[i]
	}
	return lsas
}

func describe(n *ospfapi.LSANotify) string {
	h, _ := ospf.DecodeHeader(n.LSA)
	s := n.Area.String() + " " + h.Type.String() + " " + h.LSID.String() + " " + h.AdvRouter.String()
	if n.SelfOriginated {
		s += " self"
	}
	return s
}

func TestDumpLikeOSPFD(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{RouterID: addr("2.2.2.2")}, multiArea(t))
	c := rawDial(t, srv.Addr())
	c.send(t, &ospfapi.SyncLSDB{Seq: 7, Filter: ospfapi.AllLSAs})
	c.send(t, &ospfapi.SyncRequest{Kind: ospfapi.MsgSyncRouterID, Seq: 8})
	if r := c.reply(t); r.Seq != 7 || r.Code != 0 {
		t.Errorf("reply %+v", r)
	}
	if r := c.reply(t); r.Seq != 8 || r.Code != 0 {
		t.Errorf("reply %+v", r)
	}
	var got []string
	for {
		m := c.async(t)
		if rid, ok := m.(*ospfapi.RouterIDChange); ok {
			if rid.Seq != 8 || rid.RouterID != addr("2.2.2.2") {
				t.Errorf("ROUTER_ID_CHANGE %+v", rid)
			}
			break
		}
		n := m.(*ospfapi.LSANotify)
		if n.Seq != 7 || n.Delete {
			t.Errorf("dump notification seq %d delete %v", n.Seq, n.Delete)
		}
		got = append(got, describe(n))
	}
	want := []string{
		"0.0.0.0 router 1.1.1.1 1.1.1.1",
		"0.0.0.0 router 2.2.2.2 2.2.2.2 self",
		"0.0.0.0 network 10.0.0.1 2.2.2.2 self",
		"0.0.0.1 router 2.2.2.2 2.2.2.2 self",
		"0.0.0.1 router 3.3.3.3 3.3.3.3",
		"0.0.0.1 summary 10.0.0.0 2.2.2.2 self",
		"0.0.0.1 asbr-summary 1.1.1.1 2.2.2.2 self",
		"0.0.0.0 as-external 0.0.0.0 1.1.1.1",
		// no nssa-external: ospfd never dumps type 7
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dump (-want +got):\n%s", diff)
	}
	// Nothing was registered: no live notifications.
	if err := srv.SetLinkMetric(addr("0.0.0.0"), addr("1.1.1.1"), 0, 5); err != nil {
		t.Fatal(err)
	}
	c.quiet(t)
}

func TestFilters(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{RouterID: addr("2.2.2.2")}, multiArea(t))
	c := rawDial(t, srv.Addr())
	f := ospfapi.LSAFilter{TypeMask: ospfapi.TypeBit(1) | ospfapi.TypeBit(7), Origin: ospfapi.NonSelfOriginated,
		Areas: []netip.Addr{addr("0.0.0.1")}}
	c.send(t, &ospfapi.RegisterEvent{Seq: 1, Filter: f})
	c.send(t, &ospfapi.SyncLSDB{Seq: 2, Filter: f})
	c.reply(t)
	c.reply(t)
	if n := c.async(t).(*ospfapi.LSANotify); describe(n) != "0.0.0.1 router 3.3.3.3 3.3.3.3" {
		t.Errorf("dump: %s", describe(n))
	}
	// Live: area 0, self-originated and external changes are filtered out.
	if err := srv.SetLinkMetric(addr("0.0.0.0"), addr("1.1.1.1"), 0, 5); err != nil {
		t.Fatal(err)
	}
	if err := srv.AddExternal(addr("3.3.3.3"), netip.MustParsePrefix("192.0.2.0/24"), 1, false, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Change(ospfapitest.Key{Area: addr("0.0.0.1"), Type: ospf.RouterLSAType, LSID: addr("2.2.2.2"), AdvRouter: addr("2.2.2.2")}, nil); err != nil {
		t.Fatal(err)
	}
	// NSSA-LSAs are never dumped but are notified live.
	nssaKey := ospfapitest.Key{Area: addr("0.0.0.1"), Type: ospf.NSSAExternalLSAType, LSID: addr("172.16.0.0"), AdvRouter: addr("3.3.3.3")}
	if err := srv.Change(nssaKey, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"delete 0.0.0.1 nssa-external 172.16.0.0 3.3.3.3", "update 0.0.0.1 nssa-external 172.16.0.0 3.3.3.3"} {
		n := c.async(t).(*ospfapi.LSANotify)
		kind := "update"
		if n.Delete {
			kind = "delete"
		}
		if got := kind + " " + describe(n); got != want || n.Seq != 0 {
			t.Errorf("live: %s seq %d, want %s seq 0", got, n.Seq, want)
		}
	}
	c.quiet(t)
}

func TestSelfFlushAndPurge(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{RouterID: addr("1.1.1.1")}, multiArea(t))
	c := rawDial(t, srv.Addr())
	c.send(t, &ospfapi.RegisterEvent{Seq: 1, Filter: ospfapi.AllLSAs})
	c.reply(t)
	k := ospfapitest.Key{Type: ospf.ASExternalLSAType, LSID: addr("0.0.0.0"), AdvRouter: addr("1.1.1.1")}
	if err := srv.Flush(k); err != nil {
		t.Fatal(err)
	}
	// ospfd ages its own LSA in place: no notification...
	c.quiet(t)
	raw, _ := srv.Raw(k)
	// ...but the MaxAge copy is in dumps...
	c.send(t, &ospfapi.SyncLSDB{Seq: 2, Filter: ospfapi.LSAFilter{TypeMask: ospfapi.TypeBit(5), Origin: ospfapi.AnyOrigin}})
	c.reply(t)
	if n := c.async(t).(*ospfapi.LSANotify); !bytes.Equal(n.LSA, raw) || n.Seq != 2 {
		t.Errorf("dump: % x, want the MaxAge copy % x", n.LSA, raw)
	}
	// ...until it is removed.
	if n := srv.PurgeMaxAge(); n != 1 {
		t.Fatalf("PurgeMaxAge = %d", n)
	}
	if n := c.async(t).(*ospfapi.LSANotify); !n.Delete || !bytes.Equal(n.LSA, raw) {
		t.Errorf("purge: delete %v % x", n.Delete, n.LSA)
	}
	if srv.Len() != len(multiArea(t))-1 {
		t.Errorf("%d LSAs left", srv.Len())
	}
}

func TestClientFaults(t *testing.T) {
	tests := []struct {
		name  string
		bytes []byte
		fault string
	}{
		{"empty body", []byte{1, 19, 0, 0, 0, 0, 0, 1}, "SYNC_ROUTER_ID seq 1 with an empty body would make ospfd abort"},
		{"bad version", []byte{3, 19, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0}, "version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ospfapitest.Start(t, ospfapitest.Config{}, nil)
			c := rawDial(t, srv.Addr())
			if _, err := c.sc.Write(tt.bytes); err != nil {
				t.Fatal(err)
			}
			_ = c.sc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.sr.ReadByte(); !errors.Is(err, io.EOF) {
				t.Errorf("read after the fault: %v, want EOF", err)
			}
			if f := srv.Faults(); len(f) != 1 || !strings.Contains(f[0], tt.fault) {
				t.Errorf("faults %q, want one saying %q", f, tt.fault)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.WaitClients(ctx, 0); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestUnknownRequestNotAnswered(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, nil)
	c := rawDial(t, srv.Addr())
	c.send(t, &ospfapi.RawMessage{Type: 99, Seq: 1, Body: []byte{0, 0, 0, 0}})
	c.send(t, &ospfapi.SyncRequest{Kind: ospfapi.MsgSyncISM, Seq: 2})
	if r := c.reply(t); r.Seq != 2 {
		t.Errorf("first reply is to seq %d, want 2 (none for the unknown type)", r.Seq)
	}
	c.send(t, &ospfapi.RegisterOpaqueType{Seq: 3, LSAType: 10, OpaqueType: 1})
	if r := c.reply(t); r.Seq != 3 || r.Code != ospfapi.CodeError {
		t.Errorf("opaque registration: %+v, want ERROR", r)
	}
}

func TestStopRestart(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, multiArea(t))
	c := rawDial(t, srv.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.WaitClients(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_ = c.ac.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.ar.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("async after Stop: %v, want EOF", err)
	}
	if err := srv.WaitClients(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	c2 := rawDial(t, srv.Addr())
	c2.send(t, &ospfapi.SyncRequest{Kind: ospfapi.MsgSyncRouterID, Seq: 1})
	if r := c2.reply(t); r.Seq != 1 {
		t.Errorf("reply %+v", r)
	}
}
