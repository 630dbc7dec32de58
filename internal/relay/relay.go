package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/stream"
)

// Config configures a Relay. Only Upstream is required.
type Config struct {
	// Upstream is the base URL of the upstream's stream listener,
	// ws://HOST:PORT or wss://HOST:PORT (`stream --ws-listen`, the
	// agent's loopback listener, or another relay).
	Upstream string
	// EventsDir is --events-path-prefix: the root of the hourly archive.
	// The relay keeps its position in it, in archive.PositionFile, so that it
	// resumes after a restart where its archive ends.
	EventsDir string
	// SnapshotsDir is --snapshots-path-prefix: the root of the minute
	// snapshots.
	SnapshotsDir string
	// Stdout, when set, receives the event stream as JSON lines.
	Stdout io.Writer
	// Window is how many recent events the relay keeps for its clients
	// to resume from. Default 65536.
	Window int
	// Backfill is how many events before the upstream's snapshot a
	// starting relay asks for, so that its clients can resume across its
	// restart from where they were. Default 4096.
	Backfill int
	// Server tunes the relay's WebSocket server; its Source, Epoch and
	// Logger are filled in, NonWebSocket defaults to the live page, and
	// Self to the router the upstream names in its /v1/view (Relay.Self).
	Server stream.ServerConfig
	// MinBackoff and MaxBackoff bound the wait between reconnects
	// (doubling, with jitter). Defaults 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// PingInterval is how often the upstream is pinged, and PingTimeout
	// how long its pong may take. Defaults 30s and 15s.
	PingInterval, PingTimeout time.Duration
	// VerifyInterval is how often the relay compares the view it rebuilt
	// from the upstream's state records with the upstream's own and, where
	// they differ, takes the upstream's and counts a correction. The
	// records carry the whole state, so this is a check that should never
	// find anything. Default 5m; negative disables.
	VerifyInterval time.Duration
	// CheckpointInterval is how often, while the archive grows, the relay
	// saves its view where the archive ends (ViewFile), as it does when it
	// stops cleanly: a relay that is killed instead (SIGKILL, out of
	// memory, the node's power) can then still emit the difference to an
	// upstream that restarted with a new numbering meanwhile, from the
	// view and the events archived after it. Default 1m; negative saves
	// only at a clean stop.
	CheckpointInterval time.Duration
	// HTTPClient fetches the upstream's snapshot; a client with a 60s
	// timeout when nil.
	HTTPClient *http.Client
	// Logger receives the relay's log; slog.Default() if nil.
	Logger *slog.Logger
}

// ViewFile is the file, next to PositionFile, that holds the relay's view
// as it was where the archive ended when the relay last stopped cleanly,
// or at its last checkpoint (CheckpointInterval): if the upstream's
// numbering changes while the relay is down, the relay emits the
// difference between it, with the events archived after it, and the
// upstream's new view, so that the archive misses nothing.
const ViewFile = ".relay-view.json"

