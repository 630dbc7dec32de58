package stream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// latencies is a histogram of delivery latencies in microseconds, with
// 16 buckets per power of two (at most 6% wide), cheap enough to update
// per message.
type latencies struct {
	mu     sync.Mutex
	counts [histBuckets]uint64
	n      uint64
}

const histBuckets = 64 * 16

func bucketOf(d time.Duration) int {
	us := uint64(max(d/time.Microsecond, 0))
	if us < 16 {
		return int(us)
	}
	e := bits.Len64(us) - 5 // us >> e is in [16, 32)
	return min((e+1)*16+int(us>>e)-16, histBuckets-1)
}

// upperBound is the largest latency bucket i holds.
func upperBound(i int) time.Duration {
	if i < 16 {
		return time.Duration(i) * time.Microsecond
	}
	e := i/16 - 1
	m := uint64(i%16 + 16)
	return time.Duration((m+1)<<e-1) * time.Microsecond
}

func (l *latencies) merge(local *[histBuckets]uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, c := range local {
		l.counts[i] += c
		l.n += c
	}
}

// quantile is the upper bound of the bucket holding quantile q.
func (l *latencies) quantile(q float64) time.Duration {
	want := uint64(math.Ceil(q * float64(l.n)))
	var seen uint64
	for i, c := range l.counts {
		seen += c
		if seen >= want && c > 0 {
			return upperBound(i)
		}
	}
	return 0
}

// seqOf reads the sequence number of a /v1/stream streamtest.Envelope without
// decoding the rest.
func seqOf(p []byte) uint64 {
	const head = `{"seq":`
	var s uint64
	for _, c := range p[len(head):] {
		if c < '0' || c > '9' {
			break
		}
		s = s*10 + uint64(c-'0')
	}
	return s
}

// BenchmarkFanout publishes events at a steady 10,000 per second to N
// WebSocket clients on loopback (in this process, so the clients' own
// work shares the CPU) and reports the delivery latency every client saw,
// from the commit of an event to its arrival. The stalled variants add 10
// clients that never read, to show that they cost the others nothing.
func BenchmarkFanout(b *testing.B) {
	for _, bc := range []struct{ clients, stalled int }{
		{10, 0}, {100, 0}, {100, 10}, {1000, 0}, {1000, 10},
	} {
		b.Run(fmt.Sprintf("clients=%d/stalled=%d", bc.clients, bc.stalled), func(b *testing.B) {
			benchFanout(b, bc.clients, bc.stalled, 10_000)
		})
	}
}

