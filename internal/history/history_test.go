package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

const baseArea = `{"routers": {
	"10.0.0.1": {"links": {"router": [{"id": "10.0.0.2", "metric": 10}], "network": [{"id": "10.1.0.0/24", "metric": 10}],
		"external": [{"id": "198.51.100.0/24", "metric2": 20}]}},
	"10.0.0.2": {"links": {"router": [{"id": "10.0.0.1", "metric": 10}], "network": [{"id": "10.1.0.0/24", "metric": 10}]}}},
	"networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1", "10.0.0.2"]}}}`

// The state at T is the snapshot at or before T with the events after
// the snapshot's time and up to T applied: an event stamped exactly T is
// in, one stamped exactly at the snapshot's time is taken to be in the
// snapshot already.
func TestAtBoundaries(t *testing.T) {
	for _, compressed := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", compressed), func(t *testing.T) {
			a := newTestArchive(t)
			a.gzip = compressed
			a.snapshot(at(0), baseArea)
			a.hour(at(0),
				link(at(0), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.0/24", 1), // in the snapshot already
				link(at(30*time.Second), "10.0.0.1", false, lsdb.KindRouter, "10.0.0.2", 10),
				link(at(time.Minute), "10.0.0.2", false, lsdb.KindRouter, "10.0.0.1", 10),
			)
			h := a.history(true)
			ctx := context.Background()

			want := func(area string) *lsdb.View { return viewOf(t, area) }
			got, rep, err := h.At(ctx, at(time.Minute-time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			sameState(t, "just before the second event", got, want(`{"routers": {
				"10.0.0.1": {"links": {"network": [{"id": "10.1.0.0/24", "metric": 10}], "external": [{"id": "198.51.100.0/24", "metric2": 20}]}},
				"10.0.0.2": {"links": {"router": [{"id": "10.0.0.1", "metric": 10}], "network": [{"id": "10.1.0.0/24", "metric": 10}]}}},
				"networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1", "10.0.0.2"]}}}`))
			if rep.Events != 1 || !rep.BaseTime.Equal(at(0)) || !strings.HasSuffix(rep.Base, "2024/03/01/10/00.json") {
				t.Errorf("report %+v", rep)
			}
			if !got.Updated.Equal(at(time.Minute - time.Millisecond)) {
				t.Errorf("updated %v, want the time asked", got.Updated)
			}
			got, rep, err = h.At(ctx, at(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			sameState(t, "at the second event's time", got, want(`{"routers": {
				"10.0.0.1": {"links": {"network": [{"id": "10.1.0.0/24", "metric": 10}], "external": [{"id": "198.51.100.0/24", "metric2": 20}]}},
				"10.0.0.2": {"links": {"network": [{"id": "10.1.0.0/24", "metric": 10}]}}},
				"networks": {"10.1.0.0/24": {"dr": "10.0.0.1", "routers": ["10.0.0.1", "10.0.0.2"]}}}`))
			if rep.Events != 2 || rep.Unmatched != 0 {
				t.Errorf("report %+v", rep)
			}
			got, _, err = h.At(ctx, at(0))
			if err != nil {
				t.Fatal(err)
			}
			sameState(t, "at the snapshot's time", got, want(baseArea))
		})
	}
}

// A minute's file whose snapshot was taken after T (later in T's minute)
// is passed over for the one before.
func TestAtTakesTheSnapshotTakenBeforeT(t *testing.T) {
	a := newTestArchive(t)
	a.snapshot(at(0), baseArea)
	a.snapshotIn(at(time.Minute), at(time.Minute+500*time.Millisecond), `{"routers": {}, "networks": {}}`)
	a.hour(at(0), link(at(10*time.Second), "10.0.0.9", true, lsdb.KindStubnet, "192.0.2.0/24", 1))
	h := a.history(true)
	got, rep, err := h.At(context.Background(), at(time.Minute+200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.BaseTime.Equal(at(0)) {
		t.Fatalf("base %s at %v, want the 10:00 one", rep.Base, rep.BaseTime)
	}
	if got.Areas[0].Router(ip("10.0.0.9")) == nil || got.Areas[0].Router(ip("10.0.0.1")) == nil {
		t.Fatal("the state is not the 10:00 snapshot with the event applied")
	}
	got, rep, err = h.At(context.Background(), at(time.Minute+500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !rep.BaseTime.Equal(at(time.Minute+500*time.Millisecond)) || len(got.Areas) != 0 {
		t.Fatalf("base %v with %d areas, want the 10:01 one, empty", rep.BaseTime, len(got.Areas))
	}
}

func TestAtBeforeTheFirstSnapshot(t *testing.T) {
	a := newTestArchive(t)
	h := a.history(false)
	_, _, err := h.At(context.Background(), at(0))
	if !errors.Is(err, ErrNoHistory) || !strings.Contains(err.Error(), "holds none") {
		t.Fatalf("empty archive: %v", err)
	}
	a.snapshot(at(time.Hour+90*time.Second), baseArea)
	a.snapshot(at(2*time.Hour), baseArea)
	_, _, err = h.At(context.Background(), at(time.Hour))
	if !errors.Is(err, ErrNoHistory) || !strings.Contains(err.Error(), "the earliest is of 2024-03-01T11:01:30.000Z") ||
		!strings.Contains(err.Error(), filepath.Join("2024", "03", "01", "11", "01.json")) {
		t.Fatalf("before the first snapshot: %v", err)
	}
}

// A malformed line is skipped with a count and its file and line, or is
// an error in strict mode; so is a malformed snapshot, for which the one
// before is taken.
func TestMalformedArchive(t *testing.T) {
	a := newTestArchive(t)
	a.snapshot(at(0), baseArea)
	a.write(filepath.Join(a.snaps, "2024/03/01/10/01.json"), []byte(`{"areas": {"0.0.0.0": {"routers": {"nope": {}}}}}`))
	a.hour(at(0),
		link(at(10*time.Second), "10.0.0.9", true, lsdb.KindStubnet, "192.0.2.0/24", 1),
		`{"timestamp": 1709287220000, "entity": {"type": "router", "id": "10.0.0.9"}, "added": {"link": {"wormhole": {"id": "x"}}}}`,
		`{"timestamp": 170928`,
		link(at(90*time.Second), "10.0.0.9", true, lsdb.KindStubnet, "192.0.2.128/25", 1),
	)
	hourFile := filepath.Join(a.events, "2024/03/01/10.jsonl")
	snapFile := filepath.Join(a.snaps, "2024/03/01/10/01.json")

	got, rep, err := a.history(false).At(context.Background(), at(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 3 || !rep.BaseTime.Equal(at(0)) {
		t.Fatalf("report %+v: want the snapshot and two lines skipped, the 10:00 snapshot taken", rep)
	}
	var me *MalformedError
	if !errors.As(rep.FirstSkipped, &me) || me.File != snapFile || me.Line != 0 {
		t.Errorf("first skipped %v, want the 10:01 snapshot", rep.FirstSkipped)
	}
	if r := got.Areas[0].Router(ip("10.0.0.9")); r == nil || len(r.Links) != 2 {
		t.Errorf("router 10.0.0.9 %+v, want the two good lines applied", r)
	}

	_, _, err = a.history(true).At(context.Background(), at(2*time.Minute))
	if !errors.As(err, &me) || me.File != snapFile {
		t.Fatalf("strict, the snapshot: %v", err)
	}
	_, err = a.history(true).Events(context.Background(), at(0), at(time.Hour), func([]byte) error { return nil })
	if !errors.As(err, &me) || me.File != hourFile || me.Line != 2 || !strings.Contains(err.Error(), hourFile+":2: ") {
		t.Fatalf("strict, the events: %v", err)
	}
}

// Events come in timestamp order (one timestamp's in the archive's
// order) as the archive's own lines, whether an archive files them by
// their time (the seed) or by the hour they were written in (this
// program before it did as the seed does), and from after FROM to TO
// inclusive.
func TestEventsOrderAndRange(t *testing.T) {
	a := newTestArchive(t)
	e1 := link(at(-time.Second), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.1/32", 1) // filed under 10:00, written at 10:00:01
	e2 := link(at(0), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.2/32", 1)
	e3 := link(at(0), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.3/32", 1)
	e4 := link(at(59*time.Minute+59*time.Second), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.4/32", 1)
	e5 := link(at(time.Hour), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.5/32", 1)
	e6 := link(at(time.Hour+time.Millisecond), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.6/32", 1)
	a.hour(at(-time.Hour), e3) // written before e2, same time
	a.hour(at(0), e2, e1, e5)  // e1 was written late (an old LS age)
	a.hour(at(time.Hour), e4, e6)
	h := a.history(true)
	events := func(from, to time.Time) []string {
		t.Helper()
		var out []string
		rep, err := h.Events(context.Background(), from, to, func(line []byte) error {
			out = append(out, string(line))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Events != len(out) {
			t.Errorf("report says %d events, %d given", rep.Events, len(out))
		}
		return out
	}
	if got, want := events(at(-time.Hour), at(2*time.Hour)), []string{e1, e3, e2, e4, e5, e6}; !slices.Equal(got, want) {
		t.Errorf("all:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, want := events(at(0), at(time.Hour)), []string{e4, e5}; !slices.Equal(got, want) {
		t.Errorf("after 10:00 to 11:00:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := events(at(3*time.Hour), at(4*time.Hour)); len(got) != 0 {
		t.Errorf("after the last event: %v", got)
	}
	_, err := h.Events(context.Background(), at(-3*time.Hour), at(-2*time.Hour), func([]byte) error { return nil })
	if !errors.Is(err, ErrNoHistory) || !strings.Contains(err.Error(), "begins at 2024-03-01T09:00:00.000Z") {
		t.Errorf("before the archive: %v", err)
	}
}

// An archive named in local time (the seed's) is read in its zone,
// across a change of the clocks: the repeated hour's file is read once.
func TestLocalTimeArchive(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	a := newTestArchive(t)
	a.loc = ny
	fallBack := time.Date(2024, 11, 3, 5, 30, 0, 0, time.UTC) // 01:30 EDT; 06:30 UTC is 01:30 EST
	a.snapshot(fallBack.Add(-time.Hour), baseArea)
	lines := []string{
		link(fallBack, "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.1/32", 1),
		link(fallBack.Add(time.Hour), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.2/32", 1),
		link(fallBack.Add(2*time.Hour), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.3/32", 1),
	}
	a.hour(fallBack, lines[0])
	a.hour(fallBack.Add(time.Hour), lines[1]) // the same file: 01.jsonl
	a.hour(fallBack.Add(2*time.Hour), lines[2])
	if _, err := os.Stat(filepath.Join(a.events, "2024/11/03/01.jsonl")); err != nil {
		t.Fatal(err)
	}
	h := a.history(true)
	var got []string
	if _, err := h.Events(context.Background(), fallBack.Add(-2*time.Hour), fallBack.Add(3*time.Hour), func(l []byte) error {
		got = append(got, string(l))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, lines) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(lines, "\n"))
	}
	v, rep, err := h.At(context.Background(), fallBack.Add(90*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Events != 2 || len(v.Areas[0].Router(ip("10.0.0.1")).Links) != 4 {
		t.Errorf("state at 01:00 EST: %d events applied, links %v", rep.Events, v.Areas[0].Router(ip("10.0.0.1")).Links)
	}
}

// The net change between two times takes the state at the first to the
// state at the second.
func TestDiff(t *testing.T) {
	a := newTestArchive(t)
	a.snapshot(at(0), baseArea)
	a.hour(at(0),
		link(at(time.Second), "10.0.0.1", false, lsdb.KindRouter, "10.0.0.2", 10),
		link(at(2*time.Second), "10.0.0.1", true, lsdb.KindRouter, "10.0.0.2", 5),
		link(at(3*time.Second), "10.0.0.3", true, lsdb.KindStubnet, "192.0.2.0/24", 1),
		link(at(4*time.Second), "10.0.0.3", false, lsdb.KindStubnet, "192.0.2.0/24", 1), // no net change
		member(at(5*time.Second), "10.1.0.0/24", false, "10.0.0.2"),
	)
	a.snapshot(at(time.Minute), `{"routers": {"10.0.0.7": {"links": {"stubnet": [{"id": "192.0.2.7/32", "metric": 1}]}}}, "networks": {}}`)
	h := a.history(true)
	ctx := context.Background()
	for _, to := range []time.Duration{10 * time.Second, time.Minute} {
		evs, _, err := h.Diff(ctx, at(0), at(to))
		if err != nil {
			t.Fatal(err)
		}
		from, _, _ := h.At(ctx, at(0))
		want, _, _ := h.At(ctx, at(to))
		st := newState(from)
		for i := range evs {
			if evs[i].Time != at(to).UnixMilli() {
				t.Errorf("event %d stamped %d, want the second time", i, evs[i].Time)
			}
			st.apply(&evs[i])
		}
		sameState(t, fmt.Sprintf("the state at 10:00 with the diff to +%v", to), st.view(at(to)), want)
		if to == 10*time.Second && len(evs) != 3 {
			t.Errorf("%d events to +10s, want 3 (a metric change and a member gone)", len(evs))
		}
	}
}

// The last line of an hour being written may lack its end: it is passed
// over (counted), even in strict mode; a whole last line without its
// newline is read.
func TestUnfinishedLastLine(t *testing.T) {
	a := newTestArchive(t)
	good := link(at(time.Second), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.0/24", 1)
	last := link(at(2*time.Second), "10.0.0.1", true, lsdb.KindStubnet, "192.0.2.1/32", 1)
	a.write(filepath.Join(a.events, "2024/03/01/10.jsonl"), []byte(good+"\n"+last[:30]))
	var got []string
	collect := func(l []byte) error { got = append(got, string(l)); return nil }
	rep, err := a.history(true).Events(context.Background(), at(0), at(time.Hour), collect)
	if err != nil || !slices.Equal(got, []string{good}) || rep.Skipped != 1 {
		t.Fatalf("a torn last line: %v, %v, report %+v", err, got, rep)
	}
	a.write(filepath.Join(a.events, "2024/03/01/10.jsonl"), []byte(good+"\n"+last))
	got = nil
	if _, err := a.history(true).Events(context.Background(), at(0), at(time.Hour), collect); err != nil || !slices.Equal(got, []string{good, last}) {
		t.Fatalf("a whole last line without its newline: %v, %v", err, got)
	}
}
