package mirror_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

var (
	backbone = netip.MustParseAddr("0.0.0.0")
	r10      = netip.MustParseAddr("10.10.10.10")
)

// rig is a fake ospfd serving the NYC LSDB and a Mirror following it.
type rig struct {
	t       *testing.T
	srv     *ospfapitest.Server
	db      *lsdb.DB
	m       *mirror.Mirror
	metrics *mirror.Metrics
	reg     *prometheus.Registry
	sub     *lsdb.Subscription
	logs    *streamtest.LockedBuffer
	reports chan mirror.SyncReport
}

func newRig(t *testing.T, cfg ospfapitest.Config, holdDown time.Duration) *rig {
	t.Helper()
	if !cfg.RouterID.IsValid() {
		cfg.RouterID = r10
	}
	srv := ospfapitest.Start(t, cfg, ospfapitest.NYC(t))
	r := &rig{t: t, srv: srv, logs: &streamtest.LockedBuffer{}, reports: make(chan mirror.SyncReport, 16)}
	r.db = lsdb.New(lsdb.Config{HoldDown: holdDown, ReinstallWindow: 200 * time.Millisecond})
	r.metrics = mirror.NewMetrics(r.db)
	r.reg = prometheus.NewPedanticRegistry()
	if err := r.metrics.Register(r.reg); err != nil {
		t.Fatal(err)
	}
	var err error
	if r.sub, err = r.db.Feed().Subscribe(0); err != nil {
		t.Fatal(err)
	}
	r.m = mirror.New(mirror.Config{
		Server:     srv.Addr(),
		DB:         r.db,
		Logger:     slog.New(slog.NewTextHandler(r.logs, nil)),
		Metrics:    r.metrics,
		MinBackoff: 20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond,
		OnSynced:   func(rep mirror.SyncReport) { r.reports <- rep },
		// Probe often, so that a frozen ospfd is noticed.
		DialOptions: []ospfapi.Option{ospfapi.WithTimeout(2 * time.Second)},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// report waits for the next applied dump.
func (r *rig) report() mirror.SyncReport {
	r.t.Helper()
	select {
	case rep := <-r.reports:
		return rep
	case <-time.After(10 * time.Second):
		r.t.Fatalf("no dump applied; logs:\n%s", r.logs)
	}
	panic("unreachable")
}

var tsRE = regexp.MustCompile(`"timestamp": [0-9]+, `)

// events reads exactly n events (failing after a timeout) and returns them
// as seed JSON lines without their timestamps, after validating each.
func (r *rig) events(n int) []string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []string
	var buf []lsdb.Event
	for len(out) < n {
		evs, err := r.sub.Read(ctx, buf[:0])
		if err != nil {
			r.t.Fatalf("after %d of %d events: %v (got %q); logs:\n%s", len(out), n, err, out, r.logs)
		}
		for _, e := range evs {
			line := e.AppendJSON(nil)
			if err := schemavalidate.ValidateEvent(line); err != nil {
				r.t.Errorf("event %s: %v", line, err)
			}
			out = append(out, tsRE.ReplaceAllString(string(line), ""))
		}
	}
	if len(out) != n {
		r.t.Fatalf("got %d events, want %d: %q", len(out), n, out)
	}
	return out
}

// quiet asserts that no event arrives within d.
func (r *rig) quiet(d time.Duration) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if evs, err := r.sub.Read(ctx, nil); len(evs) > 0 {
		var s []string
		for _, e := range evs {
			s = append(s, string(e.AppendJSON(nil)))
		}
		r.t.Fatalf("unexpected events (%v): %q", err, s)
	}
}

func (r *rig) snapshotJSON() string {
	s, _ := r.db.Snapshot()
	s.Updated = 0
	return string(s.AppendJSON(nil))
}

func eq(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMirrorLoadFollowResync(t *testing.T) {
	r := newRig(t, ospfapitest.Config{}, 0)
	rep := r.report()
	if rep.Resync || rep.Result.LSAs != r.srv.Len() || rep.RouterID != r10 || len(rep.Missing) != 0 {
		t.Fatalf("first load: %+v, want %d LSAs from %s, no resync, nothing missing", rep, r.srv.Len(), r10)
	}
	if !r.m.Synced() || testutil.ToFloat64(r.metrics.SessionUp) != 1 {
		t.Fatal("not synced after the dump")
	}
	if !strings.Contains(r.logs.String(), "LSDB loaded") {
		t.Errorf("no load log line:\n%s", r.logs)
	}
	before := r.snapshotJSON()

	// A live metric change: the transit link is replaced.
	if err := r.srv.SetLinkMetric(backbone, r10, 0, 20); err != nil {
		t.Fatal(err)
	}
	eq(t, r.events(2),
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "removed": {"link": {"network": {"id": "10.70.76.0/24", "metric": 10}}}}`,
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "added": {"link": {"network": {"id": "10.70.76.0/24", "metric": 20}}}}`)

	// The 30-minute refresh of every LSA (DELETE + UPDATE with the next
	// sequence number) changes nothing.
	if n, err := r.srv.RefreshAll(); err != nil || n != r.srv.Len() {
		t.Fatalf("RefreshAll = %d, %v", n, err)
	}
	r.quiet(500 * time.Millisecond)

	// ospfd goes away; while it is down the network changes; it comes
	// back: the resync publishes exactly that change.
	r.srv.Stop()
	waitFor(t, func() bool { return !r.m.Synced() }, "the mirror to notice ospfd is gone")
	if testutil.ToFloat64(r.metrics.SessionUp) != 0 {
		t.Error("session_up still 1 with ospfd down")
	}
	newExt := netip.MustParsePrefix("198.51.100.0/24")
	if err := r.srv.AddExternal(r10, newExt, 30, true, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.SetLinkMetric(backbone, r10, 0, 10); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	rep = r.report()
	if !rep.Resync || rep.Result.Events != 3 {
		t.Errorf("resync report %+v, want a resync with 3 events", rep.Result)
	}
	eq(t, r.events(3),
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "removed": {"link": {"network": {"id": "10.70.76.0/24", "metric": 20}}}}`,
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "added": {"link": {"network": {"id": "10.70.76.0/24", "metric": 10}}}}`,
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "added": {"link": {"external": {"id": "198.51.100.0/24", "metric2": 30}}}}`)
	r.quiet(300 * time.Millisecond)
	if testutil.ToFloat64(r.metrics.Resyncs) != 1 || testutil.ToFloat64(r.metrics.Sessions) != 2 {
		t.Errorf("resyncs %v sessions %v, want 1 and 2", testutil.ToFloat64(r.metrics.Resyncs), testutil.ToFloat64(r.metrics.Sessions))
	}
	if !strings.Contains(r.logs.String(), "OSPF API session ended; reconnecting") {
		t.Errorf("no log line for the lost session:\n%s", r.logs)
	}

	// The withdrawal of the new external brings the view back to the
	// first load exactly.
	if err := r.srv.WithdrawExternal(r10, newExt); err != nil {
		t.Fatal(err)
	}
	// ospfd ages its own LSA in place and tells API clients only when the
	// MaxAge copy is removed.
	if n := r.srv.PurgeMaxAge(); n != 1 {
		t.Fatalf("PurgeMaxAge removed %d LSAs, want 1", n)
	}
	eq(t, r.events(1),
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "removed": {"link": {"external": {"id": "198.51.100.0/24", "metric2": 30}}}}`)
	if got := r.snapshotJSON(); got != before {
		t.Error("snapshot after the changes were undone differs from the first load")
	}
	if problems, err := testutil.GatherAndLint(r.reg); err != nil || len(problems) > 0 {
		t.Errorf("metrics lint: %v %v", problems, err)
	}
}