// Relay follows an upstream's /v1/snapshot and /v1/stream and serves them
// again, under the upstream's epoch and sequence numbers, with the same
// archive, snapshots and live page as `stream` (see doc.go).
//
// It keeps what it serves in a generation: the upstream's epoch, a
// replica of the upstream's view (lsdb.Replica) rebuilt from its /v1/view
// and the state records after it, and a feed of the upstream's events and
// records numbered as the upstream numbers them. While the upstream keeps its
// numbering, a lost connection is resumed with since= where the relay
// stopped. When it cannot be (the upstream restarted with a new epoch, or
// the relay fell out of its window), the relay takes a new snapshot,
// emits the difference to its archive and stdout, and serves a new
// generation: its /v1/stream clients are told to resnapshot (4001) as the
// upstream's would be, and the clients of the seed's stream reconnect.
type Relay struct {
	cfg      Config
	log      *slog.Logger
	upstream *url.URL // ws or wss, path without a trailing slash
	page     http.Handler

	out     *lsdb.Feed // what the archive and stdout follow, numbered by the relay
	stdout  *lsdb.Subscription
	archive *archive.Archive
	snaps   *archive.SnapshotWriter

	gen atomic.Pointer[relayGen] // the generation served, nil before the first
	cur *relayGen                // the generation followed (only the follow loop touches it)

	// start is the position recorded by an earlier run's archive; saved,
	// when not nil, is a view the archive held (ViewFile), and savedAfter
	// the events archived after it: the archive ends with saved and
	// savedAfter.
	start      archive.Position
	saved      *lsdb.View
	savedAfter []lsdb.Event

	mu          sync.Mutex
	segs        []segment // out's numbering to the upstream's, for the position file
	archivedSeq uint64    // out's sequence number of the archive's last event
	lastEvent   uint64    // out's sequence number of its last event (not record)
	// viewGen's view accounts for out's events up to viewSeq: set once a
	// generation is loaded, and as it publishes (take); a resnapshot's
	// difference events are ahead of it until the next generation is.
	viewGen *relayGen
	viewSeq uint64

	connected                               atomic.Bool
	self                                    atomic.Pointer[netip.Addr] // the upstream's router, once it named it
	connects, losses, resnapshots, received atomic.Uint64
	positionErrors, verified, corrections   atomic.Uint64
	checkpoints, checkpointErrors           atomic.Uint64
	lastCheckpoint                          atomic.Int64 // Unix ms
}

// segment maps a run of out's sequence numbers to the upstream's: from
// first on, out's events are the upstream's from upFirst on, or, for the
// difference events of a resnapshot (diff), none of them, and the
// position is before until the last, after from it on.
type segment struct {
	first   uint64
	epoch   string
	upFirst uint64
	diff    bool
	last    uint64
	before  archive.Position
	after   archive.Position
}

// Stats are a Relay's counters.
type Stats struct {
	Connected   bool   // following the upstream now
	Epoch       string // the upstream epoch served
	LastSeq     uint64 // the newest sequence number served
	Connects    uint64 // upstream stream connections made
	Losses      uint64 // upstream connections lost
	Resnapshots uint64 // snapshots taken after the first
	Received    uint64 // events received from the upstream (state records not counted)
	// Verified counts the comparisons of the relay's view with the
	// upstream's, and Corrections the times the relay's view differed
	// from the upstream's and was replaced by it (see VerifyInterval).
	Verified, Corrections uint64
	// PositionErrors counts failed writes of the position file.
	PositionErrors uint64
	// Checkpoints counts the views saved where the archive ends (at
	// CheckpointInterval and at a clean stop), CheckpointErrors those
	// whose writing failed, and LastCheckpoint is when the last was saved
	// (zero before the first).
	Checkpoints, CheckpointErrors uint64
	LastCheckpoint                time.Time
	Server                        *stream.ServerStats
	Archive                       *archive.ArchiveStats
	Snapshots                     *archive.SnapshotStats
}

