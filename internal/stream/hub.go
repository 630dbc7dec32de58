package stream

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// hub fans the change feed out to the WebSocket clients. One goroutine
// (run) follows a single subscription (state records included: the seed's
// clients skip them), encodes every event once and
// appends it to a ring that every client reads at its own pace: publishing
// costs the same for one client as for a thousand, and never waits for any
// of them. A client's queue is the part of the ring it has not written
// yet; one that lets it grow past maxLag is cut off (kicked) at the next
// publish, so the ring, sized above maxLag, always still holds what the
// remaining clients need.
type hub struct {
	feed   *lsdb.Feed
	maxLag uint64

	mu   sync.RWMutex
	ring []message
	mask uint64
	// The ring holds the messages base+1..head (the last len(ring) of
	// them). base moves only when the hub itself loses its place in the
	// feed and starts over.
	base, head uint64
	notify     chan struct{} // closed and replaced when clients are woken
	// lastWake is when the waiting clients were last woken; wakeArmed is
	// set while a timer will wake them (see publish).
	lastWake  time.Time
	wakeArmed bool
	clients   map[*client]struct{}
	stopped   error // why the hub stopped, nil while it runs

	kicked atomic.Uint64 // clients cut off for falling behind
	resets atomic.Uint64 // times the hub fell out of the feed's window
}

// client is one WebSocket client's place in the hub.
type client struct {
	// next is the sequence number of the next message to collect. Only
	// the client's writer touches it.
	next uint64
	// sent is the sequence number of the last message written: the hub
	// reads it to measure the client's queue.
	sent atomic.Uint64
	// kicked is closed, with err set, when the hub drops the client;
	// interrupt, when set, is called then, to end a write in progress.
	kicked    chan struct{}
	err       error
	interrupt func()
}

func newClient() *client { return &client{kicked: make(chan struct{})} }

func newHub(feed *lsdb.Feed, maxLag int) *hub {
	size := 2
	for size <= maxLag {
		size <<= 1
	}
	last := feed.LastSeq()
	return &hub{
		feed:    feed,
		maxLag:  uint64(maxLag),
		ring:    make([]message, size),
		mask:    uint64(size - 1),
		base:    last,
		head:    last,
		notify:  make(chan struct{}),
		clients: make(map[*client]struct{}),
	}
}

// Errors a client's writer gets from the hub, and their close reasons.
var (
	errTooSlow    = errors.New("client fell too far behind the event stream")
	errHubLagged  = errors.New("server fell behind its change feed")
	errHubStopped = errors.New("server shutting down")
)

