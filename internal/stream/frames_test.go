package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// framePayload is the payload of the frame that b starts with, one that
// appendFrameHeader began.
func framePayload(b []byte) []byte {
	hl := 2
	switch b[1] & 0x7f {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	return b[hl:frameLen(b)]
}

// rfc6455Text is p as a final, unmasked text frame, built from RFC 6455
// section 5.2 alone: FIN and opcode 1, then a 7-bit length, or 126 and a
// 16-bit one, or 127 and a 64-bit one, in network byte order.
func rfc6455Text(p []byte) []byte {
	var h []byte
	switch {
	case len(p) < 126:
		h = []byte{0x81, byte(len(p))}
	case len(p) < 1<<16:
		h = binary.BigEndian.AppendUint16([]byte{0x81, 126}, uint16(len(p)))
	default:
		h = binary.BigEndian.AppendUint64([]byte{0x81, 127}, uint64(len(p)))
	}
	return append(h, p...)
}

// testPayloads cover the three length encodings and their limits, and a
// frame larger than a chunk.
func testPayloads() [][]byte {
	var ps [][]byte
	for i, n := range []int{0, 1, 125, 126, 127, 300, 65535, 65536, 70000, chunkSize + 1000, 5} {
		ps = append(ps, bytes.Repeat([]byte{byte('a' + i)}, n))
	}
	return ps
}

// framedMessages frames ps as the hub does, each as the seed's and the
// envelope's frame.
func framedMessages(ps [][]byte) []message {
	var f framer
	ms := make([]message, len(ps))
	for i, p := range ps {
		ms[i] = message{seq: uint64(i + 1), raw: f.frame(&f.raw, p), env: f.frame(&f.env, p)}
	}
	return ms
}

func TestFramerFramesAsRFC6455(t *testing.T) {
	ps := testPayloads()
	ms := framedMessages(ps)
	var want []byte
	for i, p := range ps {
		if got := ms[i].raw.bytes(); !bytes.Equal(got, rfc6455Text(p)) {
			t.Errorf("frame of %d bytes: % .12x…, want % .12x…", len(p), got, rfc6455Text(p))
		}
		want = append(want, rfc6455Text(p)...)
	}
	bufs := appendFrames(nil, ms, false)
	// The small frames share chunks; the one larger than a chunk, and
	// the one after it, start new ones.
	if len(bufs) >= len(ms) {
		t.Errorf("%d messages in %d slices: consecutive frames were not joined", len(ms), len(bufs))
	}
	if got := bytes.Join(bufs, nil); !bytes.Equal(got, want) {
		t.Errorf("the joined frames differ from the messages' frames")
	}
}

// frameServer serves one WebSocket connection through corkWriter, as the
// Server does, and writes bufs to it with writeFrames.
func frameServer(t *testing.T, bufs net.Buffers) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &corkWriter{ResponseWriter: w}
		conn, err := websocket.Accept(cw, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer func() { _ = conn.CloseNow() }()
		if err := cw.conn.writeFrames(time.Now().Add(10*time.Second), bufs); err != nil {
			t.Errorf("writeFrames: %v", err)
			return
		}
		_ = conn.Close(websocket.StatusNormalClosure, "done")
	}))
	t.Cleanup(hs.Close)
	return hs
}

func TestWrittenFramesAreWhatCoderWebsocketReads(t *testing.T) {
	ps := testPayloads()
	bufs := appendFrames(nil, framedMessages(ps), true)
	hs := frameServer(t, bufs)
	c := streamtest.Dial(t, "ws"+strings.TrimPrefix(hs.URL, "http"))
	c.SetReadLimit(1 << 30)
	for i, p := range ps {
		typ, got, err := c.Read(context.Background())
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != websocket.MessageText || !bytes.Equal(got, p) {
			t.Fatalf("message %d: %v of %d bytes, want text of %d", i, typ, len(got), len(p))
		}
	}
	if ce := streamtest.ReadClose(t, c); ce.Code != websocket.StatusNormalClosure {
		t.Fatalf("closed with %v", ce)
	}
}

