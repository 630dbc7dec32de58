package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

func TestSeedClientsReceiveIdenticalStreams(t *testing.T) {
	db := streamtest.NewDB(t, 1<<12)
	em := &streamtest.Emitter{DB: db}
	ts := startServer(t, ServerConfig{Source: db}, nil)
	const clients, events = 20, 300
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conns[i] = streamtest.Dial(t, ts.url+"/")
	}
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Following == clients }).Should(gomega.BeTrue(), "clients to follow")
	first := db.Feed().LastSeq() + 1
	last := em.Emit(t, events)
	want := streamtest.WantLines(t, db, first, last)

	got := make([][]string, clients)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { got[i] = streamtest.ReadN(t, c, events) })
	}
	wg.Wait()
	for i := range got {
		for j, line := range got[i] {
			if w := want[j]; line != w {
				t.Fatalf("client %d message %d:\n got %s\nwant %s", i, j, line, w)
			}
		}
	}
	if err := schemavalidate.ValidateEventStream([]byte(strings.Join(got[0], "\n"))); err != nil {
		t.Fatal(err)
	}
	if st := ts.Stats(); st.Messages != clients*events || st.LastSeq != last {
		t.Errorf("stats %+v: want %d messages, last seq %d", st, clients*events, last)
	}
}

func TestSnapshotThenStreamFollowsOnWithoutGapOrDuplicate(t *testing.T) {
	db := streamtest.LoadFixture(t)
	em := &streamtest.Emitter{DB: db}
	ten := em.Emit(t, 10)
	ts := startServer(t, ServerConfig{Source: db, QueueLen: 1000}, nil)
	doc := streamtest.GetSnapshot(t, ts.http.URL)
	if doc.Epoch != ts.Epoch() || doc.Seq != ten {
		t.Fatalf("snapshot epoch %q seq %d, want %q %d", doc.Epoch, doc.Seq, ts.Epoch(), ten)
	}
	if err := schemavalidate.ValidateSnapshot(doc.Snapshot); err != nil {
		t.Fatal(err)
	}
	// More events than the ring holds: the client catches up through the
	// feed, while more events arrive.
	last := em.Emit(t, 1500)
	var wg sync.WaitGroup
	wg.Go(func() { em.Emit(t, 100) })
	c := streamtest.Dial(t, fmt.Sprintf("%s/v1/stream?since=%d&epoch=%s", ts.url, doc.Seq, doc.Epoch))
	wg.Wait()
	last += 100
	envs := streamtest.DecodeEnvelopes(t, streamtest.ReadN(t, c, int(last-doc.Seq)))
	want := streamtest.FeedLines(t, db, doc.Seq+1, last)
	for i, e := range envs {
		if e.Seq != doc.Seq+1+uint64(i) {
			t.Fatalf("envelope %d has seq %d, want %d", i, e.Seq, doc.Seq+1+uint64(i))
		}
		if string(e.Event) != want[e.Seq] {
			t.Fatalf("seq %d:\n got %s\nwant %s", e.Seq, e.Event, want[e.Seq])
		}
	}

	// Disconnect after 20 more, resume from the last one read.
	more := em.Emit(t, 40)
	got := streamtest.DecodeEnvelopes(t, streamtest.ReadN(t, c, 20))
	_ = c.Close(websocket.StatusNormalClosure, "")
	resumeAt := got[19].Seq
	c2 := streamtest.Dial(t, fmt.Sprintf("%s/v1/stream?since=%d", ts.url, resumeAt))
	rest := streamtest.DecodeEnvelopes(t, streamtest.ReadN(t, c2, int(more-resumeAt)))
	for i, e := range append(got, rest...) {
		if e.Seq != last+1+uint64(i) {
			t.Fatalf("after resume: streamtest.Envelope %d has seq %d, want %d", i, e.Seq, last+1+uint64(i))
		}
	}
}

func TestStreamWithoutSinceStartsWithTheNextEvent(t *testing.T) {
	db := streamtest.NewDB(t, 64)
	em := &streamtest.Emitter{DB: db}
	five := em.Emit(t, 5)
	ts := startServer(t, ServerConfig{Source: db}, nil)
	c := streamtest.Dial(t, ts.url+"/v1/stream")
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Following == 1 }).Should(gomega.BeTrue(), "client to follow")
	em.Emit(t, 1)
	if e := streamtest.DecodeEnvelopes(t, streamtest.ReadN(t, c, 1)); e[0].Seq != five+1 {
		t.Fatalf("first streamtest.Envelope has seq %d, want %d", e[0].Seq, five+1)
	}
}