// run follows the feed until ctx is done, then drops every client with
// errHubStopped.
func (h *hub) run(ctx context.Context) error {
	sub, err := h.feed.SubscribeAll(h.head)
	if err != nil {
		sub = h.reset()
	}
	var (
		evs []lsdb.Event
		ms  []message
		fr  framer
	)
	for {
		evs, err = sub.Read(ctx, evs[:0])
		if len(evs) > 0 {
			ms = fr.appendMessages(ms[:0], evs)
			h.publish(ms)
			clear(ms)
		}
		switch {
		case err == nil:
		case errors.Is(err, lsdb.ErrLagged):
			sub = h.reset()
		default:
			h.stop(errHubStopped)
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// publish appends ms (consecutive, after head) to the ring, drops the
// clients it puts more than maxLag behind and wakes the others.
func (h *hub) publish(ms []message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range ms {
		h.ring[ms[i].seq&h.mask] = ms[i]
	}
	h.head = ms[len(ms)-1].seq
	for c := range h.clients {
		if sent := c.sent.Load(); h.head > sent && h.head-sent > h.maxLag {
			h.kickLocked(c, errTooSlow)
			h.kicked.Add(1)
		}
	}
	// Waking every idle client for every event would cost, at thousands
	// of clients and events a second, more than writing to them: the
	// clients are woken at once when nothing was published for the wake
	// interval, and otherwise once that much has passed since the last
	// wake, with everything published meanwhile. A client still
	// busy writing picks new messages up without being woken.
	interval := min(time.Duration(len(h.clients))*wakePerClient, maxWakeInterval)
	if since := time.Since(h.lastWake); since >= interval {
		h.wakeLocked()
	} else if !h.wakeArmed {
		h.wakeArmed = true
		time.AfterFunc(interval-since, func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.wakeArmed = false
			h.wakeLocked()
		})
	}
}

// The least time between two wakes of the waiting clients grows with
// their number, since a wake costs each of them a write: 20 µs a client,
// so 2 ms for 100 and 20 ms for 1,000, at most maxWakeInterval. It is the
// most a message waits for its wake, and only under load.
const (
	wakePerClient   = 20 * time.Microsecond
	maxWakeInterval = 20 * time.Millisecond
)

func (h *hub) wakeLocked() {
	h.lastWake = time.Now()
	close(h.notify)
	h.notify = make(chan struct{})
}

// reset starts over from the newest event after the hub lost its place in
// the feed: every client is dropped, since none can continue without a gap.
func (h *hub) reset() *lsdb.Subscription {
	h.resets.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		h.kickLocked(c, errHubLagged)
	}
	for {
		last := h.feed.LastSeq()
		sub, err := h.feed.SubscribeAll(last)
		if err != nil {
			continue // the feed moved a whole window between the two calls
		}
		clear(h.ring)
		h.base, h.head = last, last
		close(h.notify)
		h.notify = make(chan struct{})
		return sub
	}
}

func (h *hub) stop(why error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = why
	for c := range h.clients {
		h.kickLocked(c, why)
	}
}

func (h *hub) kickLocked(c *client, why error) {
	delete(h.clients, c)
	c.err = why
	close(c.kicked)
	if c.interrupt != nil {
		c.interrupt()
	}
}

// join registers c to receive the messages from next on (0: from the next
// one published). It reports false when next is older than the ring holds
// or would fill more than half of c's queue at once with what the hub or
// the feed already holds: the caller then sends the events up to the ring
// from the feed itself and tries again. The free half is for what is
// published while c drains the rest; a client that joined with a full
// queue would be cut off by the next publish.
func (h *hub) join(c *client, next uint64) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped != nil {
		return false, h.stopped
	}
	newest := h.head
	if next == 0 {
		next = h.head + 1
	} else {
		// The hub may lag the feed, and then publish all it missed at
		// once: the client is measured against the newest event of both.
		newest = max(newest, h.feed.LastSeq())
	}
	if next <= h.base || (newest >= next && newest-(next-1) > h.maxLag/2) {
		return false, nil
	}
	c.next = next
	c.sent.Store(next - 1)
	h.clients[c] = struct{}{}
	return true, nil
}

// leave unregisters c, if it still is.
func (h *hub) leave(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.clients, c)
}

// collect appends to bufs the frames of the messages from c's position
// on, for the seed's stream or, with envelope set, /v1/stream, until they
// reach size bytes, and returns how many messages they hold. The frames
// are the hub's own (never changed, kept alive by the slices):
// consecutive ones that lie end to end in a chunk come as one slice. When
// there is none yet it returns a channel that is closed on the next
// publish; when c was dropped, the reason.
func (h *hub) collect(c *client, bufs net.Buffers, size int, envelope bool) (net.Buffers, int, <-chan struct{}, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if c.err != nil {
		return bufs, 0, nil, c.err
	}
	if c.next > h.head {
		return bufs, 0, h.notify, nil
	}
	var run frame
	n := 0
	for ; c.next <= h.head && size > 0; c.next++ {
		f := h.ring[c.next&h.mask].frame(envelope)
		if f.c == nil {
			continue // a state record, which the seed's stream never shows
		}
		bufs = joinFrame(bufs, &run, f)
		size -= f.end - f.off
		n++
	}
	if n == 0 {
		// Only records: the client is as far as the hub, with nothing to write.
		c.sent.Store(c.next - 1)
		return bufs, 0, h.notify, nil
	}
	return bufs, n, nil, nil
}

// lastSeq is the sequence number of the newest message published.
func (h *hub) lastSeq() uint64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.head
}

// numClients is how many clients follow the hub.
func (h *hub) numClients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.clients)
}
