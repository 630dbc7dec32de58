// Package mirror keeps an lsdb.DB an exact copy of ospfd's link-state
// database over FRR's OSPF API: it connects, loads the whole database,
// follows every change, and when the session ends (ospfd restarted, went
// away or sent garbage) says so in one clear log line, reconnects with a
// capped backoff and resynchronises, publishing only the real differences.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

// Config configures a Mirror.
type Config struct {
	// Server is ospfd's API address, HOST[:PORT] (port 2607 by default).
	Server string
	// DB is the database kept in sync. Required.
	DB *lsdb.DB
	// Logger receives the session's log lines; slog.Default() when nil.
	Logger *slog.Logger
	// Metrics, when set, are kept up to date.
	Metrics *Metrics
	// MinBackoff and MaxBackoff bound the delay between reconnection
	// attempts, which doubles after each failure (with jitter) and starts
	// over once a session has synced. Defaults 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// MissingCheckInterval is how often, at most, the view is checked for
	// routers whose Router-LSA ospfd failed to deliver while changes flow.
	// Default 5s.
	MissingCheckInterval time.Duration
	// DialOptions are passed to ospfapi.Dial (timeouts, probes, filter).
	DialOptions []ospfapi.Option
	// OnSynced, when set, is called after each complete dump has been
	// applied (the first load and every resync).
	OnSynced func(SyncReport)
}

// SyncReport describes one applied dump.
type SyncReport struct {
	Server   string
	RouterID netip.Addr
	// Resync is false for the first load of the process.
	Resync bool
	// Result is what the database made of it.
	Result lsdb.SyncResult
	// Dump is what ospfd sent.
	Dump ospfapi.Dump
	// Missing are the routers referenced by others whose own Router-LSA
	// did not arrive (see lsdb.MissingRouter).
	Missing []lsdb.MissingRouter
}

// Mirror follows one ospfd.
type Mirror struct {
	cfg    Config
	log    *slog.Logger
	synced atomic.Bool
	// routerID is ospfd's router ID, once known.
	routerID atomic.Pointer[netip.Addr]
	// wake tells the expiry loop that the deadlines may have moved.
	wake chan struct{}

	mu          sync.Mutex
	lastMissing string // the missing-router report last logged
}

// New returns a Mirror of cfg.Server into cfg.DB. Run starts it.
func New(cfg Config) *Mirror {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(30*time.Second, cfg.MinBackoff)
	}
	if cfg.MissingCheckInterval <= 0 {
		cfg.MissingCheckInterval = 5 * time.Second
	}
	return &Mirror{
		cfg:  cfg,
		log:  cfg.Logger.With("server", cfg.Server),
		wake: make(chan struct{}, 1),
	}
}

// Synced reports whether a session with ospfd is up and its dump applied:
// the database is current.
func (m *Mirror) Synced() bool { return m.synced.Load() }

// RouterID is ospfd's router ID, once a dump has told it.
func (m *Mirror) RouterID() (netip.Addr, bool) {
	p := m.routerID.Load()
	if p == nil {
		return netip.Addr{}, false
	}
	return *p, true
}

// Self is RouterID without its flag: the zero Addr until a dump told it
// (the stream server's ServerConfig.Self).
func (m *Mirror) Self() netip.Addr {
	id, _ := m.RouterID()
	return id
}

// Run keeps the database in sync until ctx is done, then returns nil. It
// reconnects after every failure; it never gives up.
func (m *Mirror) Run(ctx context.Context) error {
	if m.cfg.DB == nil {
		return errors.New("mirror: no database")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Go(func() { m.expireLoop(ctx) })

	backoff := m.cfg.MinBackoff
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := m.session(ctx, attempt)
		m.setUp(false)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > m.cfg.MaxBackoff {
			// A session that lasted is a success: start over.
			backoff = m.cfg.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		m.log.Warn("OSPF API session ended; reconnecting", "err", err, "retry_in", wait.Round(time.Millisecond), "attempt", attempt)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, m.cfg.MaxBackoff)
	}
}

// session runs one session: connect, dump, follow.
func (m *Mirror) session(ctx context.Context, attempt int) error {
	opts := append([]ospfapi.Option{ospfapi.WithLogger(m.log)}, m.cfg.DialOptions...)
	conn, err := ospfapi.Dial(ctx, m.cfg.Server, opts...)
	if err != nil {
		m.countError("connect")
		return err
	}
	defer conn.Close()
	if mt := m.cfg.Metrics; mt != nil {
		mt.Sessions.Inc()
	}
	sp, ap := conn.LocalPorts()
	m.log.Info("connected to ospfd's OSPF API; loading the LSDB", "remote", conn.ServerAddr(), "sync_port", sp, "async_port", ap, "attempt", attempt)

	db := m.cfg.DB
	resync := db.Loaded()
	db.BeginSync()
	dumped := false
	h := ospfapi.Handlers{
		LSA: func(n *ospfapi.LSANotify) error {
			apply(db, m.log, n)
			if dumped {
				db.Commit()
				m.poke()
			}
			return nil
		},
		DumpDone: func(d ospfapi.Dump) error {
			dumped = true
			m.finishDump(d, resync)
			return nil
		},
		Other: func(msg ospfapi.Message) error {
			if rc, ok := msg.(*ospfapi.RouterIDChange); ok && dumped {
				m.log.Info("ospfd's router ID changed", "router_id", rc.RouterID)
				id := rc.RouterID
				m.routerID.Store(&id)
			} else {
				m.log.Debug("OSPF API message", "type", msg.MsgType())
			}
			return nil
		},
	}
	err = conn.Sync(ctx, h)
	if !dumped {
		// The dump did not complete: what arrived of it stays applied to
		// the held copy, and the next session's dump completes it.
		m.countError("sync")
	} else {
		m.countError("stream")
	}
	return err
}

