package relay

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/stream"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// testRelay is a Relay running behind an httptest server until the test
// ends or stop.
type testRelay struct {
	*Relay
	url  string // ws://host:port
	http string // http://host:port
	stop func(t testing.TB)
}

// startRelay starts a Relay for cfg and waits until it follows its
// upstream.
func startRelay(t testing.TB, cfg Config) *testRelay {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = streamtest.Logger(t)
	}
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = 10*time.Millisecond, 50*time.Millisecond
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := streamtest.Serve(t, r, nil)
	streamtest.NewWithT(t).Eventually(r.Ready).Should(gomega.BeTrue(), "the relay to follow its upstream")
	return &testRelay{Relay: r, url: s.URL, http: s.HTTP.URL, stop: s.Stop}
}

// sameSnapshot fails the test unless the two snapshots are the same but
// for when they were taken.
func sameSnapshot(t testing.TB, what string, a, b json.RawMessage) {
	t.Helper()
	norm := func(raw json.RawMessage) string {
		s, err := lsdb.ParseSnapshot(raw)
		if err != nil {
			t.Fatal(err)
		}
		s.Updated = 0
		return string(s.AppendJSON(nil))
	}
	if d := cmp.Diff(norm(a), norm(b)); d != "" {
		t.Fatalf("%s (-want +got):\n%s", what, d)
	}
}

func TestRelayServesTheUpstreamsStreamUnderItsNumbers(t *testing.T) {
	db := streamtest.LoadFixture(t)
	up := startUpstream(t, stream.ServerConfig{Source: db}, nil)
	em := &streamtest.Emitter{DB: db}
	em.Emit(t, 5)
	relay := startRelay(t, Config{Upstream: up.url})

	upDoc, relayDoc := streamtest.GetSnapshot(t, up.http.URL), streamtest.GetSnapshot(t, relay.http)
	if relayDoc.Epoch != upDoc.Epoch || relayDoc.Seq != upDoc.Seq {
		t.Fatalf("relay snapshot at %s/%d, upstream at %s/%d", relayDoc.Epoch, relayDoc.Seq, upDoc.Epoch, upDoc.Seq)
	}
	sameSnapshot(t, "relay's snapshot against the upstream's", upDoc.Snapshot, relayDoc.Snapshot)

	since := "/v1/stream?since=" + strconv.FormatUint(upDoc.Seq, 10) + "&epoch=" + upDoc.Epoch
	direct, viaRelay := streamtest.Dial(t, up.url+since), streamtest.Dial(t, relay.url+since)
	seed := streamtest.Dial(t, relay.url+"/")
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().Server.Following >= 2 }).Should(gomega.BeTrue(), "the seed client to join")
	last := em.Emit(t, 50)
	n := int(last - upDoc.Seq)
	want, got := streamtest.ReadN(t, direct, n), streamtest.ReadN(t, viaRelay, n)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d through the relay:\n%s\nwant, as the upstream sends it:\n%s", i, got[i], want[i])
		}
	}
	streamtest.SameLines(t, "seed stream through the relay", streamtest.ReadN(t, seed, 50), streamtest.WantLines(t, db, upDoc.Seq+1, last))
	streamtest.NewWithT(t).Eventually(func() bool { return streamtest.GetSnapshot(t, relay.http).Seq == last }).Should(gomega.BeTrue(), "the relay's snapshot to catch up")
	sameSnapshot(t, "relay's snapshot after the events", streamtest.GetSnapshot(t, up.http.URL).Snapshot, streamtest.GetSnapshot(t, relay.http).Snapshot)
}