func TestWrittenBytesAreRFC6455Frames(t *testing.T) {
	ps := testPayloads()
	hs := frameServer(t, appendFrames(nil, framedMessages(ps), false))
	nc, err := net.Dial("tcp", strings.TrimPrefix(hs.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	r := bufio.NewReader(nc)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %s", resp.Status)
	}
	var want []byte
	for _, p := range ps {
		want = append(want, rfc6455Text(p)...)
	}
	got := make([]byte, len(want))
	_ = nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for got[i] == want[i] {
			i++
		}
		t.Fatalf("the stream differs from RFC 6455 frames at byte %d of %d", i, len(want))
	}
	// Then the library's close frame, whole: 1000 and the reason.
	close := make([]byte, 2+2+len("done"))
	if _, err := io.ReadFull(r, close); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(close, []byte{0x88, 6, 0x03, 0xe8, 'd', 'o', 'n', 'e'}) {
		t.Fatalf("close frame % x", close)
	}
}

// stingyConn takes the first limit bytes written to it and then fails
// as a write past its deadline does, until limit is lifted.
type stingyConn struct {
	net.Conn
	limit int
	out   []byte
}

func (c *stingyConn) Write(p []byte) (int, error) {
	n := min(len(p), max(c.limit-len(c.out), 0))
	c.out = append(c.out, p[:n]...)
	if n < len(p) {
		return n, os.ErrDeadlineExceeded
	}
	return n, nil
}

func (c *stingyConn) SetWriteDeadline(time.Time) error { return nil }

func TestInterruptedWriteEndsItsFrameBeforeTheClose(t *testing.T) {
	ps := [][]byte{[]byte("one"), bytes.Repeat([]byte{'2'}, 300), []byte("three"), bytes.Repeat([]byte{'4'}, 200)}
	ms := framedMessages(ps)
	frames := appendFrames(nil, ms[:2], false)
	frames = append(frames, bytes.Join(appendFrames(nil, ms[2:], false), nil)) // another slice
	total := 0
	for _, b := range frames {
		total += len(b)
	}
	closeFrame := []byte{0x88, 2, 0x0f, 0xa2}
	for limit := range total {
		sc := &stingyConn{limit: limit}
		cc := &corkConn{Conn: sc}
		if err := cc.writeFrames(time.Now(), frames); err == nil {
			t.Fatalf("limit %d: the write did not fail", limit)
		}
		sc.limit = 1 << 30
		if _, err := cc.Write(closeFrame); err != nil {
			t.Fatalf("limit %d: close: %v", limit, err)
		}
		// The output is whole frames: a prefix of the data, then the close.
		b := sc.out
		for i := 0; len(b) > 0 && b[0] == 0x81; i++ {
			if got := framePayload(b); !bytes.Equal(got, ps[i]) {
				t.Fatalf("limit %d: frame %d is %q", limit, i, got)
			}
			b = b[frameLen(b):]
		}
		if !bytes.Equal(b, closeFrame) {
			t.Fatalf("limit %d: after the data frames: % x, want the close frame", limit, b)
		}
		if len(sc.out)-len(closeFrame) < limit {
			t.Fatalf("limit %d: %d bytes of data frames", limit, len(sc.out)-len(closeFrame))
		}
	}
}

func TestInterruptedConnWritesNoMoreFramesButTheClose(t *testing.T) {
	sc := &stingyConn{limit: 1 << 30}
	cc := &corkConn{Conn: sc}
	cc.interrupt()
	if err := cc.writeFrames(time.Now(), net.Buffers{rfc6455Text([]byte("x"))}); !errors.Is(err, errInterrupted) {
		t.Fatalf("writeFrames after interrupt: %v, want errInterrupted", err)
	}
	if _, err := cc.Write([]byte{0x88, 0}); err != nil || !bytes.Equal(sc.out, []byte{0x88, 0}) {
		t.Fatalf("close after interrupt: %v, wrote % x", err, sc.out)
	}
}

