package ospfapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// checkDump compares the dump a session received with the server's
// database, in order.
func checkDump(t *testing.T, srv *ospfapitest.Server, evs []ospfapi.Dump, got []event) {
	t.Helper()
	var want []ospfapitest.AreaLSA
	for _, al := range srv.LSAs() {
		if al.LSA.Hdr().Type != ospf.NSSAExternalLSAType {
			want = append(want, al)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("dump has %d LSAs, want %d", len(got), len(want))
	}
	for i, al := range want {
		raw, err := ospf.Marshal(al.LSA)
		if err != nil {
			t.Fatal(err)
		}
		e := got[i]
		if e.kind != "update" || !bytes.Equal(e.lsa, raw) || e.area != al.Area.String() {
			t.Fatalf("dump LSA %d: %s area %s % x, want update area %s % x", i, e.kind, e.area, e.lsa, al.Area, raw)
		}
		if self := al.LSA.Hdr().AdvRouter == srv.RouterID(); e.self != self {
			t.Errorf("dump LSA %d: self-originated %v, want %v", i, e.self, self)
		}
	}
}

func TestSyncNYC(t *testing.T) {
	for _, replyFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("ReplyFirst=%v", replyFirst), func(t *testing.T) {
			srv := ospfapitest.Start(t, ospfapitest.Config{ReplyFirst: replyFirst}, ospfapitest.NYC(t))
			c := dial(t, srv.Addr())
			sp, ap := c.LocalPorts()
			if ap != sp+1 {
				t.Errorf("local ports %d, %d: want consecutive", sp, ap)
			}
			s := startSync(t, c)
			got, dump := s.untilDump(t)
			if dump.LSAs != 1287 || dump.Live != 0 || dump.RouterID != srv.RouterID() || dump.Bytes == 0 {
				t.Errorf("Dump = %+v, want 1287 LSAs, router ID %s", dump, srv.RouterID())
			}
			checkDump(t, srv, nil, got)
			for _, e := range got {
				if e.seq != got[0].seq || e.seq == 0 {
					t.Fatalf("dump LSA with seq %d, want the SYNC_LSDB request's (%d)", e.seq, got[0].seq)
				}
			}
			if f := srv.Faults(); len(f) > 0 {
				t.Errorf("the client did what ospfd would not survive: %q", f)
			}
			s.cancel()
			if err := s.wait(t); !errors.Is(err, context.Canceled) {
				t.Errorf("Sync after cancel: %v, want context.Canceled", err)
			}
		})
	}
}