func benchFanout(b *testing.B, clients, stalled, rate int) {
	db := streamtest.NewDB(b, 1<<17)
	em := &streamtest.Emitter{DB: db}
	ts := startServer(b, ServerConfig{Source: db, MaxClients: clients + stalled + 1, PingInterval: -1,
		Logger: slog.New(slog.DiscardHandler)}, nil)
	addr := strings.TrimPrefix(ts.url, "ws://")
	for range stalled {
		c := dialRaw(b, addr)
		b.Cleanup(func() { c.Close() })
	}
	var (
		// Each event is followed by its router's state record: 2 messages
		// a commit, seqs 2i-1 and 2i.
		msgs     = 2 * b.N
		sent     = make([]atomic.Int64, msgs+1) // unix nanoseconds of each message's commit, by seq
		lat      latencies
		received atomic.Int64
		wg       sync.WaitGroup
	)
	conns := make([]*rawClient, clients)
	for i := range conns {
		conns[i] = dialRaw(b, addr)
	}
	for _, c := range conns {
		wg.Go(func() {
			defer c.Close()
			var (
				local [histBuckets]uint64
				next  uint64 = 1 // the seq every client must see next
				now   int64
			)
			defer func() {
				lat.merge(&local)
				received.Add(int64(next - 1))
			}()
			for next <= uint64(msgs) {
				err := c.read(func(p []byte) error {
					if s := seqOf(p); s != next {
						return fmt.Errorf("message %d has seq %d", next, s)
					}
					local[bucketOf(time.Duration(now-sent[next].Load()))]++
					next++
					return nil
				}, &now)
				if err != nil {
					if !errors.Is(err, errCutOff) {
						b.Errorf("client: after %d messages: %v", next-1, err)
					}
					return
				}
			}
		})
	}
	streamtest.NewWithT(b).Eventually(func() bool { return ts.Stats().Following == clients+stalled }).Should(gomega.BeTrue(), "clients to follow")

	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 1; i <= b.N; i++ {
		if due := start.Add(time.Duration(i-1) * interval); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		now := time.Now().UnixNano()
		sent[2*i-1].Store(now)
		sent[2*i].Store(now)
		em.Emit(b, 1)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		for _, c := range conns {
			c.Close()
		}
		<-done
	}
	b.StopTimer()
	cpu := processCPU() - cpu0
	wall := time.Since(start)
	st := ts.Stats()
	if got, want := received.Load(), int64(clients)*int64(msgs); got != want {
		b.Logf("clients received %d of %d messages (%d cut off as too slow)", got, want, st.TooSlow)
	}
	b.ReportMetric(float64(lat.quantile(0.5))/1e6, "p50-ms")
	b.ReportMetric(float64(lat.quantile(0.99))/1e6, "p99-ms")
	b.ReportMetric(float64(received.Load())/float64(int64(clients)*int64(msgs)), "delivered")
	b.ReportMetric(float64(st.TooSlow), "cut-off")
	// The CPU of the whole process, the clients' reading included: an
	// upper bound of what serving them costs the agent.
	b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu-cores")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(received.Load()), "cpu-ns/delivery")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawClient is a minimal WebSocket client for the benchmark: a handshake
// and a frame parser over a bare TCP connection, reading as a good client
// does (large reads, every frame of a read parsed in place), so that the
// clients' share of the CPU stays small next to the server's.
type rawClient struct {
	net.Conn
	buf []byte // buf[:n] was read and not yet parsed: the start of a frame
	n   int
}

// errCutOff is what a benchmark client's read returns at a close frame.
var errCutOff = errors.New("closed by the server")

// rawClientBuffer is a client's read buffer: the most one read takes.
const rawClientBuffer = 256 << 10

func dialRaw(b testing.TB, addr string) *rawClient {
	b.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(nc, "GET /v1/stream HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	r := bufio.NewReader(nc)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("handshake: %s", resp.Status)
	}
	c := &rawClient{Conn: nc, buf: make([]byte, rawClientBuffer)}
	c.n, _ = r.Read(c.buf[:r.Buffered()]) // what came right after the response
	return c
}

// read reads from the connection once, stores the time it returned in
// *now, and calls frame with the payload of every unfragmented server
// text frame that read completed, in order. The payload is valid during
// the call only.
func (c *rawClient) read(frame func(p []byte) error, now *int64) error {
	n, err := c.Read(c.buf[c.n:])
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	*now = time.Now().UnixNano()
	c.n += n
	b := c.buf[:c.n]
	for len(b) >= 2 {
		if b[0] == 0x88 {
			return errCutOff // the server closed: counted as undelivered
		}
		if b[0] != 0x81 || b[1]&0x80 != 0 {
			return fmt.Errorf("frame header % x, want a final, unmasked text frame", b[:2])
		}
		hl, pl := 2, int(b[1])
		if pl == 127 {
			return errors.New("frame over 64 KiB")
		}
		if pl == 126 {
			if len(b) < 4 {
				break
			}
			hl, pl = 4, int(binary.BigEndian.Uint16(b[2:]))
		}
		if len(b) < hl+pl {
			if hl+pl > len(c.buf) {
				return fmt.Errorf("frame of %d bytes exceeds the read buffer", pl)
			}
			break
		}
		if err := frame(b[hl : hl+pl]); err != nil {
			return err
		}
		b = b[hl+pl:]
	}
	c.n = copy(c.buf, b) // the start of the next frame, rarely more than a few hundred bytes
	return nil
}

// TestLatencyBuckets checks the benchmark's histogram: every latency falls
// in a bucket whose upper bound is at most 1/16 above it.
func TestLatencyBuckets(t *testing.T) {
	for _, us := range []int64{0, 1, 15, 16, 17, 31, 32, 33, 100, 1000, 4095, 4096, 50_000, 1_000_000, 3_600_000_000} {
		d := time.Duration(us) * time.Microsecond
		i := bucketOf(d)
		up := upperBound(i)
		if up < d || float64(up) > float64(d)*(1+1.0/16)+float64(time.Microsecond) {
			t.Errorf("%v: bucket %d, upper bound %v", d, i, up)
		}
		if i > 0 && upperBound(i-1) >= d {
			t.Errorf("%v: bucket %d, but the bucket below ends at %v", d, i, upperBound(i-1))
		}
	}
}

// TestRawClientReadsEveryFrame checks the benchmark's client: every frame
// is parsed once and whole, however the reads split the stream.
func TestRawClientReadsEveryFrame(t *testing.T) {
	var (
		stream []byte
		want   []string
	)
	for i, n := range []int{0, 1, 125, 126, 300, 65535, 7, 200} {
		p := strings.Repeat(string(rune('a'+i)), n)
		want = append(want, p)
		stream = append(stream, appendFrameHeader(nil, n)...)
		stream = append(stream, p...)
	}
	for _, step := range []int{1, 2, 3, 7, 100, 4096, len(stream)} {
		srv, cli := net.Pipe()
		go func() {
			defer srv.Close()
			for b := stream; len(b) > 0; b = b[min(step, len(b)):] {
				if _, err := srv.Write(b[:min(step, len(b))]); err != nil {
					return
				}
			}
		}()
		c := &rawClient{Conn: cli, buf: make([]byte, rawClientBuffer)}
		var (
			got []string
			now int64
		)
		for len(got) < len(want) {
			if err := c.read(func(p []byte) error { got = append(got, string(p)); return nil }, &now); err != nil {
				t.Fatalf("reads of %d bytes: after %d frames: %v", step, len(got), err)
			}
		}
		cli.Close()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("reads of %d bytes: frame %d has %d bytes, want %d", step, i, len(got[i]), len(want[i]))
			}
		}
	}
}