func TestRelayResumesAcrossItsRestartWithoutLossOrRepeat(t *testing.T) {
	db := streamtest.NewDB(t, 1<<12)
	up := startUpstream(t, stream.ServerConfig{Source: db}, nil)
	em := &streamtest.Emitter{DB: db}
	first := em.Emit(t, 3) // before the relay ever ran: not archived
	events := t.TempDir()
	cfg := Config{Upstream: up.url, EventsDir: events}

	relay := startRelay(t, cfg)
	doc := streamtest.GetSnapshot(t, relay.http)
	c := streamtest.Dial(t, relay.url+"/v1/stream?since="+strconv.FormatUint(doc.Seq, 10)+"&epoch="+doc.Epoch)
	last := em.Emit(t, 20)
	envs := streamtest.DecodeEnvelopes(t, streamtest.ReadN(t, c, int(last-doc.Seq)))
	read := envs[len(envs)-1].Seq
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().Archive.Events == 20 }).Should(gomega.BeTrue(), "the archive to catch up")
	relay.stop(t)
	_ = c.CloseNow()

	em.Emit(t, 15) // while the relay is down
	relay = startRelay(t, cfg)
	c = streamtest.Dial(t, relay.url+"/v1/stream?since="+strconv.FormatUint(read, 10)+"&epoch="+doc.Epoch)
	last = em.Emit(t, 5)
	envs = streamtest.DecodeEnvelopes(t, streamtest.ReadN(t, c, int(last-read)))
	for i, e := range envs {
		if e.Seq != read+1+uint64(i) {
			t.Fatalf("after the restart, streamtest.Envelope %d has seq %d, want %d", i, e.Seq, read+1+uint64(i))
		}
	}
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().Archive.Events == 15+5 }).Should(gomega.BeTrue(), "the archive to catch up")

	streamtest.SameLines(t, "archive across the restart", archiveTree(t, events), streamtest.WantLines(t, db, first+1, last))
}

// archiveTree returns the lines of every hourly file under dir, in order.
func archiveTree(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".jsonl") {
			out = append(out, streamtest.StreamLines(t, path)...)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// listenAgain listens on addr, retrying while the old listener's port is
// being released.
func listenAgain(t testing.TB, addr string) net.Listener {
	t.Helper()
	var (
		ln  net.Listener
		err error
	)
	streamtest.NewWithT(t).Eventually(func() bool {
		ln, err = net.Listen("tcp", addr)
		return err == nil
	}).Should(gomega.BeTrue(), "the upstream's port to be free")
	return ln
}

func TestRelayResnapshotsWhenTheUpstreamRestarts(t *testing.T) {
	db1 := streamtest.NewDB(t, 1<<12)
	em1 := &streamtest.Emitter{DB: db1}
	em1.Emit(t, 10) // routes 1..10
	up1 := startUpstream(t, stream.ServerConfig{Source: db1}, nil)
	addr := up1.http.Listener.Addr().String()
	events := t.TempDir()
	stdout := &streamtest.LockedBuffer{}
	relay := startRelay(t, Config{Upstream: up1.url, EventsDir: events, Stdout: stdout})
	old := streamtest.GetSnapshot(t, relay.http)
	c := streamtest.Dial(t, relay.url+"/v1/stream?since="+strconv.FormatUint(old.Seq, 10)+"&epoch="+old.Epoch)

	// The upstream goes away: the relay says so once and is not ready.
	up1.stop(t)
	up1.http.Close()
	streamtest.NewWithT(t).Eventually(func() bool { return !relay.Ready() }).Should(gomega.BeTrue(), "the relay to notice")
	if got := relay.Stats().Losses; got != 1 {
		t.Errorf("losses = %d, want 1", got)
	}

	// It comes back with other content and a new numbering: routes
	// 6..15 instead of 1..10.
	db2 := streamtest.NewDB(t, 1<<12)
	em2 := &streamtest.Emitter{DB: db2, N: 5}
	em2.Emit(t, 10)
	ln := listenAgain(t, addr)
	up2 := startUpstream(t, stream.ServerConfig{Source: db2}, func(net.Listener) net.Listener { return ln })
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Ready() && relay.Stats().Epoch == up2.Epoch() }).Should(gomega.BeTrue(), "the relay to follow the new upstream")
	if got := relay.Stats().Losses; got != 1 {
		t.Errorf("losses after the reconnect = %d, want 1", got)
	}
	sameSnapshot(t, "relay's snapshot against the new upstream's", streamtest.GetSnapshot(t, up2.http.URL).Snapshot, streamtest.GetSnapshot(t, relay.http).Snapshot)

	// The archive got the difference: 5 routes gone, 5 new.
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().Archive.Events == 10 }).Should(gomega.BeTrue(), "the archive to get the difference")
	added, removed := 0, 0
	for _, l := range archiveTree(t, events) {
		switch {
		case strings.Contains(l, `"added"`):
			added++
		case strings.Contains(l, `"removed"`):
			removed++
		}
	}
	if added != 5 || removed != 5 {
		t.Errorf("archive: %d added, %d removed, want 5 and 5", added, removed)
	}
	streamtest.NewWithT(t).Eventually(func() bool { return strings.Count(stdout.String(), "\n") == 10 }).Should(gomega.BeTrue(), "stdout to get the difference")

	// The relay served its last state meanwhile; its clients of the old
	// numbering are closed once the new one is served, and told to
	// resnapshot when they come back.
	if ce := streamtest.ReadClose(t, c); ce.Code != websocket.StatusGoingAway {
		t.Errorf("relay client of the old upstream closed with %v, want 1001", ce)
	}
	c = streamtest.Dial(t, relay.url+"/v1/stream?since="+strconv.FormatUint(old.Seq, 10)+"&epoch="+old.Epoch)
	if ce := streamtest.ReadClose(t, c); ce.Code != stream.CloseResnapshot {
		t.Errorf("old-epoch client closed with %v, want 4001", ce)
	}
	// The new upstream's events follow, archived once each.
	last := em2.Emit(t, 3)
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().Archive.Events == 13 }).Should(gomega.BeTrue(), "the archive to follow the new upstream")
	// The state record after the last event may reach the relay just
	// after the event reached its archive.
	streamtest.NewWithT(t).Eventually(func() uint64 { return relay.Stats().LastSeq }).Should(gomega.Equal(last), "the relay to serve up to the upstream's last sequence number")
}

