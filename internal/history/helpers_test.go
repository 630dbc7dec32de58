package history

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// testArchive writes an archive by hand: minute snapshots and hour files
// in the seed's layout, in zone loc.
type testArchive struct {
	t             testing.TB
	events, snaps string
	loc           *time.Location
	gzip          bool // write compressed files
}

func newTestArchive(t testing.TB) *testArchive {
	t.Helper()
	root := t.TempDir()
	return &testArchive{t: t, events: filepath.Join(root, "events"), snaps: filepath.Join(root, "snapshots"), loc: time.UTC}
}

func (a *testArchive) history(strict bool) *History {
	a.t.Helper()
	h, err := New(Config{EventsDir: a.events, SnapshotsDir: a.snaps, Location: a.loc, Strict: strict})
	if err != nil {
		a.t.Fatal(err)
	}
	return h
}

func (a *testArchive) write(path string, data []byte) {
	a.t.Helper()
	if a.gzip {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(data)
		_ = zw.Close()
		path, data = path+".gz", b.Bytes()
	}
	streamtest.WriteFile(a.t, path, data)
}

// snapshot writes the snapshot of routers and networks (seed-format JSON
// of an area) taken at at, in the file of at's minute.
func (a *testArchive) snapshot(at time.Time, area string) {
	a.t.Helper()
	a.snapshotIn(at, at, area)
}

// snapshotIn writes a snapshot taken at at in the file of minute's minute.
func (a *testArchive) snapshotIn(minute, at time.Time, area string) {
	a.t.Helper()
	s, err := lsdb.ParseSnapshot([]byte(`{"areas": {"0.0.0.0": ` + area + `}}`))
	if err != nil {
		a.t.Fatal(err)
	}
	v, err := lsdb.ViewFromSnapshot(s)
	if err != nil {
		a.t.Fatal(err)
	}
	v.Updated = at
	m := minute.In(a.loc)
	a.write(filepath.Join(a.snaps, m.Format("2006/01/02/15/04")+".json"), v.Snapshot().AppendJSON(nil))
}

// hour appends lines to the file of the hour of t.
func (a *testArchive) hour(t time.Time, lines ...string) {
	a.t.Helper()
	path := hourPath(a.events, hourStart(t, a.loc))
	old, _ := os.ReadFile(path)
	a.write(path, append(old, []byte(strings.Join(lines, "\n")+"\n")...))
}

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// link is a router-link event line at time t.
func link(t time.Time, router string, added bool, kind lsdb.LinkKind, id string, metric uint32) string {
	p, err := netip.ParsePrefix(id)
	if err != nil {
		p = netip.PrefixFrom(ip(id), 32)
	}
	ev := lsdb.Event{Time: t.UnixMilli(), Entity: lsdb.EntityRouter, Router: ip(router), Added: added,
		Link: lsdb.NewLink(kind, p, metric, false, netip.Addr{})}
	return string(ev.AppendJSON(nil))
}

// member is a network event line at time t.
func member(t time.Time, network string, added bool, router string) string {
	ev := lsdb.Event{Time: t.UnixMilli(), Entity: lsdb.EntityNetwork, Network: netip.MustParsePrefix(network), Added: added, Member: ip(router)}
	return string(ev.AppendJSON(nil))
}

// canon is a view as a snapshot compares semantically: every list in
// order, "updated" left out, as JSON.
func canon(t testing.TB, v *lsdb.View) []byte {
	t.Helper()
	return canonSnapshot(v.Snapshot()).AppendJSON(nil) // a snapshot's lists are its own
}

// stateDiff is "" when got and want are the same state, else their
// difference (-want +got).
func stateDiff(t testing.TB, want, got *lsdb.View) string {
	t.Helper()
	w, g := canon(t, want), canon(t, got)
	if bytes.Equal(w, g) {
		return ""
	}
	var wa, ga any
	if err := json.Unmarshal(w, &wa); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(g, &ga); err != nil {
		t.Fatal(err)
	}
	return cmp.Diff(wa, ga)
}

func canonSnapshot(s *lsdb.Snapshot) *lsdb.Snapshot {
	linkKey := func(l lsdb.SnapshotLink) string { return l.ID + " " + strconv.FormatUint(uint64(l.Metric), 10) }
	extKey := func(x lsdb.SnapshotExternal) string {
		k := x.ID + " " + x.Via
		if x.Metric != nil {
			k += " m" + strconv.FormatUint(uint64(*x.Metric), 10)
		}
		if x.Metric2 != nil {
			k += " m2" + strconv.FormatUint(uint64(*x.Metric2), 10)
		}
		return k
	}
	for _, a := range s.Areas {
		for _, r := range a.Routers {
			L := &r.Links
			for _, ls := range []*[]lsdb.SnapshotLink{&L.Router, &L.Network, &L.Stubnet, &L.XNetwork, &L.XRouter} {
				slices.SortFunc(*ls, func(a, b lsdb.SnapshotLink) int { return strings.Compare(linkKey(a), linkKey(b)) })
			}
			for _, xs := range []*[]lsdb.SnapshotExternal{&L.External, &L.NSSAExt} {
				slices.SortFunc(*xs, func(a, b lsdb.SnapshotExternal) int { return strings.Compare(extKey(a), extKey(b)) })
			}
		}
		for _, n := range a.Networks {
			slices.Sort(n.Routers)
		}
	}
	return &lsdb.Snapshot{Areas: s.Areas}
}

// sameState fails the test unless got and want are the same state.
func sameState(t testing.TB, what string, got, want *lsdb.View) {
	t.Helper()
	if d := stateDiff(t, want, got); d != "" {
		t.Fatalf("%s (-want +got):\n%s", what, d)
	}
}

// viewOf is the view of a seed-format area.
func viewOf(t testing.TB, area string) *lsdb.View {
	t.Helper()
	s, err := lsdb.ParseSnapshot([]byte(`{"areas": {"0.0.0.0": ` + area + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	v, err := lsdb.ViewFromSnapshot(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