func TestLiveChanges(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t))
	c := dial(t, srv.Addr())
	s := startSync(t, c)
	s.untilDump(t)

	area0 := netip.MustParseAddr("0.0.0.0")
	router := netip.MustParseAddr("10.68.73.125")
	rk := ospfapitest.Key{Area: area0, Type: ospf.RouterLSAType, LSID: router, AdvRouter: router}
	raw := func(k ospfapitest.Key) []byte {
		t.Helper()
		b, ok := srv.Raw(k)
		if !ok {
			t.Fatalf("no %s", k)
		}
		return b
	}
	expect := func(kind string, lsa []byte) {
		t.Helper()
		e := s.next(t)
		if e.kind != kind || e.seq != 0 || !bytes.Equal(e.lsa, lsa) {
			t.Fatalf("got %s seq %d % x\nwant %s seq 0 % x", e.kind, e.seq, e.lsa, kind, lsa)
		}
	}

	// A metric change reinstalls the Router-LSA: DELETE old, UPDATE new.
	old := raw(rk)
	if err := srv.SetLinkMetric(area0, router, 0, 99); err != nil {
		t.Fatal(err)
	}
	now := raw(rk)
	expect("delete", old)
	expect("update", now)
	l, err := ospf.Decode(now)
	if err != nil {
		t.Fatal(err)
	}
	if rl := l.(*ospf.RouterLSA); rl.Links[0].Metric != 99 || rl.SeqNum != ospf.InitialSeqNum+1 {
		t.Errorf("new instance: metric %d seq %#x", rl.Links[0].Metric, uint32(rl.SeqNum))
	}

	// A new external: UPDATE alone, area 0.0.0.0.
	p := netip.MustParsePrefix("198.51.100.0/24")
	if err := srv.AddExternal(router, p, 20, true, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	xk := ospfapitest.Key{Type: ospf.ASExternalLSAType, LSID: p.Addr(), AdvRouter: router}
	xraw := raw(xk)
	expect("update", xraw)

	// Its withdrawal by the (remote) router: DELETE of the old instance;
	// the MaxAge copy is not notified but stays in the database...
	if err := srv.WithdrawExternal(router, p); err != nil {
		t.Fatal(err)
	}
	expect("delete", xraw)
	maxAge := raw(xk)
	if h, _ := ospf.DecodeHeader(maxAge); !h.IsMaxAge() {
		t.Fatalf("flushed LSA has age %d", h.Age)
	}
	// ...until ospfd removes it: DELETE of the MaxAge copy.
	if n := srv.PurgeMaxAge(); n != 1 {
		t.Fatalf("PurgeMaxAge removed %d LSAs, want 1", n)
	}
	expect("delete", maxAge)

	// A bare DELETE_NOTIFY.
	nk := ospfapitest.Key{Area: area0, Type: ospf.NetworkLSAType}
	for _, al := range srv.LSAs() {
		if h := al.LSA.Hdr(); h.Type == ospf.NetworkLSAType {
			nk.LSID, nk.AdvRouter = h.LSID, h.AdvRouter
			break
		}
	}
	nraw := raw(nk)
	if err := srv.Remove(nk); err != nil {
		t.Fatal(err)
	}
	expect("delete", nraw)

	// Other notifications go to Other, probes' answers do not.
	if err := srv.Notify(&ospfapi.NewIf{IfAddr: netip.MustParseAddr("10.0.0.1"), Area: area0}); err != nil {
		t.Fatal(err)
	}
	if e := s.next(t); e.kind != "other" || e.msg.MsgType() != ospfapi.MsgNewIf {
		t.Fatalf("got %s %v, want NEW_IF", e.kind, e.msg)
	}
	srv.SetRouterID(netip.MustParseAddr("10.10.10.11"))
	if e := s.next(t); e.kind != "other" || e.msg.(*ospfapi.RouterIDChange).RouterID != netip.MustParseAddr("10.10.10.11") {
		t.Fatalf("got %s %v, want ROUTER_ID_CHANGE", e.kind, e.msg)
	}
}

func TestRefreshAll(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t))
	c := dial(t, srv.Addr())
	s := startSync(t, c)
	dumped, _ := s.untilDump(t)
	n, err := srv.RefreshAll()
	if err != nil || n != len(dumped) {
		t.Fatalf("RefreshAll = %d, %v, want %d", n, err, len(dumped))
	}
	for i, d := range dumped {
		del, up := s.next(t), s.next(t)
		if del.kind != "delete" || !bytes.Equal(del.lsa, d.lsa) {
			t.Fatalf("refresh %d: %s % x, want delete of % x", i, del.kind, del.lsa, d.lsa)
		}
		oh, _ := ospf.DecodeHeader(d.lsa)
		nh, err := ospf.DecodeHeader(up.lsa)
		if up.kind != "update" || err != nil || nh.SeqNum != oh.SeqNum+1 || nh.Key() != oh.Key() ||
			!bytes.Equal(up.lsa[20:], d.lsa[20:]) {
			t.Fatalf("refresh %d: %s %+v, want update of the next instance of %+v", i, up.kind, nh, oh)
		}
		if _, err := ospf.Decode(up.lsa); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
}

func TestConcurrentDial(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t)[:50])
	const n = 20
	var wg sync.WaitGroup
	conns := make([]*ospfapi.Conn, n)
	errs := make([]error, n)
	dumps := make([]ospfapi.Dump, n)
	start := make(chan struct{})
	done := errors.New("done")
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := ospfapi.Dial(testCtx(t), srv.Addr())
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = c
			errs[i] = c.Sync(testCtx(t), ospfapi.Handlers{DumpDone: func(d ospfapi.Dump) error {
				dumps[i] = d
				return done
			}})
		})
	}
	close(start)
	wg.Wait()
	ports := map[uint16]int{}
	for i := range n {
		if !errors.Is(errs[i], done) {
			t.Errorf("client %d: %v", i, errs[i])
			continue
		}
		if dumps[i].LSAs != 50 {
			t.Errorf("client %d: dump of %d LSAs, want 50", i, dumps[i].LSAs)
		}
		sp, ap := conns[i].LocalPorts()
		if ap != sp+1 {
			t.Errorf("client %d: ports %d, %d", i, sp, ap)
		}
		for _, p := range []uint16{sp, ap} {
			if j, ok := ports[p]; ok {
				t.Errorf("clients %d and %d share port %d", j, i, p)
			}
			ports[p] = i
		}
	}
}

