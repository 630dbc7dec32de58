package stream

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/coder/websocket"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

const fixture = "../../testdata/nycmesh-lsdb-2023-04-29.json"

var area0 = netip.IPv4Unspecified()

// routeOrigin is the router that originates the emitter's route n: a
// router of its own, so that the state record that follows the route's
// event (which carries all the router's routes) is as small as the event.
func routeOrigin(n uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{10, byte(64 + n>>16), byte(n >> 8), byte(n)})
}

// newDB returns a loaded, empty database whose feed keeps window events.
func newDB(t testing.TB, window int) *lsdb.DB {
	t.Helper()
	db := lsdb.New(lsdb.Config{FeedWindow: window})
	db.BeginSync()
	db.EndSync()
	return db
}

// loadFixture returns a database loaded with the NYC Mesh LSDB.
func loadFixture(t testing.TB) *lsdb.DB {
	t.Helper()
	lsas, err := ospfapitest.LoadSnapshotFile(fixture, ospfapitest.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	db := lsdb.New(lsdb.Config{})
	if err := ospfapitest.LoadDB(db, lsas, time.Now()); err != nil {
		t.Fatal(err)
	}
	return db
}

// emitter makes events: every route it adds is one "added external" event,
// which the state record of the route's router follows.
type emitter struct {
	mu sync.Mutex
	db *lsdb.DB
	n  uint32
}

// emit adds k routes, one commit each, and returns the feed's newest
// sequence number.
func (e *emitter) emit(t testing.TB, k int) uint64 {
	t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for range k {
		e.n++
		id := netip.AddrFrom4([4]byte{172, byte(16 + e.n>>16), byte(e.n >> 8), byte(e.n)})
		x := &ospf.ExternalLSA{
			Header: ospf.Header{Age: 1, Options: 0x02, Type: ospf.ASExternalLSAType,
				LSID: id, AdvRouter: routeOrigin(e.n), SeqNum: ospf.InitialSeqNum},
			Mask:   netip.MustParseAddr("255.255.255.255"),
			Metric: 20,
		}
		raw, err := ospf.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.Update(area0, raw, time.Now()); err != nil {
			t.Fatal(err)
		}
		if e.db.Commit() != 1 {
			t.Fatalf("route %d made no event", e.n)
		}
	}
	return e.db.Feed().LastSeq()
}

// feedLines returns the seed encoding of the feed's events from..to.
func feedLines(t testing.TB, db *lsdb.DB, from, to uint64) map[uint64]string {
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

// testServer runs a Server behind an httptest server until the test ends.
type testServer struct {
	*Server
	http   *httptest.Server
	url    string // ws://host:port
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startServer(t testing.TB, cfg ServerConfig, wrap func(net.Listener) net.Listener) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http"), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		ts.stop(t)
		hs.Close()
	})
	return ts
}

// stop ends Run, which closes every client, and checks its error.
func (ts *testServer) stop(t testing.TB) {
	t.Helper()
	ts.once.Do(func() {
		ts.cancel()
		if err := <-ts.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// testLogger logs to the test's log, shown when it fails or with -v.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// waitFor polls cond until it holds; it fails the test after a generous
// deadline, so that a hang is reported rather than waited out.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func dial(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// readN reads n text messages.
func readN(t testing.TB, c *websocket.Conn, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make([]string, 0, n)
	for len(out) < n {
		typ, p, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("message %d is %v, want text", len(out), typ)
		}
		out = append(out, string(p))
	}
	return out
}

// readClose reads until the connection ends and returns its close status.
func readClose(t testing.TB, c *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce
	}
}
