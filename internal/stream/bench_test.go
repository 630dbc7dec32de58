package stream

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// latencies is a histogram of delivery latencies with buckets 5% apart,
// from 1µs up.
type latencies struct {
	mu     sync.Mutex
	counts [400]uint64
	n      uint64
}

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	return min(int(math.Log(us)/math.Log(1.05))+1, 399)
}

func (l *latencies) merge(local *[400]uint64) {
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
			return time.Duration(math.Pow(1.05, float64(i)) * float64(time.Microsecond))
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
			var local [400]uint64
			defer lat.merge(&local)
			for n := 0; n < b.N; n++ {
				p, err := c.next()
				if err != nil {
					return
				}
				now := time.Now().UnixNano()
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
	st := ts.Stats()
	if got, want := received.Load(), int64(clients)*int64(b.N); got != want {
		b.Logf("clients received %d of %d messages (%d cut off as too slow)", got, want, st.TooSlow)
	}
	b.ReportMetric(float64(lat.quantile(0.5))/1e6, "p50-ms")
	b.ReportMetric(float64(lat.quantile(0.99))/1e6, "p99-ms")
	b.ReportMetric(float64(received.Load())/float64(int64(clients)*int64(b.N)), "delivered")
	b.ReportMetric(float64(st.TooSlow), "cut-off")
}

// rawClient is a minimal WebSocket client for the benchmark: a handshake
// and a frame reader over a bare TCP connection, so that the clients'
// share of the CPU stays small next to the server's.
type rawClient struct {
	net.Conn
	r   *bufio.Reader
	buf []byte
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

// next reads one unfragmented server frame and returns its payload.
func (c *rawClient) next() ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(c.r, e[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(c.r, e[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(e[:])
	}
	if uint64(cap(c.buf)) < n {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return nil, err
	}
	if h[0]&0x0f != 1 {
		return nil, fmt.Errorf("frame opcode %d", h[0]&0x0f)
	}
	return c.buf, nil
}
