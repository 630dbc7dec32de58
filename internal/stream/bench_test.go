package stream

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
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

// seqOf reads the sequence number of a /v1/stream envelope without
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
	db := newDB(b, 1<<17)
	em := &emitter{db: db}
	ts := startServer(b, ServerConfig{Source: db, MaxClients: clients + stalled + 1, PingInterval: -1,
		Logger: slog.New(slog.DiscardHandler)}, nil)
	addr := strings.TrimPrefix(ts.url, "ws://")
	for range stalled {
		c := dialRaw(b, addr)
		b.Cleanup(func() { c.Close() })
	}
	var (
		sent     = make([]atomic.Int64, b.N+1) // unix nanoseconds of each event's commit, by seq
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
			var local [histBuckets]uint64
			defer lat.merge(&local)
			var now int64
			for n := 0; n < b.N; n++ {
				// Every frame that one read(2) brought arrived at the
				// same time: the clock is read once per read.
				fresh := c.r.Buffered() == c.pending
				p, err := c.next()
				if err != nil {
					return
				}
				if fresh || now == 0 {
					now = time.Now().UnixNano()
				}
				s := seqOf(p)
				if s == 0 || s > uint64(b.N) {
					return
				}
				local[bucketOf(time.Duration(now-sent[s].Load()))]++
				received.Add(1)
			}
		})
	}
	waitFor(b, "clients to follow", func() bool { return ts.Stats().Following == clients+stalled })

	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := 1; i <= b.N; i++ {
		if due := start.Add(time.Duration(i-1) * interval); time.Until(due) > 0 {
			time.Sleep(time.Until(due))
		}
		sent[i].Store(time.Now().UnixNano())
		em.emit(b, 1)
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
	if got, want := received.Load(), int64(clients)*int64(b.N); got != want {
		b.Logf("clients received %d of %d messages (%d cut off as too slow)", got, want, st.TooSlow)
	}
	b.ReportMetric(float64(lat.quantile(0.5))/1e6, "p50-ms")
	b.ReportMetric(float64(lat.quantile(0.99))/1e6, "p99-ms")
	b.ReportMetric(float64(received.Load())/float64(int64(clients)*int64(b.N)), "delivered")
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
// and a frame reader over a bare TCP connection, so that the clients'
// share of the CPU stays small next to the server's.
type rawClient struct {
	net.Conn
	r       *bufio.Reader
	pending int // bytes of the frame last returned, still in r
}

func dialRaw(b testing.TB, addr string) *rawClient {
	b.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(nc, "GET /v1/stream HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	r := bufio.NewReaderSize(nc, 64<<10)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("handshake: %s", resp.Status)
	}
	return &rawClient{Conn: nc, r: r}
}

// next reads one unfragmented server frame and returns its payload, which
// stays valid until the next call: it points into the read buffer, so
// that the clients spend as little of the shared CPU as possible.
func (c *rawClient) next() ([]byte, error) {
	if c.pending > 0 {
		if _, err := c.r.Discard(c.pending); err != nil {
			return nil, err
		}
		c.pending = 0
	}
	h, err := c.r.Peek(2)
	if err != nil {
		return nil, err
	}
	if h[0]&0x0f != 1 {
		return nil, fmt.Errorf("frame opcode %d", h[0]&0x0f)
	}
	hl, n := 2, int(h[1]&0x7f)
	switch n {
	case 126:
		e, err := c.r.Peek(4)
		if err != nil {
			return nil, err
		}
		hl, n = 4, int(binary.BigEndian.Uint16(e[2:]))
	case 127:
		return nil, errors.New("frame over 64 KiB")
	}
	if hl+n > c.r.Size() {
		return nil, fmt.Errorf("frame of %d bytes exceeds the read buffer", n)
	}
	f, err := c.r.Peek(hl + n)
	if err != nil {
		return nil, err
	}
	c.pending = hl + n
	return f[hl:], nil
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