// New prepares a relay. It reads the position an earlier run left in
// the archive, but contacts nobody before Run.
func New(cfg Config) (*Relay, error) {
	u, err := url.Parse(cfg.Upstream)
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || u.Host == "" {
		return nil, fmt.Errorf("upstream %q: want ws://HOST:PORT or wss://HOST:PORT", cfg.Upstream)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	if cfg.Window <= 0 {
		cfg.Window = 1 << 16
	}
	if cfg.Backfill <= 0 {
		cfg.Backfill = 4096
	}
	cfg.Backfill = min(cfg.Backfill, cfg.Window)
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 15 * time.Second
	}
	if cfg.VerifyInterval == 0 {
		cfg.VerifyInterval = 5 * time.Minute
	}
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	r := &Relay{cfg: cfg, log: cfg.Logger.With("upstream", u.String()), upstream: u, out: lsdb.NewFeed(cfg.Window)}
	r.page = cfg.Server.NonWebSocket
	if r.page == nil {
		r.page = stream.PageHandler()
	}
	if cfg.Stdout != nil {
		r.stdout, _ = r.out.Subscribe(0)
	}
	if cfg.EventsDir != "" {
		if r.start, err = archive.ReadPosition(archive.OSFS{}, cfg.EventsDir); err != nil {
			return nil, err
		}
		if r.start.Epoch != "" && !stream.ValidEpoch(r.start.Epoch) {
			return nil, fmt.Errorf("relay position %s: %w", filepath.Join(cfg.EventsDir, archive.PositionFile), archive.ErrNotPosition)
		}
		if r.start.Epoch != "" {
			r.log.Info("Resuming where the archive ends", "epoch", r.start.Epoch, "seq", r.start.Seq)
		}
		r.saved, r.savedAfter = r.takeSavedView()
		if r.archive, err = archive.NewArchive(archive.ArchiveConfig{Dir: cfg.EventsDir, Logger: cfg.Logger, Written: r.archived}); err != nil {
			return nil, err
		}
	}
	if cfg.SnapshotsDir != "" {
		if r.snaps, err = archive.NewSnapshotWriter(archive.SnapshotConfig{Dir: cfg.SnapshotsDir, Source: r, Logger: cfg.Logger}); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Run follows the upstream and runs the outputs until ctx is done. Lost
// upstreams are reconnected, never returned as errors.
func (r *Relay) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	fail := func(err error) {
		if err != nil {
			cancel(err)
		}
	}
	// The archive stops after the follow loop, so that it writes all that
	// was published.
	actx, stopArchive := context.WithCancel(context.WithoutCancel(ctx))
	defer stopArchive()
	if r.archive != nil {
		wg.Go(func() { fail(r.archive.Run(actx, r.out, 0)) })
	}
	if r.stdout != nil {
		wg.Go(func() { fail(stream.WriteLines(ctx, r.stdout, r.cfg.Stdout)) })
	}
	if r.snaps != nil {
		wg.Go(func() { fail(r.snaps.Run(ctx)) })
	}
	if r.cfg.VerifyInterval > 0 {
		wg.Go(func() { r.verifyLoop(ctx) })
	}
	if r.archive != nil && r.cfg.CheckpointInterval > 0 {
		wg.Go(func() { r.checkpointLoop(ctx) })
	}
	r.follow(ctx)
	if g := r.gen.Swap(nil); g != nil {
		g.stop()
	}
	if r.cur != nil {
		r.cur.stop()
	}
	stopArchive()
	cancel(nil)
	wg.Wait()
	if r.archive != nil {
		_, _ = r.saveView(true)
	}
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Self is the router whose LSDB the upstream mirrors, as the upstream's
// /v1/view last named it ("self"; invalid until it has): the default root
// of the relay's /v1/path and /v1/whatif, and the "self" of its own
// /v1/view, so that a relay of a relay learns it too. The relay reads the
// upstream's view when it starts following it, on every new snapshot,
// and every VerifyInterval, sooner while the upstream does not know its
// router yet (selfRetry); a view without "self" leaves the last one known.
func (r *Relay) Self() netip.Addr {
	if p := r.self.Load(); p != nil {
		return *p
	}
	return netip.Addr{}
}

// learnSelf records the router an upstream view names.
func (r *Relay) learnSelf(a netip.Addr) {
	if !a.IsValid() {
		return
	}
	if old := r.self.Swap(&a); old == nil || *old != a {
		r.log.Info("The upstream mirrors the LSDB of router", "router_id", a)
	}
}

// Ready reports whether the relay follows the upstream and serves it.
func (r *Relay) Ready() bool { return r.connected.Load() && r.gen.Load() != nil }

// Stats returns the relay's counters and those of its outputs.
func (r *Relay) Stats() Stats {
	st := Stats{
		Connected:        r.Ready(),
		Connects:         r.connects.Load(),
		Losses:           r.losses.Load(),
		Resnapshots:      r.resnapshots.Load(),
		Received:         r.received.Load(),
		Verified:         r.verified.Load(),
		Corrections:      r.corrections.Load(),
		PositionErrors:   r.positionErrors.Load(),
		Checkpoints:      r.checkpoints.Load(),
		CheckpointErrors: r.checkpointErrors.Load(),
	}
	if ms := r.lastCheckpoint.Load(); ms != 0 {
		st.LastCheckpoint = time.UnixMilli(ms)
	}
	if g := r.gen.Load(); g != nil {
		st.Epoch, st.LastSeq = g.epoch, g.feed.LastSeq()
		s := g.server.Stats()
		st.Server = &s
	}
	if r.archive != nil {
		a := r.archive.Stats()
		st.Archive = &a
	}
	if r.snaps != nil {
		s := r.snaps.Stats()
		st.Snapshots = &s
	}
	return st
}

// ServeHTTP serves /healthz, /readyz (ready: following the upstream), the
// history of its archive (Config.Server.History) even before it reaches
// its upstream, and everything the generation's Server serves (see
// protocol.go).
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch req.URL.Path {
	case "/healthz":
		_, _ = io.WriteString(w, "ok\n")
		return
	case "/readyz":
		if !r.Ready() {
			http.Error(w, "not following the upstream", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if stream.IsHistoryRequest(req) { // from the archive, upstream or not
		stream.ServeHistory(r.cfg.Server.History, r.Self(), w, req)
		return
	}
	if g := r.gen.Load(); g != nil {
		g.server.ServeHTTP(w, req)
		return
	}
	if !strings.HasPrefix(req.URL.Path, "/v1/") && !stream.IsWebSocketUpgrade(req) {
		r.page.ServeHTTP(w, req)
		return
	}
	w.Header().Set("Retry-After", "5")
	http.Error(w, "the relay has not reached its upstream yet: try again shortly", http.StatusServiceUnavailable)
}

// Snapshot and Loaded make the relay the archive.SnapshotWriter's source.
func (r *Relay) Snapshot() (*lsdb.Snapshot, uint64) {
	if g := r.gen.Load(); g != nil {
		return g.Snapshot()
	}
	return &lsdb.Snapshot{Areas: map[string]*lsdb.AreaSnapshot{}}, 0
}

// Loaded reports whether the relay has a snapshot to serve.
func (r *Relay) Loaded() bool { return r.gen.Load() != nil }

// relayGen is one generation: what the relay serves of one stretch of an
// upstream's numbering. It is the Source of its Server.
type relayGen struct {
	epoch   string
	feed    *lsdb.Feed
	snapSeq uint64 // the upstream snapshot's seq: loaded once the feed reaches it
	outFrom uint64 // events after it go to out as well
	server  *stream.Server

	mu      sync.Mutex // the replica, and publishing, so that Snapshot is consistent
	replica *lsdb.Replica
	outSeg  bool // a segment for this generation's events in out exists

	cancel context.CancelFunc
	done   chan struct{}
}

func (g *relayGen) Feed() *lsdb.Feed { return g.feed }

func (g *relayGen) Snapshot() (*lsdb.Snapshot, uint64) {
	v := g.View()
	return v.Snapshot(), v.Seq
}

func (g *relayGen) View() *lsdb.View {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.replica.View(time.Now())
}

func (g *relayGen) Loaded() bool { return g.feed.LastSeq() >= g.snapSeq }

// stop ends the generation's server, which closes its clients.
func (g *relayGen) stop() {
	if g.cancel != nil {
		g.cancel()
		<-g.done
		g.cancel = nil
	}
}

// install makes g the generation served, and stops the one before.
func (r *Relay) install(g *relayGen) error {
	sc := r.cfg.Server
	sc.Source, sc.Epoch, sc.Logger = g, g.epoch, r.cfg.Logger
	if sc.NonWebSocket == nil {
		sc.NonWebSocket = r.page
	}
	if sc.Self == nil {
		sc.Self = r.Self
	}
	srv, err := stream.NewServer(sc)
	if err != nil {
		return err
	}
	g.server = srv
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel, g.done = cancel, make(chan struct{})
	go func() {
		defer close(g.done)
		if err := srv.Run(ctx); err != nil {
			r.log.Error("Relay server stopped", "err", err)
		}
	}()
	if old := r.gen.Swap(g); old != nil && old != g {
		old.stop()
	}
	r.log.Info("Serving the upstream's stream", "epoch", g.epoch, "seq", g.feed.LastSeq())
	return nil
}

// follow keeps a session with the upstream until ctx is done.
func (r *Relay) follow(ctx context.Context) {
	backoff := r.cfg.MinBackoff
	lost := false
	for ctx.Err() == nil {
		streamed, err := r.session(ctx, func() {
			if lost {
				r.log.Info("Following the upstream again")
				lost = false
			}
		})
		r.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		if streamed {
			backoff = r.cfg.MinBackoff
		}
		if !lost {
			r.losses.Add(1)
			r.log.Warn("Lost the upstream; reconnecting with backoff", "err", err)
			lost = true
		} else {
			r.log.Debug("Upstream still unreachable", "err", err)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, r.cfg.MaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// selfRetry is how soon the relay reads the upstream's view again while
// the upstream does not know its router yet (an agent that has not synced
// with ospfd): doubling from it up to VerifyInterval.
const selfRetry = 2 * time.Second

// verifyLoop runs verify every VerifyInterval until ctx is done, and
// sooner while the upstream's router is unknown, to learn it.
func (r *Relay) verifyLoop(ctx context.Context) {
	retry := selfRetry
	for {
		wait := r.cfg.VerifyInterval
		if r.self.Load() == nil {
			wait = min(wait, retry)
			retry = min(2*retry, r.cfg.VerifyInterval)
		} else {
			retry = selfRetry
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if g := r.gen.Load(); g != nil && g.Loaded() {
			if err := r.verify(ctx, g); err != nil && ctx.Err() == nil {
				r.log.Debug("Could not compare the relay's snapshot with the upstream's", "err", err)
			}
		}
	}
}

// verify compares g's view with the upstream's, brought to g's position
// by the changes after it that g's feed still holds, and takes the
// upstream's when they differ. It emits nothing, and should never find a
// difference: the state records carry the whole state. An upstream in
// another epoch, or a view that g's feed cannot bring to its position, is
// left to the next round (the follow loop handles a new epoch).
func (r *Relay) verify(ctx context.Context, g *relayGen) error {
	doc, err := r.fetchView(ctx)
	if err != nil {
		return err
	}
	if doc.Epoch != g.epoch {
		return nil
	}
	g.mu.Lock() // the feed grows only under g.mu (take): it stands still here
	defer g.mu.Unlock()
	last := g.feed.LastSeq()
	if doc.Seq < g.snapSeq || doc.Seq > last {
		return nil
	}
	fresh := lsdb.NewReplica(doc.View)
	if doc.Seq < last {
		sub, err := g.feed.SubscribeAll(doc.Seq)
		if err != nil {
			return nil // the changes after the view left the window
		}
		evs, err := sub.Read(ctx, nil)
		if err != nil {
			return err
		}
		if err := fresh.Apply(evs...); err != nil {
			return fmt.Errorf("upstream view at %d and the changes after it disagree: %w", doc.Seq, err)
		}
	}
	now := time.Now()
	have, want := g.replica.View(now).AppendJSON(nil), fresh.View(now).AppendJSON(nil)
	r.verified.Add(1)
	if string(have) == string(want) {
		return nil
	}
	g.replica = fresh
	r.corrections.Add(1)
	r.log.Warn("The relay's view differed from the upstream's; took the upstream's",
		"epoch", g.epoch, "seq", last)
	return nil
}

// errResnapshot ends a stream that cannot continue the generation.
type errResnapshot struct{ why string }

func (e *errResnapshot) Error() string { return e.why }

// session connects to the upstream once and follows it until the
// connection ends; streamed reports whether the stream got going.
func (r *Relay) session(ctx context.Context, connected func()) (streamed bool, err error) {
	var re *errResnapshot
	if g := r.cur; g != nil {
		streamed, err = r.stream(ctx, g, g.feed.LastSeq(), connected)
		if !errors.As(err, &re) {
			return streamed, err
		}
		r.log.Info("Taking a new snapshot of the upstream", "reason", err)
	}
	doc, err := r.fetchView(ctx)
	if err != nil {
		return streamed, err
	}
	outFrom, candidates := r.plan(doc)
	for i, since := range candidates {
		g := &relayGen{epoch: doc.Epoch, feed: lsdb.NewFeedAt(r.cfg.Window, since), snapSeq: doc.Seq, outFrom: max(outFrom, since), replica: lsdb.NewReplica(doc.View)}
		if r.cur != nil && r.cur != r.gen.Load() {
			r.cur.stop()
		}
		r.cur = g
		if g.Loaded() { // out has what g's view has: the archive's end, or a difference
			r.mu.Lock()
			r.viewGen, r.viewSeq = g, r.lastEvent
			r.mu.Unlock()
		}
		s, err := r.stream(ctx, g, since, connected)
		streamed = streamed || s
		if !errors.As(err, &re) || g.feed.LastSeq() > since || i == len(candidates)-1 {
			return streamed, err
		}
		if since < outFrom {
			continue
		}
		r.log.Error("The upstream no longer holds the events after the archive's end; they are missing from it",
			"epoch", doc.Epoch, "after", outFrom, "until", doc.Seq)
		outFrom = doc.Seq
	}
	return streamed, nil
}

// plan decides, for a new view of the upstream, from which sequence
// number on the relay's out feed takes the upstream's events, and from
// which positions (the earliest first) to ask for the stream. On a
// resnapshot it first emits the difference from the previous generation.
func (r *Relay) plan(doc *upstreamView) (outFrom uint64, candidates []uint64) {
	if old := r.cur; old != nil {
		r.resnapshots.Add(1)
		now := time.Now()
		diffs := lsdb.DiffViews(old.View(), doc.View, now)
		if !old.Loaded() {
			r.log.Error("The relay lost its place before it caught up with its snapshot; the archive misses events",
				"epoch", old.epoch, "after", old.feed.LastSeq(), "until", old.snapSeq)
		}
		r.publishDiff(diffs, archive.Position{Epoch: doc.Epoch, Seq: doc.Seq})
		r.log.Info("Emitted the difference from the previous snapshot", "events", len(diffs), "epoch", doc.Epoch, "seq", doc.Seq)
		return doc.Seq, []uint64{doc.Seq}
	}
	outFrom = doc.Seq
	saved, after := r.saved, r.savedAfter
	r.saved, r.savedAfter = nil, nil
	switch {
	case r.start.Epoch == doc.Epoch && r.start.Seq <= doc.Seq:
		outFrom = r.start.Seq
	case r.start.Epoch != "" && saved != nil:
		r.resnapshots.Add(1)
		var diffs []lsdb.Event
		if len(after) == 0 {
			diffs = lsdb.DiffViews(saved, doc.View, time.Now())
		} else {
			diffs = lsdb.DiffViewsAfter(saved, after, doc.View, time.Now())
		}
		r.publishDiff(diffs, archive.Position{Epoch: doc.Epoch, Seq: doc.Seq})
		r.log.Info("The upstream's numbering changed while the relay was down; emitted the difference from the view saved where the archive ends (with the events archived after it)",
			"events", len(diffs), "archived_after_save", len(after), "archive_epoch", r.start.Epoch, "archive_seq", r.start.Seq, "epoch", doc.Epoch, "seq", doc.Seq)
		return doc.Seq, []uint64{doc.Seq}
	case r.start.Epoch != "":
		r.log.Warn("The upstream's numbering changed while the relay was down, and no view of the archive's end was saved (the relay did not stop cleanly, and wrote no checkpoint); the archive misses the changes between its end and the upstream's view",
			"archive_epoch", r.start.Epoch, "archive_seq", r.start.Seq, "epoch", doc.Epoch, "seq", doc.Seq)
	}
	back := doc.Seq - min(doc.Seq, uint64(r.cfg.Backfill))
	for _, s := range []uint64{min(back, outFrom), outFrom, doc.Seq} {
		if len(candidates) == 0 || candidates[len(candidates)-1] != s {
			candidates = append(candidates, s)
		}
	}
	return outFrom, candidates
}

// publishDiff sends the difference events of a resnapshot to out.
func (r *Relay) publishDiff(diffs []lsdb.Event, after archive.Position) {
	r.mu.Lock()
	defer r.mu.Unlock()
	before := r.lastPositionLocked()
	if len(diffs) == 0 {
		r.segs = append(r.segs, segment{first: r.out.LastSeq() + 1, epoch: after.Epoch, upFirst: after.Seq + 1})
		return
	}
	first := r.out.LastSeq() + 1
	r.out.Publish(diffs)
	r.lastEvent = r.out.LastSeq()
	r.segs = append(r.segs, segment{first: first, diff: true, last: r.out.LastSeq(), before: before, after: after})
}

// lastPositionLocked is the upstream position of out's newest event.
func (r *Relay) lastPositionLocked() archive.Position {
	if len(r.segs) == 0 {
		return r.start
	}
	return r.positionLocked(r.out.LastSeq())
}

func (r *Relay) positionLocked(seq uint64) archive.Position {
	for i := len(r.segs) - 1; i >= 0; i-- {
		s := &r.segs[i]
		if s.first > seq {
			continue
		}
		switch {
		case !s.diff:
			return archive.Position{Epoch: s.epoch, Seq: s.upFirst + (seq - s.first)}
		case seq >= s.last:
			return s.after
		default:
			return s.before
		}
	}
	return r.start
}

// archived records the archive's progress in the position file: after a
// write, the position of last; before the archive appends to a file the
// record does not name yet (last nil), the position archived so far.
func (r *Relay) archived(last *lsdb.Event, files map[string]int64) {
	r.mu.Lock()
	if last != nil {
		r.archivedSeq = last.Seq
	}
	pos := r.positionLocked(r.archivedSeq)
	// Segments wholly before the one of the last event archived are done with.
	for len(r.segs) > 1 && r.segs[1].first <= r.archivedSeq {
		r.segs = r.segs[1:]
	}
	r.mu.Unlock()
	if pos.Epoch == "" {
		return
	}
	if err := archive.WritePosition(archive.OSFS{}, r.cfg.EventsDir, pos, files); err != nil {
		if r.positionErrors.Add(1) == 1 {
			r.log.Error("Writing the relay's position file failed", "err", err)
		}
	}
}

// stream follows /v1/stream from since into g until the connection ends.
func (r *Relay) stream(ctx context.Context, g *relayGen, since uint64, connected func()) (streamed bool, err error) {
	u := *r.upstream
	u.Path += "/v1/stream"
	u.RawQuery = url.Values{"since": {strconv.FormatUint(since, 10)}, "epoch": {g.epoch}}.Encode()
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	conn, resp, err := websocket.Dial(dctx, u.String(), &websocket.DialOptions{HTTPClient: r.cfg.HTTPClient})
	cancel()
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		return false, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	defer func() { _ = conn.CloseNow() }()
	conn.SetReadLimit(maxEnvelope)
	r.connects.Add(1)
	if g.Loaded() {
		if g != r.gen.Load() {
			if err := r.install(g); err != nil {
				return false, err
			}
		}
		r.connected.Store(true)
		connected()
	}

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	go r.pingLoop(sctx, conn)
	for {
		_, p, err := conn.Read(ctx)
		if err != nil {
			switch code := websocket.CloseStatus(err); {
			case code == stream.CloseResnapshot:
				var ce websocket.CloseError
				errors.As(err, &ce)
				return streamed, &errResnapshot{"upstream: " + ce.Reason}
			case ctx.Err() != nil:
				return streamed, ctx.Err()
			}
			return streamed, fmt.Errorf("upstream stream: %w", err)
		}
		streamed = true
		ev, err := lsdb.ParseEnvelope(p)
		if err != nil {
			return streamed, fmt.Errorf("upstream stream: %w", err)
		}
		if err := r.take(g, ev); err != nil {
			return streamed, err
		}
		if !r.connected.Load() && g.Loaded() {
			if g != r.gen.Load() {
				if err := r.install(g); err != nil {
					return streamed, err
				}
			}
			r.connected.Store(true)
			connected()
		}
	}
}

// maxEnvelope bounds an upstream message: a state record carries a
// router's every route, which for a router that redistributes tens of
// thousands of them is megabytes.
const maxEnvelope = 256 << 20

// take applies and publishes one upstream event or state record.
func (r *Relay) take(g *relayGen, ev lsdb.Event) error {
	if !ev.IsState() {
		r.received.Add(1)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if want := g.feed.LastSeq() + 1; ev.Seq != want {
		return &errResnapshot{fmt.Sprintf("upstream sent seq %d, want %d", ev.Seq, want)}
	}
	if ev.Seq > g.snapSeq {
		if err := g.replica.Apply(ev); err != nil {
			return &errResnapshot{fmt.Sprintf("seq %d: %v", ev.Seq, err)}
		}
	}
	useq := ev.Seq
	g.feed.Publish([]lsdb.Event{ev})
	if loaded := g.Loaded(); useq > g.outFrom || loaded {
		r.mu.Lock()
		if useq > g.outFrom {
			if !g.outSeg {
				r.segs = append(r.segs, segment{first: r.out.LastSeq() + 1, epoch: g.epoch, upFirst: useq})
				g.outSeg = true
			}
			r.out.Publish([]lsdb.Event{ev})
			if !ev.IsState() {
				r.lastEvent = r.out.LastSeq()
			}
		}
		if loaded {
			r.viewGen, r.viewSeq = g, r.lastEvent
		}
		r.mu.Unlock()
	}
	return nil
}

func (r *Relay) pingLoop(ctx context.Context, conn *websocket.Conn) {
	if err := stream.PingUntilFailure(ctx, conn, r.cfg.PingInterval, r.cfg.PingTimeout); err != nil && ctx.Err() == nil {
		r.log.Debug("Upstream did not answer a ping", "err", err)
		_ = conn.CloseNow()
	}
}

// upstreamView is the upstream's /v1/view document.
type upstreamView struct {
	Epoch string
	Seq   uint64
	View  *lsdb.View
}

func (r *Relay) fetchView(ctx context.Context) (*upstreamView, error) {
	u := *r.upstream
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	u.Path += "/v1/view"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("upstream view: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		return nil, fmt.Errorf("upstream view: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("upstream view: %w", err)
	}
	var doc struct {
		Epoch string          `json:"epoch"`
		Seq   *uint64         `json:"seq"`
		Self  string          `json:"self"`
		View  json.RawMessage `json:"view"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("upstream view: %w", err)
	}
	if !stream.ValidEpoch(doc.Epoch) || doc.Seq == nil || len(doc.View) == 0 {
		return nil, errors.New(`upstream view: want {"epoch": E, "seq": N, "view": {...}}`)
	}
	v, err := lsdb.ParseView(doc.View)
	if err != nil {
		return nil, fmt.Errorf("upstream view: %w", err)
	}
	if v.Seq != *doc.Seq {
		return nil, fmt.Errorf("upstream view: the document is at %d, its view at %d", *doc.Seq, v.Seq)
	}
	var self netip.Addr
	if doc.Self != "" {
		if self, err = netip.ParseAddr(doc.Self); err != nil || !self.Is4() {
			return nil, fmt.Errorf("upstream view: self %.40q: not a router ID", doc.Self)
		}
	}
	r.learnSelf(self)
	return &upstreamView{Epoch: doc.Epoch, Seq: v.Seq, View: v}, nil
}
