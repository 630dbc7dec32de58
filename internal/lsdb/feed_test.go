package lsdb

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func events(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i].Time = int64(i)
	}
	return evs
}

func TestFeedFollowsWithoutGapAcrossWrap(t *testing.T) {
	f := NewFeed(4)
	sub, err := f.Subscribe(0)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for round := 0; round < 5; round++ {
		f.publish(events(3))
		evs, err := sub.Read(context.Background(), nil)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, e := range evs {
			got = append(got, e.Seq)
		}
	}
	for i, s := range got {
		if s != uint64(i+1) {
			t.Fatalf("event %d has seq %d; sequence %v", i, s, got)
		}
	}
	if len(got) != 15 {
		t.Fatalf("got %d events, want 15", len(got))
	}
}

func TestFeedLaggingSubscriber(t *testing.T) {
	f := NewFeed(4)
	sub, _ := f.Subscribe(0)
	f.publish(events(5)) // one more than the window
	if _, err := sub.Read(context.Background(), nil); !errors.Is(err, ErrLagged) {
		t.Fatalf("Read after overflow: err = %v, want ErrLagged", err)
	}
	if _, err := f.Subscribe(0); !errors.Is(err, ErrLagged) {
		t.Fatalf("Subscribe(0) outside window: err = %v, want ErrLagged", err)
	}
	sub, err := f.Subscribe(1)
	if err != nil {
		t.Fatalf("Subscribe(1) inside window: %v", err)
	}
	evs, err := sub.Read(context.Background(), nil)
	if err != nil || len(evs) != 4 || evs[0].Seq != 2 || evs[3].Seq != 5 {
		t.Fatalf("Read = %v, %v; want seq 2..5", evs, err)
	}
	if _, err := f.Subscribe(6); err == nil {
		t.Fatal("Subscribe in the future succeeded")
	}
}

func TestFeedReadWaitsAndHonoursContext(t *testing.T) {
	f := NewFeed(8)
	sub, _ := f.Subscribe(0)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := sub.Read(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read on an idle feed: err = %v, want deadline exceeded", err)
	}
	done := make(chan []Event)
	go func() {
		evs, _ := sub.Read(context.Background(), nil)
		done <- evs
	}()
	f.publish(events(1))
	select {
	case evs := <-done:
		if len(evs) != 1 || evs[0].Seq != 1 {
			t.Fatalf("woken Read = %v", evs)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read was not woken by publish")
	}
}

func TestFeedAtContinuesAnotherNumbering(t *testing.T) {
	f := NewFeedAt(4, 100)
	if got := f.LastSeq(); got != 100 {
		t.Fatalf("LastSeq = %d, want 100", got)
	}
	if _, err := f.Subscribe(99); !errors.Is(err, ErrLagged) {
		t.Fatalf("Subscribe(99) before the floor: err = %v, want ErrLagged", err)
	}
	sub, err := f.Subscribe(100)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for range 3 {
		f.Publish(events(3))
		evs, err := sub.Read(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got = append(got, e.Seq)
		}
	}
	for i, s := range got {
		if s != 101+uint64(i) {
			t.Fatalf("event %d has seq %d; sequence %v", i, s, got)
		}
	}
	// The window holds the last 4 (106..109): 105 is the oldest position
	// that can still subscribe, 104 has left.
	if _, err := f.Subscribe(105); err != nil {
		t.Errorf("Subscribe(105): %v", err)
	}
	if _, err := f.Subscribe(104); !errors.Is(err, ErrLagged) {
		t.Errorf("Subscribe(104): err = %v, want ErrLagged", err)
	}
}

func TestFeedRecentSkipsStateRecordsAndStopsAtTheWindow(t *testing.T) {
	seqs := func(evs []Event) []uint64 {
		var s []uint64
		for _, e := range evs {
			s = append(s, e.Seq)
		}
		return s
	}
	f := NewFeed(6)
	if got := f.Recent(nil, 10, 5); len(got) != 0 {
		t.Fatalf("an empty feed has recent events: %v", seqs(got))
	}
	evs := events(8)
	evs[5].Entity = EntityRouterState // seq 6
	f.publish(evs)                    // the window holds 3..8
	for _, c := range []struct {
		until uint64
		n     int
		want  string
	}{
		{8, 10, "[3 4 5 7 8]"},
		{8, 2, "[7 8]"},
		{6, 2, "[4 5]"},
		{100, 1, "[8]"},
		{2, 5, "[]"},
		{8, 0, "[]"},
	} {
		if got := fmt.Sprint(seqs(f.Recent(nil, c.until, c.n))); got != c.want {
			t.Errorf("Recent(until %d, n %d) = %s, want %s", c.until, c.n, got, c.want)
		}
	}
	g := NewFeedAt(4, 100) // numbering after another's: nothing before 101
	g.publish(events(2))
	if got := fmt.Sprint(seqs(g.Recent(nil, 102, 10))); got != "[101 102]" {
		t.Errorf("Recent of a continued feed = %s", got)
	}
}