func TestRelayRejectsABadUpstream(t *testing.T) {
	for _, u := range []string{"", "http://127.0.0.1:9622", "127.0.0.1:9622", "ws://"} {
		if _, err := New(Config{Upstream: u}); err == nil || !strings.Contains(err.Error(), "ws://HOST:PORT") {
			t.Errorf("New(%q): err = %v, want one that names ws://HOST:PORT", u, err)
		}
	}
}

func TestRelayHealthAndReadiness(t *testing.T) {
	relay, err := New(Config{Upstream: "ws://127.0.0.1:1", Logger: streamtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/v1/snapshot": 503, "/": 200} {
		rec := httptest.NewRecorder()
		relay.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s before the upstream: %d, want %d", path, rec.Code, want)
		}
	}
}

// What no event shows (here a router whose Router-LSA has no link) reaches
// the relay in the state records, at once and without a correction.
func TestRelayCarriesWhatEventsDoNot(t *testing.T) {
	db := streamtest.LoadFixture(t)
	up := startUpstream(t, stream.ServerConfig{Source: db}, nil)
	em := &streamtest.Emitter{DB: db}
	em.Emit(t, 3)
	relay := startRelay(t, Config{Upstream: up.url, VerifyInterval: 20 * time.Millisecond})
	last := em.Emit(t, 3)
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().LastSeq == db.Feed().LastSeq() }).Should(gomega.BeTrue(), "the relay to catch up")

	lonely := netip.MustParseAddr("10.255.255.1")
	raw, err := ospf.Marshal(&ospf.RouterLSA{Header: ospf.Header{Age: 1, Options: 0x02, Type: ospf.RouterLSAType,
		LSID: lonely, AdvRouter: lonely, SeqNum: ospf.InitialSeqNum}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(streamtest.Area0, raw, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n := db.Commit(); n != 0 {
		t.Fatalf("a router without links made %d events; the test needs state no event carries", n)
	}
	if db.Feed().LastSeq() == last {
		t.Fatal("the database published no state record for the router without links")
	}
	hasLonely := func(raw json.RawMessage) bool {
		s, err := lsdb.ParseSnapshot(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := s.Areas[streamtest.Area0.String()].Routers[lonely.String()]
		return ok
	}
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().LastSeq == db.Feed().LastSeq() }).Should(gomega.BeTrue(), "the relay to take the record")
	doc := streamtest.GetSnapshot(t, relay.http)
	if !hasLonely(doc.Snapshot) || doc.Seq != db.Feed().LastSeq() {
		t.Fatalf("the relay's snapshot at %d lacks the router without links", doc.Seq)
	}
	sameSnapshot(t, "relay's snapshot", streamtest.GetSnapshot(t, up.http.URL).Snapshot, doc.Snapshot)

	em.Emit(t, 2)
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().LastSeq == db.Feed().LastSeq() }).Should(gomega.BeTrue(), "the relay to follow on")
	v := relay.Stats().Verified
	streamtest.NewWithT(t).Eventually(func() bool { return relay.Stats().Verified >= v+2 }).Should(gomega.BeTrue(), "two more comparisons with the upstream")
	if n := relay.Stats().Corrections; n != 0 {
		t.Errorf("%d corrections of a relay that followed every record", n)
	}
	if !hasLonely(streamtest.GetSnapshot(t, relay.http).Snapshot) {
		t.Error("the router without links left the relay's snapshot")
	}
}