func TestStreamRefusesUnservableSince(t *testing.T) {
	db := streamtest.NewDB(t, 16)
	em := &streamtest.Emitter{DB: db}
	last := em.Emit(t, 40)
	ts := startServer(t, ServerConfig{Source: db}, nil)
	for _, tc := range []struct{ query, reason string }{
		{"since=1", "since=1 has left the window of recent events: take /v1/snapshot"},
		{fmt.Sprintf("since=%d", last+1), fmt.Sprintf("since=%d is ahead of the newest event (%d): take /v1/snapshot", last+1, last)},
		{fmt.Sprintf("since=%d&epoch=other", last-10), "epoch other is not this server's (" + ts.Epoch() + "): take /v1/snapshot"},
	} {
		c := streamtest.Dial(t, ts.url+"/v1/stream?"+tc.query)
		ce := streamtest.ReadClose(t, c)
		if ce.Code != CloseResnapshot || ce.Reason != tc.reason {
			t.Errorf("%s: closed with %d %q, want %d %q", tc.query, ce.Code, ce.Reason, CloseResnapshot, tc.reason)
		}
	}
	if n := ts.Stats().Resnapshots; n != 3 {
		t.Errorf("Resnapshots = %d, want 3", n)
	}
	// The oldest event the window holds is still served.
	c := streamtest.Dial(t, fmt.Sprintf("%s/v1/stream?since=%d", ts.url, last-16))
	if e := streamtest.DecodeEnvelopes(t, streamtest.ReadN(t, c, 16)); e[0].Seq != last-15 || e[15].Seq != last {
		t.Fatalf("since=%d: seqs %d..%d, want %d..%d", last-16, e[0].Seq, e[15].Seq, last-15, last)
	}
}

func TestStreamRejectsMalformedSince(t *testing.T) {
	ts := startServer(t, ServerConfig{Source: streamtest.NewDB(t, 16)}, nil)
	_, resp, err := websocket.Dial(context.Background(), ts.url+"/v1/stream?since=ten", nil)
	if err == nil {
		t.Fatal("dial succeeded")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %s, want 400", resp.Status)
	}
}

// smallBuffers shrinks the kernel buffers of accepted connections, so that
// a client that stops reading stalls the server's writes after a few
// kilobytes rather than megabytes.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// dialSmall dials with a small receive buffer.
func dialSmall(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	d := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}}
	c, resp, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func TestStalledClientIsCutOffWhileOthersContinue(t *testing.T) {
	db := streamtest.NewDB(t, 1<<17)
	em := &streamtest.Emitter{DB: db}
	ts := startServer(t, ServerConfig{Source: db, QueueLen: 32, WriteTimeout: time.Minute},
		func(l net.Listener) net.Listener { return smallBuffers{l} })
	stalled := dialSmall(t, ts.url+"/v1/stream")
	healthy := streamtest.Dial(t, ts.url+"/v1/stream")
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Following == 2 }).Should(gomega.BeTrue(), "clients to follow")

	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		seqs   []uint64
		latest atomic.Uint64
	)
	readCtx, stopReading := context.WithCancel(context.Background())
	defer stopReading()
	wg.Go(func() {
		for {
			_, p, err := healthy.Read(readCtx)
			if err != nil {
				return
			}
			var e streamtest.Envelope
			if json.Unmarshal(p, &e) != nil {
				return
			}
			mu.Lock()
			seqs = append(seqs, e.Seq)
			mu.Unlock()
			latest.Store(e.Seq)
		}
	})
	// Emit in bursts well inside the queue, each read by the healthy
	// client before the next, until the server gives up on the stalled
	// client.
	var last uint64
	for ts.Stats().TooSlow == 0 {
		if last > 100_000 {
			t.Fatal("the stalled client was never cut off")
		}
		last = em.Emit(t, 8)
		streamtest.NewWithT(t).Eventually(func() bool { return latest.Load() == last }).Should(gomega.BeTrue(), "the healthy client to read the burst")
	}
	if f := ts.Stats().Following; f != 1 {
		t.Errorf("Following = %d after the cut, want 1", f)
	}
	last = em.Emit(t, 8)
	streamtest.NewWithT(t).Eventually(func() bool { return latest.Load() == last }).Should(gomega.BeTrue(), "the healthy client to read the last burst")
	stopReading()
	wg.Wait()
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("healthy client's message %d has seq %d", i, s)
		}
	}
	if uint64(len(seqs)) != last {
		t.Fatalf("healthy client got %d events, want %d", len(seqs), last)
	}

	// Once the stalled client reads again it drains what was sent and
	// learns why it was cut off.
	ce := streamtest.ReadClose(t, stalled)
	if ce.Code != CloseTooSlow || !strings.HasPrefix(ce.Reason, "too slow: fell more than 32 events behind") {
		t.Fatalf("stalled client closed with %d %q", ce.Code, ce.Reason)
	}
}