func TestPingsNeverInterleaveWithLargeBatches(t *testing.T) {
	db := streamtest.NewDB(t, 1<<17)
	em := &streamtest.Emitter{DB: db}
	ts := startServer(t, ServerConfig{Source: db, PingInterval: time.Millisecond, PingTimeout: time.Minute},
		func(l net.Listener) net.Listener { return smallBuffers{l} })
	var pings atomic.Int64
	c, resp, err := websocket.Dial(context.Background(), ts.url+"/v1/stream", &websocket.DialOptions{
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	defer func() { _ = c.CloseNow() }()
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Following == 1 }).Should(gomega.BeTrue(), "the client to follow")

	const total, burst = 20_000, 4_000
	var (
		wg      sync.WaitGroup
		readErr error
		latest  atomic.Uint64
	)
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Each route is an event and its router's state record.
		for want := uint64(1); want <= 2*total; want++ {
			_, p, err := c.Read(ctx)
			if err != nil {
				readErr = fmt.Errorf("message %d: %w", want, err)
				return
			}
			var e streamtest.Envelope
			if err := json.Unmarshal(p, &e); err != nil || e.Seq != want {
				readErr = fmt.Errorf("message %d: seq %d (%w)", want, e.Seq, err)
				return
			}
			latest.Store(want)
			if want%(2*burst) == 0 {
				// Let the server ping between the bursts' batches, and
				// ping it back while it writes the next.
				time.Sleep(20 * time.Millisecond)
				go func() {
					pctx, done := context.WithTimeout(ctx, 30*time.Second)
					defer done()
					_ = c.Ping(pctx)
				}()
			}
		}
	})
	for n := uint64(0); n < total; n += burst {
		em.Emit(t, burst)
		streamtest.NewWithT(t).Eventually(func() bool { return latest.Load() >= 2*(n+burst) || readErr != nil }).Should(gomega.BeTrue(), "the client to read the burst")
	}
	wg.Wait()
	if readErr != nil {
		t.Fatal(readErr)
	}
	if pings.Load() == 0 {
		t.Fatal("the server sent no ping while it wrote")
	}
	t.Logf("%d pings during %d messages", pings.Load(), total)
}

func TestClientKickedMidWriteGetsWholeFramesThenTheClose(t *testing.T) {
	db := streamtest.NewDB(t, 1<<17)
	em := &streamtest.Emitter{DB: db}
	logs := &streamtest.LockedBuffer{}
	ts := startServer(t, ServerConfig{Source: db, QueueLen: 64, WriteTimeout: time.Hour,
		Logger: slog.New(slog.NewTextHandler(logs, nil))},
		func(l net.Listener) net.Listener { return smallBuffers{l} })
	stalled := dialSmall(t, ts.url+"/v1/stream")
	streamtest.NewWithT(t).Eventually(func() bool { return ts.Stats().Following == 1 }).Should(gomega.BeTrue(), "the client to follow")
	// Bursts smaller than the queue, so that each is written whole or
	// in part before the next: the writer is blocked mid-batch when the
	// queue overflows.
	var last uint64
	streamtest.NewWithT(t).Eventually(func() bool {
		if ts.Stats().TooSlow > 0 {
			return true
		}
		if last > 100_000 { // the feed's window would not hold them
			t.Fatal("the stalled client was never cut off")
		}
		last = em.Emit(t, 16)
		return false
	}).Should(gomega.BeTrue(), "the stalled client to be cut off")
	// The writer gives up at once, not after the hour of WriteTimeout,
	// and turns to the close frame.
	streamtest.NewWithT(t).Eventually(func() bool { return strings.Contains(logs.String(), "Closing WebSocket client") }).Should(gomega.BeTrue(), "the writer to give up")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var n uint64
	for {
		_, p, err := stalled.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("after %d messages: %v", n, err)
			}
			if ce.Code != CloseTooSlow {
				t.Fatalf("closed with %v", ce)
			}
			break
		}
		var e streamtest.Envelope
		if err := json.Unmarshal(p, &e); err != nil || e.Seq != n+1 {
			t.Fatalf("message %d: seq %d (%v)", n+1, e.Seq, err)
		}
		n++
	}
	if n == 0 || n >= last {
		t.Fatalf("the stalled client read %d of %d messages before the close", n, last)
	}
	t.Logf("cut off after %d of %d messages", n, last)
}