// TestMirrorHoldDown: the removal of a withdrawn LSA is published by the
// mirror itself when the hold-down expires, without any further traffic.
func TestMirrorHoldDown(t *testing.T) {
	r := newRig(t, ospfapitest.Config{}, 300*time.Millisecond)
	r.report()
	p := netip.MustParsePrefix("10.10.10.10/32")
	if err := r.srv.WithdrawExternal(r10, p); err != nil {
		t.Fatal(err)
	}
	if n := r.srv.PurgeMaxAge(); n != 1 {
		t.Fatalf("PurgeMaxAge removed %d LSAs, want 1", n)
	}
	r.quiet(150 * time.Millisecond)
	eq(t, r.events(1),
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "removed": {"link": {"external": {"id": "10.10.10.10/32", "metric": 1}}}}`)
}

// TestMirrorMalformedLSA: an LSA with a bad checksum is counted and
// logged; the session goes on.
func TestMirrorMalformedLSA(t *testing.T) {
	r := newRig(t, ospfapitest.Config{}, 0)
	r.report()
	raw, ok := r.srv.Raw(ospfapitest.Key{Area: backbone, Type: ospf.RouterLSAType, LSID: r10, AdvRouter: r10})
	if !ok {
		t.Fatal("no Router-LSA of 10.10.10.10")
	}
	bad := bytes.Clone(raw)
	binary.BigEndian.PutUint32(bad[12:16], binary.BigEndian.Uint32(bad[12:16])+1) // next seq, old checksum
	if err := r.srv.Notify(&ospfapi.LSANotify{Area: backbone, LSA: bad}); err != nil {
		t.Fatal(err)
	}
	if err := r.srv.SetLinkMetric(backbone, r10, 0, 20); err != nil {
		t.Fatal(err)
	}
	eq(t, r.events(2),
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "removed": {"link": {"network": {"id": "10.70.76.0/24", "metric": 10}}}}`,
		`{"entity": {"type": "router", "id": "10.10.10.10"}, "added": {"link": {"network": {"id": "10.70.76.0/24", "metric": 20}}}}`)
	if st := r.db.Stats(); st.Malformed != 1 {
		t.Errorf("malformed = %d, want 1", st.Malformed)
	}
	if testutil.ToFloat64(r.metrics.Sessions) != 1 {
		t.Error("the bad LSA ended the session")
	}
	if !strings.Contains(r.logs.String(), "LSA rejected") {
		t.Errorf("no log line for the bad LSA:\n%s", r.logs)
	}
}