func TestAsyncFromWrongAddressRefused(t *testing.T) {
	rogue := make(chan net.Conn, 1)
	cfg := ospfapitest.Config{BeforeConnectBack: func(peer netip.AddrPort) {
		// Someone else on the path connects first, from 127.0.0.2.
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
		c, err := d.Dial("tcp4", netip.AddrPortFrom(peer.Addr(), peer.Port()+1).String())
		if err != nil {
			t.Errorf("rogue dial: %v", err)
			return
		}
		rogue <- c
	}}
	srv := ospfapitest.Start(t, cfg, ospfapitest.NYC(t)[:10])
	logs := &logRecorder{}
	c := dial(t, srv.Addr(), ospfapi.WithLogger(slogNew(logs)))
	r := <-rogue
	defer r.Close()
	_ = r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("rogue connection: read %v, want it closed", err)
	}
	if !logs.has("Refused asynchronous connection from an address other than ospfd's") {
		t.Errorf("no log line about the refused connection: %q", logs.msgs)
	}
	s := startSync(t, c)
	if _, d := s.untilDump(t); d.LSAs != 10 {
		t.Errorf("dump of %d LSAs, want 10", d.LSAs)
	}
}

func TestAsyncNeverFromServer(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{AsyncSource: netip.MustParseAddr("127.0.0.2")}, nil)
	start := time.Now()
	_, err := ospfapi.Dial(testCtx(t), srv.Addr(), ospfapi.WithTimeout(300*time.Millisecond))
	var oe *ospfapi.OpError
	if !errors.As(err, &oe) || oe.Op != "accept async" || !errors.Is(err, ospfapi.ErrNoAsyncConnection) {
		t.Fatalf("Dial: %v, want accept async error wrapping ErrNoAsyncConnection", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Dial took %v", d)
	}
}

func TestDialUnreachable(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, nil)
	srv.Stop()
	_, err := ospfapi.Dial(testCtx(t), srv.Addr())
	var oe *ospfapi.OpError
	if !errors.As(err, &oe) || oe.Op != "dial" || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Dial to a stopped server: %v, want a dial error wrapping ECONNREFUSED", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error %q does not say why", err)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, srv.Addr())
	c.Close()
}

func TestReplyErrorTyped(t *testing.T) {
	tests := []struct {
		req  ospfapi.MsgType
		code int8
		op   string
		is   error
	}{
		{ospfapi.MsgRegisterEvent, ospfapi.CodeNoMemory, "register event", ospfapi.ErrNoMemory},
		{ospfapi.MsgSyncLSDB, ospfapi.CodeNoSuchArea, "sync lsdb", ospfapi.ErrNoSuchArea},
		{ospfapi.MsgSyncRouterID, ospfapi.CodeError, "sync router id", ospfapi.ErrError},
	}
	for _, tt := range tests {
		t.Run(tt.req.String(), func(t *testing.T) {
			srv := ospfapitest.Start(t, ospfapitest.Config{Reply: func(m ospfapi.Message) int8 {
				if m.MsgType() == tt.req {
					return tt.code
				}
				return 0
			}}, ospfapitest.NYC(t)[:10])
			c := dial(t, srv.Addr())
			err := c.Sync(testCtx(t), ospfapi.Handlers{})
			var oe *ospfapi.OpError
			var ae *ospfapi.APIError
			if !errors.As(err, &oe) || oe.Op != tt.op || !errors.Is(err, tt.is) || !errors.As(err, &ae) || ae.Request != tt.req {
				t.Fatalf("Sync: %v, want %s error wrapping %v", err, tt.op, tt.is)
			}
		})
	}
}

func TestServerGoesAwayMidDump(t *testing.T) {
	lsas, err := ospfapitest.Clone(ospfapitest.NYC(t), 10)
	if err != nil {
		t.Fatal(err)
	}
	srv := ospfapitest.Start(t, ospfapitest.Config{CrashDuringDump: 1000}, lsas)
	c := dial(t, srv.Addr())
	n := 0
	err = c.Sync(testCtx(t), ospfapi.Handlers{LSA: func(*ospfapi.LSANotify) error {
		n++
		return nil
	}})
	var oe *ospfapi.OpError
	if !errors.As(err, &oe) || oe.Op != "read async" || !errors.Is(err, ospfapi.ErrPeerClosed) {
		t.Fatalf("Sync: %v, want read async error wrapping ErrPeerClosed", err)
	}
	if !strings.Contains(err.Error(), "during the LSDB dump") {
		t.Errorf("error %q does not say it happened during the dump", err)
	}
	if n != 1000 || !strings.Contains(err.Error(), "after 1000 LSAs") {
		t.Errorf("got %d LSAs (%v), want the 1000 sent before the crash", n, err)
	}
}