func TestClientSendingDataIsClosed(t *testing.T) {
	ts := startServer(t, ServerConfig{Source: streamtest.NewDB(t, 16)}, nil)
	c := streamtest.Dial(t, ts.url+"/")
	if err := c.Write(context.Background(), websocket.MessageText, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	ce := streamtest.ReadClose(t, c)
	if ce.Code != websocket.StatusPolicyViolation || ce.Reason != "this stream accepts no messages from clients" {
		t.Fatalf("closed with %d %q", ce.Code, ce.Reason)
	}
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Clients == 0 }).Should(gomega.BeTrue(), "the client to be released")
	if p := ts.Stats().Policy; p != 1 {
		t.Errorf("Policy = %d, want 1", p)
	}
}

func TestPingFloodIsClosed(t *testing.T) {
	ts := startServer(t, ServerConfig{Source: streamtest.NewDB(t, 16)}, nil)
	c := streamtest.Dial(t, ts.url+"/")
	closed := make(chan websocket.CloseError, 1)
	go func() { closed <- streamtest.ReadClose(t, c) }()
	for range 10 * pingBurst {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := c.Ping(ctx)
		cancel()
		if err != nil {
			break
		}
	}
	ce := <-closed
	if ce.Code != websocket.StatusPolicyViolation || ce.Reason != "too many pings" {
		t.Fatalf("closed with %d %q", ce.Code, ce.Reason)
	}
}

func TestConnectionCap(t *testing.T) {
	ts := startServer(t, ServerConfig{Source: streamtest.NewDB(t, 16), MaxClients: 2}, nil)
	a := streamtest.Dial(t, ts.url+"/")
	streamtest.Dial(t, ts.url+"/v1/stream")
	_, resp, err := websocket.Dial(context.Background(), ts.url+"/", nil)
	if err == nil {
		t.Fatal("third client was accepted")
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "too many WebSocket clients (the cap is 2)") {
		t.Fatalf("third client: %s %q", resp.Status, body)
	}
	if r := ts.Stats().Rejected; r != 1 {
		t.Errorf("Rejected = %d, want 1", r)
	}
	_ = a.Close(websocket.StatusNormalClosure, "")
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Clients == 1 }).Should(gomega.BeTrue(), "a slot to free")
	streamtest.Dial(t, ts.url+"/")
}

func TestShutdownClosesClients(t *testing.T) {
	ts := startServer(t, ServerConfig{Source: streamtest.NewDB(t, 16)}, nil)
	c := streamtest.Dial(t, ts.url+"/")
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Following == 1 }).Should(gomega.BeTrue(), "client to follow")
	go ts.stop(t)
	ce := streamtest.ReadClose(t, c)
	if ce.Code != websocket.StatusGoingAway || ce.Reason != "server shutting down" {
		t.Fatalf("closed with %d %q", ce.Code, ce.Reason)
	}
}

func TestSnapshotWaitsForTheFirstLoad(t *testing.T) {
	db := streamtest.NewDB(t, 16)
	notLoaded := loadedFunc{Source: db, loaded: func() bool { return false }}
	ts := startServer(t, ServerConfig{Source: notLoaded}, nil)
	resp, err := http.Get(ts.http.URL + "/v1/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %s, want 503", resp.Status)
	}
}

type loadedFunc struct {
	Source
	loaded func() bool
}

func (l loadedFunc) Loaded() bool { return l.loaded() }

func TestSnapshotIsCachedUntilTheFeedMoves(t *testing.T) {
	db := streamtest.NewDB(t, 16)
	em := &streamtest.Emitter{DB: db}
	counting := &countingSource{Source: db}
	ts := startServer(t, ServerConfig{Source: counting}, nil)
	for range 3 {
		streamtest.GetSnapshot(t, ts.http.URL)
	}
	last := em.Emit(t, 1)
	doc := streamtest.GetSnapshot(t, ts.http.URL)
	if counting.n != 2 || doc.Seq != last {
		t.Fatalf("%d snapshots taken, seq %d; want 2, %d", counting.n, doc.Seq, last)
	}
	if !strings.Contains(string(doc.Snapshot), "172.16.0.1/32") {
		t.Fatalf("snapshot lacks the new route: %s", doc.Snapshot)
	}
}

type countingSource struct {
	Source
	n int
}

func (c *countingSource) Snapshot() (*lsdb.Snapshot, uint64) {
	c.n++
	return c.Source.Snapshot()
}

func TestPlainHTTPOnTheStreamPath(t *testing.T) {
	ts := startServer(t, ServerConfig{Source: streamtest.NewDB(t, 16)}, nil)
	resp, err := http.Get(ts.http.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("status %s, want 426", resp.Status)
	}
}

// TestFrameHeader checks the frame headers the stream writes itself
// against RFC 6455's three payload length encodings.
func TestFrameHeader(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		if got := appendFrameHeader(nil, tc.n); !bytes.Equal(got, tc.want) {
			t.Errorf("header of %d bytes: % x, want % x", tc.n, got, tc.want)
		}
	}
}