// TestMirrorGarbage: a stream that cannot be framed ends the session with
// a log line; the mirror reconnects and resyncs without events.
func TestMirrorGarbage(t *testing.T) {
	r := newRig(t, ospfapitest.Config{}, 0)
	r.report()
	r.srv.SendRaw([]byte{9, 9, 9, 9, 0, 0, 0, 0})
	rep := r.report()
	if !rep.Resync || rep.Result.Events != 0 {
		t.Errorf("after garbage: %+v, want a resync without events", rep.Result)
	}
	if testutil.ToFloat64(r.metrics.SessionErrors.WithLabelValues("stream")) != 1 {
		t.Error("stream error not counted")
	}
	if !strings.Contains(r.logs.String(), "OSPF API session ended") {
		t.Errorf("no log line:\n%s", r.logs)
	}
	r.quiet(200 * time.Millisecond)
}

// TestMirrorMissingRouter: ospfd 8.4 silently drops a Router-LSA over
// 1,500 bytes; the mirror names the router others reference in a log line
// and the metric.
func TestMirrorMissingRouter(t *testing.T) {
	// Give a router that 10.10.10.10's LAN references 130 stub links.
	lsas := ospfapitest.NYC(t)
	var big netip.Addr
	for i, al := range lsas {
		rl, ok := al.LSA.(*ospf.RouterLSA)
		if !ok || rl.AdvRouter == r10 || len(rl.Links) == 0 || rl.Links[0].Type != ospf.LinkTransit {
			continue
		}
		for j := range 130 {
			rl.Links = append(rl.Links, ospf.RouterLink{Type: ospf.LinkStub,
				ID: netip.AddrFrom4([4]byte{172, 31, byte(j), 0}), Data: netip.MustParseAddr("255.255.255.0"), Metric: 1})
		}
		lsas[i].LSA = rl
		big = rl.AdvRouter
		break
	}
	if !big.IsValid() {
		t.Fatal("no router on a transit network")
	}
	srv := ospfapitest.Start(t, ospfapitest.Config{RouterID: r10, Oversize: ospfapitest.OversizeDrop}, lsas)
	logs := &streamtest.LockedBuffer{}
	db := lsdb.New(lsdb.Config{})
	met := mirror.NewMetrics(db)
	reports := make(chan mirror.SyncReport, 1)
	m := mirror.New(mirror.Config{Server: srv.Addr(), DB: db, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Metrics: met, OnSynced: func(r mirror.SyncReport) { reports <- r }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m.Run(ctx) }()
	var rep mirror.SyncReport
	select {
	case rep = <-reports:
	case <-time.After(10 * time.Second):
		t.Fatalf("no dump; logs:\n%s", logs)
	}
	if len(rep.Missing) != 1 || rep.Missing[0].Router != big || len(rep.Missing[0].ReferencedBy) == 0 {
		t.Fatalf("missing = %v, want only %s, referenced by others", rep.Missing, big)
	}
	if got := testutil.ToFloat64(met.MissingRouters); got != 1 {
		t.Errorf("missing metric = %v, want 1", got)
	}
	if l := logs.String(); !strings.Contains(l, "did not deliver the Router-LSA") || !strings.Contains(l, big.String()) {
		t.Errorf("no warning naming %s:\n%s", big, l)
	}
}

// TestOnceUnreachable: a dead ospfd is a clear error.
func TestOnceUnreachable(t *testing.T) {
	srv, err := ospfapitest.NewServer(ospfapitest.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := srv.Addr()
	srv.Close()
	_, err = mirror.Once(context.Background(), addr, lsdb.New(lsdb.Config{}), ospfapi.WithTimeout(time.Second))
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Once against a closed port: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(10*time.Second).WithPolling(10*time.Millisecond).
		Should(gomega.BeTrue(), "waiting for %s", what)
}
