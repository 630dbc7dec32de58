package stream

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

func TestAppendMessagesEncodesEnvelopeAroundSeedEvent(t *testing.T) {
	db := streamtest.NewDB(t, 16)
	last := (&streamtest.Emitter{DB: db}).Emit(t, 3)
	want := streamtest.FeedLines(t, db, 1, last)
	sub, _ := db.Feed().Subscribe(0)
	evs, err := sub.Read(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var fr framer
	ms := fr.appendMessages(nil, evs)
	for i, m := range ms {
		if raw := string(appendFrameHeader(nil, len(want[m.seq]))) + want[m.seq]; string(m.raw.bytes()) != raw {
			t.Errorf("message %d raw %q, want %q", i, m.raw.bytes(), raw)
		}
		env := `{"seq":` + strconv.FormatUint(m.seq, 10) + `,"area":"0.0.0.0","event":` + want[m.seq] + `}`
		if env = string(appendFrameHeader(nil, len(env))) + env; string(m.env.bytes()) != env {
			t.Errorf("message %d env %q, want %q", i, m.env.bytes(), env)
		}
	}
}

func TestHubStartsOverWhenItLosesItsPlaceInTheFeed(t *testing.T) {
	db := streamtest.NewDB(t, 4)
	em := &streamtest.Emitter{DB: db}
	h := newHub(db.Feed(), 8)
	old := newClient()
	if ok, err := h.join(old, 0); !ok || err != nil {
		t.Fatalf("join: %v %v", ok, err)
	}
	em.Emit(t, 10) // more than the feed's window, before the hub reads any
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	select {
	case <-old.kicked:
	case <-time.After(20 * time.Second):
		t.Fatal("the client of the lost position was not dropped")
	}
	if _, _, _, err := h.collect(old, nil, 10, true); !errors.Is(err, errHubLagged) {
		t.Fatalf("collect after reset: %v, want errHubLagged", err)
	}
	if h.resets.Load() != 1 {
		t.Errorf("resets = %d, want 1", h.resets.Load())
	}
	fresh := newClient()
	if ok, err := h.join(fresh, 0); !ok || err != nil {
		t.Fatalf("join after reset: %v %v", ok, err)
	}
	next := db.Feed().LastSeq() + 1
	em.Emit(t, 1)
	var got net.Buffers
	streamtest.NewWithT(t).Eventually(func() bool {
		got, _, _, _ = h.collect(fresh, got, 10, true)
		return len(got) > 0
	}).Should(gomega.BeTrue(), "the next event")
	if s := seqOf(framePayload(got[0])); s != next {
		t.Fatalf("after reset the next message has seq %d, want %d", s, next)
	}
}

func TestHubJoinAsksForCatchUpBeyondTheQueue(t *testing.T) {
	db := streamtest.NewDB(t, 64)
	em := &streamtest.Emitter{DB: db}
	h := newHub(db.Feed(), 4)
	last := em.Emit(t, 10)
	sub, _ := db.Feed().Subscribe(0)
	evs, _ := sub.Read(context.Background(), nil)
	var fr framer
	h.publish(fr.appendMessages(nil, evs))
	for _, tc := range []struct {
		next uint64
		ok   bool
	}{
		{1, false},        // before the hub's start: from the feed
		{last - 4, false}, // in the ring, but five behind: over the queue
		{last - 2, false}, // three behind: over half the queue
		{last - 1, true},  // two behind: half the queue
		{last + 1, true},
		{last + 5, true}, // ahead of the hub (it read the feed first): waits
	} {
		ok, err := h.join(newClient(), tc.next)
		if ok != tc.ok || err != nil {
			t.Errorf("join at %d: %v %v, want %v", tc.next, ok, err, tc.ok)
		}
	}
	// Three more events that the hub has not read yet: it will publish
	// them at once, so they count as queued already.
	newest := em.Emit(t, 3)
	for _, tc := range []struct {
		next uint64
		ok   bool
	}{
		{last + 1, false}, // three behind the feed: over half the queue
		{newest - 1, true},
		{newest + 1, true},
	} {
		ok, err := h.join(newClient(), tc.next)
		if ok != tc.ok || err != nil {
			t.Errorf("join at %d with the feed at %d: %v %v, want %v", tc.next, newest, ok, err, tc.ok)
		}
	}
	if ok, err := h.join(newClient(), 0); !ok || err != nil {
		t.Errorf("join at the hub's next: %v %v", ok, err)
	}
}