func TestServerGoesAwayLive(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t))
	c := dial(t, srv.Addr())
	s := startSync(t, c)
	s.untilDump(t)
	srv.Stop()
	err := s.wait(t)
	if !errors.Is(err, ospfapi.ErrPeerClosed) {
		t.Fatalf("Sync: %v, want ErrPeerClosed", err)
	}
	if strings.Contains(err.Error(), "during the LSDB dump") {
		t.Errorf("error %q says dump", err)
	}
}

func TestGarbage(t *testing.T) {
	lsa := []byte{0, 1, 2, 1, 10, 0, 0, 1, 10, 0, 0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0x30}
	tests := []struct {
		name  string
		bytes []byte
		drop  bool // the server closes after sending
		want  func(error) bool
	}{
		{"http", []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), false, isProtocolError},
		{"version 2", []byte{2, 12, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0}, false, isProtocolError},
		{"LSA longer than message", append([]byte{1, 12, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, lsa...), false, isProtocolError},
		{"cut in the middle", []byte{1, 12, 0, 32, 0, 0, 0, 0, 0, 0}, true, func(err error) bool {
			return errors.Is(err, ospfapi.ErrPeerClosed) && strings.Contains(err.Error(), "in the middle of a message")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t)[:10])
			c := dial(t, srv.Addr())
			s := startSync(t, c)
			s.untilDump(t)
			srv.SendRaw(tt.bytes)
			if tt.drop {
				if err := srv.WaitDrained(testCtx(t)); err != nil {
					t.Fatal(err)
				}
				srv.DropClients()
			}
			err := s.wait(t)
			var oe *ospfapi.OpError
			if !errors.As(err, &oe) || oe.Op != "read async" || !tt.want(err) {
				t.Fatalf("Sync: %v", err)
			}
		})
	}
}

func isProtocolError(err error) bool {
	var pe *ospfapi.ProtocolError
	return errors.As(err, &pe)
}

// routerWithLinks returns a Router-LSA of id with n stub links.
func routerWithLinks(id netip.Addr, n int) *ospf.RouterLSA {
	rl := &ospf.RouterLSA{Header: ospf.Header{Age: 10, Options: 2, Type: ospf.RouterLSAType, LSID: id, AdvRouter: id, SeqNum: ospf.InitialSeqNum}}
	for i := range n {
		rl.Links = append(rl.Links, ospf.RouterLink{ID: netip.AddrFrom4([4]byte{172, 16, byte(i >> 8), byte(i)}),
			Data: netip.MustParseAddr("255.255.255.255"), Type: ospf.LinkStub, Metric: 10})
	}
	return rl
}

func TestOversizedLSA(t *testing.T) {
	base := ospfapitest.NYC(t)
	// 10.69.13.40 has 85 links; give it 130, as in the lab: its LSA is
	// 1,584 bytes, its notification body 1,596 > 1,500.
	big := netip.MustParseAddr("10.69.13.40")
	var lsas []ospfapitest.AreaLSA
	pos := -1
	for i, al := range base {
		if h := al.LSA.Hdr(); h.Type == ospf.RouterLSAType && h.AdvRouter == big {
			al = ospfapitest.AreaLSA{Area: al.Area, LSA: routerWithLinks(big, 130)}
			pos = i
		}
		lsas = append(lsas, al)
	}
	if pos < 100 {
		t.Fatalf("router %s at %d", big, pos)
	}
	tests := []struct {
		mode     ospfapitest.OversizeMode
		wantLSAs int // dumped
		lost     int
	}{
		// Everything queued before it goes with it: the dump has only
		// what came after it, the local router's own LSA (10.10.10.10,
		// earlier in the order) not included.
		{ospfapitest.OversizeFRR84, len(lsas) - pos - 1, pos + 1},
		{ospfapitest.OversizeDrop, len(lsas) - 1, 1},
		{ospfapitest.OversizeSend, len(lsas), 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.mode), func(t *testing.T) {
			srv := ospfapitest.Start(t, ospfapitest.Config{Oversize: tt.mode}, lsas)
			c := dial(t, srv.Addr())
			s := startSync(t, c)
			got, d := s.untilDump(t)
			if d.LSAs != tt.wantLSAs || len(got) != tt.wantLSAs {
				t.Errorf("dump of %d LSAs (%d delivered), want %d", d.LSAs, len(got), tt.wantLSAs)
			}
			if srv.Lost() != tt.lost {
				t.Errorf("server lost %d messages, want %d", srv.Lost(), tt.lost)
			}
			self := false
			for _, e := range got {
				self = self || e.self && ospf.LSType(e.lsa[3]) == ospf.RouterLSAType
			}
			if wantSelf := tt.mode != ospfapitest.OversizeFRR84; self != wantSelf {
				t.Errorf("own Router-LSA delivered: %v, want %v", self, wantSelf)
			}
			// The session is still up: live changes flow.
			router := netip.MustParseAddr("10.68.73.125")
			if err := srv.SetLinkMetric(netip.MustParseAddr("0.0.0.0"), router, 0, 7); err != nil {
				t.Fatal(err)
			}
			if e := s.next(t); e.kind != "delete" {
				t.Errorf("after the dump: %s, want delete", e.kind)
			}
		})
	}
}

