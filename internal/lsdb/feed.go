package lsdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrLagged is returned by a Subscription whose position has left the
// feed's window: events were dropped for it and it must resnapshot.
var ErrLagged = errors.New("lsdb: subscriber fell behind the change feed window")

// Feed is the database's change feed: a window of the most recent events
// with their sequence numbers. Publishing never blocks; a subscriber that
// falls more than the window behind gets ErrLagged instead of a gap.
type Feed struct {
	mu     sync.Mutex
	window uint64
	ring   []Event       // grows to window, then wraps: event seq is at (seq-floor-1) % window
	last   uint64        // Seq of the newest event, 0 when none
	floor  uint64        // the numbering starts after floor (see NewFeedAt)
	notify chan struct{} // closed and replaced on every publish
}

// NewFeed returns a feed that keeps the last window events (at least 1).
func NewFeed(window int) *Feed {
	if window < 1 {
		window = 1
	}
	return &Feed{window: uint64(window), notify: make(chan struct{})}
}

// NewFeedAt returns a feed whose numbering continues another's after
// last: its first event is last+1, and the events up to last are beyond
// its window. A relay uses it to re-serve an upstream feed under the
// upstream's sequence numbers.
func NewFeedAt(window int, last uint64) *Feed {
	f := NewFeed(window)
	f.last, f.floor = last, last
	return f
}

// Publish numbers evs in place, continuing the feed's sequence, and
// appends them. The database publishes its own events; Publish is for a
// feed made with NewFeed or NewFeedAt.
func (f *Feed) Publish(evs []Event) { f.publish(evs) }

// LastSeq is the sequence number of the newest event published.
func (f *Feed) LastSeq() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// publish numbers the events in place and appends them.
func (f *Feed) publish(evs []Event) {
	if len(evs) == 0 {
		return
	}
	f.mu.Lock()
	for i := range evs {
		f.last++
		evs[i].Seq = f.last
		if idx := (f.last - f.floor - 1) % f.window; idx == uint64(len(f.ring)) {
			f.ring = append(f.ring, evs[i])
		} else {
			f.ring[idx] = evs[i]
		}
	}
	close(f.notify)
	f.notify = make(chan struct{})
	f.mu.Unlock()
}

// Subscribe returns a subscription that yields the seed's events after
// seq, skipping state records (their sequence numbers are then missing
// from what it yields). It fails with ErrLagged when seq is older than the
// window holds.
func (f *Feed) Subscribe(after uint64) (*Subscription, error) {
	return f.subscribe(after, false)
}

// SubscribeAll is Subscribe for replicas: the subscription yields state
// records too, so that sequence numbers have no gaps.
func (f *Feed) SubscribeAll(after uint64) (*Subscription, error) {
	return f.subscribe(after, true)
}

func (f *Feed) subscribe(after uint64, all bool) (*Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if after > f.last {
		return nil, fmt.Errorf("lsdb: sequence %d is in the future (newest is %d)", after, f.last)
	}
	if after < f.floor || f.last-after > f.window {
		return nil, fmt.Errorf("%w: sequence %d, window holds %d..%d", ErrLagged, after, f.oldest(), f.last)
	}
	return &Subscription{f: f, next: after + 1, all: all}, nil
}

func (f *Feed) oldest() uint64 {
	if f.last-f.floor < f.window {
		return f.floor + 1
	}
	return f.last - f.window + 1
}

// Subscription reads a Feed from a position. It is not safe for concurrent use.
type Subscription struct {
	f    *Feed
	next uint64
	all  bool // state records too
}

// Next is the sequence number after the last one the subscription
// returned or skipped.
func (s *Subscription) Next() uint64 { return s.next }

// Read appends to buf the events available after the subscription's
// position, waiting until there is at least one or ctx is done. It returns
// ErrLagged when the subscriber fell out of the window.
func (s *Subscription) Read(ctx context.Context, buf []Event) ([]Event, error) {
	for {
		f := s.f
		f.mu.Lock()
		if s.next <= f.last {
			if f.last-s.next+1 > f.window {
				f.mu.Unlock()
				return buf, fmt.Errorf("%w: at %d, window holds %d..%d", ErrLagged, s.next, f.oldest(), f.last)
			}
			n := len(buf)
			for ; s.next <= f.last; s.next++ {
				ev := &f.ring[(s.next-f.floor-1)%f.window]
				if s.all || !ev.IsState() {
					buf = append(buf, *ev)
				}
			}
			if len(buf) > n {
				f.mu.Unlock()
				return buf, nil
			}
		}
		ch := f.notify
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return buf, ctx.Err()
		}
	}
}

// Recent appends to buf the newest n events (the seed's, not state
// records) numbered at most until that the window still holds, oldest
// first: what a page opened at until can show of what happened before.
func (f *Feed) Recent(buf []Event, until uint64, n int) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == f.floor || n <= 0 {
		return buf
	}
	until = min(until, f.last)
	start := len(buf)
	for seq := until; seq >= f.oldest() && seq > f.floor && len(buf)-start < n; seq-- {
		if ev := &f.ring[(seq-f.floor-1)%f.window]; !ev.IsState() {
			buf = append(buf, *ev)
		}
	}
	slices.Reverse(buf[start:])
	return buf
}