// apply feeds one notification to the database, as arrived at n.Arrival
// (now when the decoder did not note it). A malformed LSA is logged and
// counted; it does not end the session (the rest of the stream is still
// framed correctly).
func apply(db *lsdb.DB, log *slog.Logger, n *ospfapi.LSANotify) {
	now := n.Arrival
	if now.IsZero() {
		now = time.Now()
	}
	var err error
	if n.Delete {
		err = db.Delete(n.Area, n.LSA, now)
	} else {
		err = db.Update(n.Area, n.LSA, now)
	}
	if err != nil {
		log.Warn("LSA rejected", "area", n.Area, "delete", n.Delete, "err", err)
	}
}

// finishDump completes a dump: the database publishes the differences,
// and missing Router-LSAs are reported.
func (m *Mirror) finishDump(d ospfapi.Dump, resync bool) {
	db := m.cfg.DB
	res := db.EndSync()
	id := d.RouterID
	m.routerID.Store(&id)
	rep := SyncReport{Server: m.cfg.Server, RouterID: d.RouterID, Resync: resync, Result: res, Dump: d}
	rep.Missing = db.MissingRouters(d.RouterID)
	m.reportMissing(rep.Missing, true)
	if mt := m.cfg.Metrics; mt != nil {
		mt.LoadSeconds.Set(d.Duration.Seconds())
		if resync {
			mt.Resyncs.Inc()
		}
	}
	if resync {
		m.log.Info("LSDB resynced", "lsas", res.LSAs, "withdrawn", res.Withdrawn, "events", res.Events, "took", d.Duration.Round(time.Microsecond), "router_id", d.RouterID)
	} else {
		m.log.Info("LSDB loaded", "lsas", res.LSAs, "took", d.Duration.Round(time.Microsecond), "bytes", d.Bytes, "router_id", d.RouterID)
	}
	m.setUp(true)
	m.poke()
	if m.cfg.OnSynced != nil {
		m.cfg.OnSynced(rep)
	}
}

// reportMissing logs the missing routers when the list changed (always
// after a dump) and sets the metric.
func (m *Mirror) reportMissing(missing []lsdb.MissingRouter, afterDump bool) {
	if mt := m.cfg.Metrics; mt != nil {
		mt.MissingRouters.Set(float64(len(missing)))
	}
	desc := FormatMissing(missing)
	m.mu.Lock()
	changed := desc != m.lastMissing
	m.lastMissing = desc
	m.mu.Unlock()
	switch {
	case len(missing) > 0 && (changed || afterDump):
		m.log.Warn("ospfd did not deliver the Router-LSA of routers that others reference; the published graph lacks their links (FRR drops OSPF API messages over 1,500 bytes, e.g. a Router-LSA with more than about 122 links)",
			"count", len(missing), "missing", desc)
	case len(missing) == 0 && changed:
		m.log.Info("every referenced router's Router-LSA is now present")
	}
}

// FormatMissing lists missing routers for a log line or a message.
func FormatMissing(missing []lsdb.MissingRouter) string {
	s := make([]string, len(missing))
	for i, r := range missing {
		s[i] = r.String()
	}
	return strings.Join(s, "; ")
}

func (m *Mirror) setUp(up bool) {
	m.synced.Store(up)
	if mt := m.cfg.Metrics; mt != nil {
		if up {
			mt.SessionUp.Set(1)
		} else {
			mt.SessionUp.Set(0)
		}
	}
}

func (m *Mirror) countError(phase string) {
	if mt := m.cfg.Metrics; mt != nil {
		mt.SessionErrors.WithLabelValues(phase).Inc()
	}
}

// poke wakes the expiry loop.
func (m *Mirror) poke() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// expireLoop publishes held-down withdrawals when they fall due, and
// rechecks for missing Router-LSAs while changes flow.
func (m *Mirror) expireLoop(ctx context.Context) {
	db := m.cfg.DB
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var lastCheck time.Time
	var checkedSeq uint64
	for {
		next, ok := db.NextDeadline()
		wait := time.Hour
		if ok {
			wait = max(time.Until(next), 0)
		}
		// Recheck missing routers after changes, at most every interval.
		seq := db.Feed().LastSeq()
		if seq != checkedSeq && db.Loaded() {
			if d := m.cfg.MissingCheckInterval - time.Since(lastCheck); d > 0 {
				wait = min(wait, d)
			} else {
				checkedSeq = seq
				lastCheck = time.Now()
				id, _ := m.RouterID()
				m.reportMissing(db.MissingRouters(id), false)
			}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
			db.Expire()
		}
	}
}

// Once connects to server, loads the whole database into db and returns
// the report, closing the session. It is the snapshot command's engine.
func Once(ctx context.Context, server string, db *lsdb.DB, opts ...ospfapi.Option) (SyncReport, error) {
	conn, err := ospfapi.Dial(ctx, server, opts...)
	if err != nil {
		return SyncReport{}, err
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rep SyncReport
	done := errors.New("dump complete")
	db.BeginSync()
	err = conn.Sync(ctx, ospfapi.Handlers{
		LSA: func(n *ospfapi.LSANotify) error {
			apply(db, slog.Default(), n)
			return nil
		},
		DumpDone: func(d ospfapi.Dump) error {
			rep = SyncReport{Server: server, RouterID: d.RouterID, Dump: d, Result: db.EndSync()}
			rep.Missing = db.MissingRouters(d.RouterID)
			return done
		},
	})
	if errors.Is(err, done) {
		return rep, nil
	}
	return rep, fmt.Errorf("load the LSDB from %s: %w", server, err)
}