func TestProbes(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t)[:10])
	c := dial(t, srv.Addr(), ospfapi.WithProbeInterval(20*time.Millisecond), ospfapi.WithTimeout(2*time.Second))
	s := startSync(t, c)
	s.untilDump(t)
	// Several probes go by, answered, without reaching Other.
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		select {
		case e := <-s.events:
			t.Fatalf("unexpected %s %v", e.kind, e.msg)
		case err := <-s.done:
			t.Fatalf("Sync ended: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	// ospfd hangs: the next probe is not answered.
	srv.Freeze()
	err := s.wait(t)
	srv.Thaw()
	if !errors.Is(err, ospfapi.ErrProbeTimeout) {
		t.Fatalf("Sync with a hung ospfd: %v, want ErrProbeTimeout", err)
	}
}

func TestCloseAndSyncTwice(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t)[:10])
	c := dial(t, srv.Addr())
	s := startSync(t, c)
	s.untilDump(t)
	if err := c.Sync(context.Background(), ospfapi.Handlers{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("second Sync: %v", err)
	}
	c.Close()
	c.Close()
	if err := s.wait(t); !errors.Is(err, ospfapi.ErrClosed) {
		t.Errorf("Sync after Close: %v, want ErrClosed", err)
	}
	eventually(t, "the server sees the client leave", func() bool { return srv.Clients() == 0 })
}

func TestHandlerError(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, ospfapitest.NYC(t))
	c := dial(t, srv.Addr())
	stop := errors.New("stop")
	n := 0
	err := c.Sync(testCtx(t), ospfapi.Handlers{LSA: func(*ospfapi.LSANotify) error {
		if n++; n == 5 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatalf("Sync: %v, want the handler's error", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	srv, err := ospfapitest.NewServer(ospfapitest.Config{}, ospfapitest.NYC(t))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c, err := ospfapi.Dial(testCtx(t), srv.Addr(), ospfapi.WithProbeInterval(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		err = c.Sync(ctx, ospfapi.Handlers{DumpDone: func(ospfapi.Dump) error { cancel(); return nil }})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Sync: %v", err)
		}
		c.Close()
	}
	srv.Close()
	eventually(t, "goroutines return to the baseline", func() bool { return runtime.NumGoroutine() <= before })
}

func TestDialAddr(t *testing.T) {
	srv := ospfapitest.Start(t, ospfapitest.Config{}, nil)
	_, port, _ := net.SplitHostPort(srv.Addr())
	for _, addr := range []string{"127.0.0.1:" + port, "localhost:" + port} {
		c := dial(t, addr)
		if got := c.ServerAddr(); got.Addr() != netip.MustParseAddr("127.0.0.1") || fmt.Sprint(got.Port()) != port {
			t.Errorf("Dial(%q): server %s", addr, got)
		}
		c.Close()
	}
	bad := []struct{ addr, want string }{
		{"[::1]:2607", "IPv4 only"},
		{"::1", "IPv4 only"},
		{"127.0.0.1:0", "bad port"},
		{"127.0.0.1:http", "bad port"},
		{"127.0.0.1:70000", "bad port"},
	}
	for _, tt := range bad {
		_, err := ospfapi.Dial(testCtx(t), tt.addr)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Dial(%q): %v, want an error saying %q", tt.addr, err, tt.want)
		}
	}
}