// routeChanges lists the archive's route events as "+ID" and "-ID".
func routeChanges(t testing.TB, lines []string) []string {
	t.Helper()
	var out []string
	for _, l := range lines {
		var ev struct {
			Added, Removed *struct {
				Link struct {
					External *struct {
						ID string `json:"id"`
					} `json:"external"`
				} `json:"link"`
			}
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("archive line %s: %v", l, err)
		}
		switch {
		case ev.Added != nil && ev.Added.Link.External != nil:
			out = append(out, "+"+ev.Added.Link.External.ID)
		case ev.Removed != nil && ev.Removed.Link.External != nil:
			out = append(out, "-"+ev.Removed.Link.External.ID)
		default:
			t.Fatalf("archive line %s: not a route event", l)
		}
	}
	slices.Sort(out)
	return out
}

// When the upstream restarts with a new numbering while the relay is down,
// the relay emits the difference between the graph it saved where its
// archive ends and the upstream's new snapshot: the archive misses
// nothing. After a crash, it does so from its last checkpoint and the
// events archived after it; without any saved graph it cannot, and says so.
func TestRelayDiffsAnUpstreamRestartWhileItIsDown(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash bool // no view saved at the stop
		// checkpoint: a checkpoint, then routes 13 and 14 archived
		// after it, before the crash
		checkpoint bool
	}{
		{"clean stop", false, false},
		{"crash without a checkpoint", true, false},
		{"crash after a checkpoint", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db1 := streamtest.NewDB(t, 1<<12)
			em1 := &streamtest.Emitter{DB: db1}
			em1.Emit(t, 10) // routes 1..10, before the relay: in its snapshot
			up1 := startUpstream(t, stream.ServerConfig{Source: db1}, nil)
			addr := up1.http.Listener.Addr().String()
			events := t.TempDir()
			cfg := Config{Upstream: up1.url, EventsDir: events, CheckpointInterval: -1}
			if tc.checkpoint {
				cfg.CheckpointInterval = 10 * time.Millisecond
			}
			relay := startRelay(t, cfg)
			em1.Emit(t, 2) // routes 11 and 12, archived
			g := streamtest.NewWithT(t)
			g.Eventually(func() bool { return relay.Stats().Archive.Events == 2 }).Should(gomega.BeTrue(), "the archive to catch up")
			saved := filepath.Join(events, ViewFile)
			var checkpoint []byte
			if tc.checkpoint {
				g.Eventually(func() archive.Position { return savedAt(t, saved) }).Should(gomega.Equal(archivePosition(t, events)), "a checkpoint where the archive ends")
				var err error
				if checkpoint, err = os.ReadFile(saved); err != nil {
					t.Fatal(err)
				}
				em1.Emit(t, 2) // routes 13 and 14, archived after the checkpoint
				g.Eventually(func() bool { return relay.Stats().Archive.Events == 4 }).Should(gomega.BeTrue(), "the archive to catch up")
			}
			relay.stop(t)
			if got, want := savedAt(t, saved), archivePosition(t, events); got != want || got.Epoch == "" {
				t.Fatalf("the view saved at a clean stop is at %+v, want the archive's end %+v", got, want)
			}
			if tc.crash {
				// What a crash leaves: the last checkpoint, or nothing.
				if err := os.Remove(saved); err != nil {
					t.Fatal(err)
				}
				if checkpoint != nil {
					streamtest.WriteFile(t, saved, checkpoint)
				}
			}
			up1.stop(t)
			up1.http.Close()

			// Back with a new numbering and routes 6..15.
			db2 := streamtest.NewDB(t, 1<<12)
			em2 := &streamtest.Emitter{DB: db2, N: 5}
			em2.Emit(t, 10)
			ln := listenAgain(t, addr)
			up2 := startUpstream(t, stream.ServerConfig{Source: db2}, func(net.Listener) net.Listener { return ln })
			relay = startRelay(t, cfg)
			sameSnapshot(t, "relay's snapshot against the new upstream's", streamtest.GetSnapshot(t, up2.http.URL).Snapshot, streamtest.GetSnapshot(t, relay.http).Snapshot)
			route := func(sign string, n ...int) []string {
				var out []string
				for _, i := range n {
					out = append(out, sign+netip.AddrFrom4([4]byte{172, 16, 0, byte(i)}).String()+"/32")
				}
				return out
			}
			want := route("+", 11, 12)
			switch {
			case tc.checkpoint:
				want = append(want, route("+", 13, 14)...)
				want = append(want, route("-", 1, 2, 3, 4, 5)...)
				want = append(want, route("+", 15)...)
				g.Eventually(func() uint64 { return relay.Stats().Archive.Events }).Should(gomega.BeEquivalentTo(6), "the archive to get the difference")
			case !tc.crash:
				want = append(want, route("-", 1, 2, 3, 4, 5)...)
				want = append(want, route("+", 13, 14, 15)...)
				g.Eventually(func() uint64 { return relay.Stats().Archive.Events }).Should(gomega.BeEquivalentTo(8), "the archive to get the difference")
			}
			slices.Sort(want)
			if got := routeChanges(t, archiveTree(t, events)); !slices.Equal(got, want) {
				t.Errorf("archive's route changes %v, want %v", got, want)
			}
			// The new upstream's events follow the difference.
			em2.Emit(t, 1)
			g.Eventually(func() bool {
				return slices.Contains(routeChanges(t, archiveTree(t, events)), "+172.16.0.16/32")
			}).Should(gomega.BeTrue(), "the archive to follow the new upstream")
		})
	}
}

// archivePosition is where the archive under dir ends.
func archivePosition(t testing.TB, dir string) archive.Position {
	t.Helper()
	pos, err := archive.ReadPosition(archive.OSFS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

// savedAt is the position of the view saved in file, the zero Position
// when there is none.
func savedAt(t testing.TB, file string) archive.Position {
	t.Helper()
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return archive.Position{}
	}
	var sv savedView
	if err == nil {
		err = json.Unmarshal(data, &sv)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sv.Position
}
