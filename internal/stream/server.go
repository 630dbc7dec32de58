package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// Source is what the publishers follow: a change feed and the view (and
// snapshot) it continues. *lsdb.DB is one. When a Source also has a Loaded() bool method
// (as *lsdb.DB does), snapshots are withheld until it reports true, so that
// nobody is handed the empty database of a process that has not synced yet.
type Source interface {
	Feed() *lsdb.Feed
	Snapshot() (*lsdb.Snapshot, uint64)
	View() *lsdb.View
}

type loadedReporter interface{ Loaded() bool }

func sourceLoaded(s Source) bool {
	if l, ok := s.(loadedReporter); ok {
		return l.Loaded()
	}
	return true
}

// ServerConfig configures a Server. Only Source is required.
type ServerConfig struct {
	Source Source
	// MaxClients caps the WebSocket connections; more are answered with
	// HTTP 503. Default 1024.
	MaxClients int
	// QueueLen is how many events a client may fall behind (published
	// but not yet written to its socket) before it is closed with
	// CloseTooSlow. The clients share one ring of up to twice that many
	// framed events (about 400 bytes each, in both encodings), so it
	// costs memory once, not per client; it should exceed the largest
	// burst the database publishes at once (a resync's differences), or
	// every client of the seed's stream is cut off by the burst. Default
	// 16384.
	QueueLen int
	// PingInterval is how often an idle-looking connection is pinged, and
	// PingTimeout how long the pong may take before the connection is
	// dropped. Defaults 30s and 15s; a negative PingInterval disables pings.
	PingInterval, PingTimeout time.Duration
	// WriteTimeout bounds one batch of writes to a client that stopped
	// reading. Default 10s.
	WriteTimeout time.Duration
	// Epoch names this server's sequence numbering (letters, digits, '.',
	// '-', '_'); random when empty.
	Epoch string
	// OriginPatterns restricts the Origin of browser clients (as
	// websocket.AcceptOptions.OriginPatterns does). Empty allows any
	// origin, as the seed does: the stream is public and read-only, and
	// the server keeps no cookies or credentials a foreign page could
	// abuse.
	OriginPatterns []string
	// NonWebSocket answers the plain HTTP requests to paths outside /v1/
	// (for a page about the feed). By default they are told to upgrade.
	NonWebSocket http.Handler
	// Self, when set, returns the router whose LSDB this is (invalid
	// while unknown): the default root of /v1/path and /v1/whatif, and
	// the "self" of /v1/view, from which a relay learns it.
	Self func() netip.Addr
	// History answers the questions about the past (IsHistoryRequest):
	// internal/history's Handler over the archive. Without it they are
	// answered 501.
	History http.Handler
	// Logger receives connection events and errors; slog.Default() if nil.
	Logger *slog.Logger
}

// Server serves the event stream to WebSocket clients and the current
// snapshot over HTTP (see the protocol comment in protocol.go). It is an
// http.Handler; Run fans the feed out and, when its context ends, closes
// every client.
type Server struct {
	cfg    ServerConfig
	log    *slog.Logger
	hub    *hub
	snap   docCache    // /v1/snapshot
	view   docCache    // /v1/view
	graphs graphCache  // /v1/path, /v1/whatif, /v1/snapshot?format=, /v1/layout
	layout layoutCache // /v1/layout

	ctx    context.Context // ends when Run returns: closes the clients
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	closed  bool
	clients sync.WaitGroup
	conns   atomic.Int64

	accepted, rejected, resnapshots, policy, pingTimeouts, messages atomic.Uint64
}

// ServerStats are a Server's counters.
type ServerStats struct {
	Clients     int    // connected WebSocket clients (catching up or following)
	Following   int    // clients following the live stream
	LastSeq     uint64 // sequence number of the newest event fanned out
	Accepted    uint64 // connections accepted since start
	Rejected    uint64 // connections refused by the cap or during shutdown
	TooSlow     uint64 // clients closed for falling behind
	Resnapshots uint64 // /v1/stream clients told to take a new snapshot
	Policy      uint64 // clients closed for sending data or flooding pings
	PingTimeout uint64 // clients dropped for not answering pings
	Messages    uint64 // messages written to clients
	HubResets   uint64 // times the fan-out fell out of the feed's window
}

// NewServer returns a server for cfg. It starts following the feed at its
// newest event.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Source == nil {
		return nil, errors.New("stream: ServerConfig.Source is nil")
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = 1024
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 16384
	}
	if cfg.PingInterval == 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = 15 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Epoch == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.Epoch = hex.EncodeToString(b[:])
	}
	if !ValidEpoch(cfg.Epoch) {
		return nil, fmt.Errorf("stream: epoch %q: want 1 to 64 letters, digits, '.', '-' or '_'", cfg.Epoch)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hub: newHub(cfg.Source.Feed(), cfg.QueueLen)}
	s.snap = docCache{feed: cfg.Source.Feed(), epoch: cfg.Epoch, key: "snapshot", render: func() (uint64, func([]byte) []byte) {
		snap, seq := cfg.Source.Snapshot()
		return seq, snap.AppendJSON
	}}
	s.view = docCache{feed: cfg.Source.Feed(), epoch: cfg.Epoch, key: "view", self: cfg.Self, render: func() (uint64, func([]byte) []byte) {
		v := cfg.Source.View()
		return v.Seq, v.AppendJSON
	}}
	s.ctx, s.cancel = context.WithCancelCause(context.Background())
	return s, nil
}

// Epoch is the name of this server's sequence numbering.
func (s *Server) Epoch() string { return s.cfg.Epoch }

// Run fans the change feed out to the clients until ctx is done, then
// closes every client (1001, going away) and waits for their handlers.
func (s *Server) Run(ctx context.Context) error {
	err := s.hub.run(ctx)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel(errHubStopped)
	s.clients.Wait()
	return err
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	return ServerStats{
		Clients:     int(s.conns.Load()),
		Following:   s.hub.numClients(),
		LastSeq:     s.hub.lastSeq(),
		Accepted:    s.accepted.Load(),
		Rejected:    s.rejected.Load(),
		TooSlow:     s.hub.kicked.Load(),
		Resnapshots: s.resnapshots.Load(),
		Policy:      s.policy.Load(),
		PingTimeout: s.pingTimeouts.Load(),
		Messages:    s.messages.Load(),
		HubResets:   s.hub.resets.Load(),
	}
}

// self is the router whose LSDB this is, invalid when not known.
func (s *Server) self() netip.Addr {
	if s.cfg.Self == nil {
		return netip.Addr{}
	}
	return s.cfg.Self()
}

// ServeHTTP routes /v1/snapshot (?format= for a graph export), /v1/view,
// /v1/path, /v1/whatif, /v1/layout, /v1/recent, /v1/stream, the history
// (/v1/events, ?at=) and the seed's stream.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if IsHistoryRequest(r) {
		ServeHistory(s.cfg.History, s.self(), w, r)
		return
	}
	switch {
	case r.URL.Path == "/v1/snapshot":
		if f := r.URL.Query().Get("format"); f != "" && f != "json" {
			s.serveExport(w, r, f)
			return
		}
		s.serveDoc(w, r, &s.snap)
	case r.URL.Path == "/v1/path":
		s.servePath(w, r)
	case r.URL.Path == "/v1/whatif":
		s.serveWhatIf(w, r)
	case r.URL.Path == "/v1/view":
		s.serveDoc(w, r, &s.view)
	case r.URL.Path == "/v1/layout":
		s.serveLayout(w, r)
	case r.URL.Path == "/v1/recent":
		s.serveRecent(w, r)
	case r.URL.Path == "/v1/stream":
		s.serveStream(w, r, true)
	case strings.HasPrefix(r.URL.Path, "/v1/"):
		http.NotFound(w, r)
	case !IsWebSocketUpgrade(r):
		if s.cfg.NonWebSocket != nil {
			s.cfg.NonWebSocket.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this is a WebSocket endpoint: connect with a WebSocket client "+
			"(or GET /v1/snapshot, or WebSocket /v1/stream?since=SEQ)", http.StatusUpgradeRequired)
	default:
		s.serveStream(w, r, false)
	}
}

// IsWebSocketUpgrade reports whether r asks to upgrade to WebSocket, as
// against a plain HTTP request.
func IsWebSocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "websocket") {
				return true
			}
		}
	}
	return false
}

// admit takes a connection slot, or answers 503.
func (s *Server) admit(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.rejected.Add(1)
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return false
	}
	if s.conns.Load() >= int64(s.cfg.MaxClients) {
		s.rejected.Add(1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, fmt.Sprintf("too many WebSocket clients (the cap is %d); try again later",
			s.cfg.MaxClients), http.StatusServiceUnavailable)
		return false
	}
	s.conns.Add(1)
	s.clients.Add(1)
	return true
}

func (s *Server) release() {
	s.conns.Add(-1)
	s.clients.Done()
}

// resnapshotError is why a since cannot be served.
type resnapshotError struct{ reason string }

func (e *resnapshotError) Error() string { return e.reason }

// parseSince reads the since and epoch parameters of /v1/stream: since 0
// means "from the next event".
func (s *Server) parseSince(r *http.Request) (since uint64, resume bool, err error) {
	q := r.URL.Query()
	if e := q.Get("epoch"); e != "" && e != s.cfg.Epoch {
		return 0, false, &resnapshotError{fmt.Sprintf("epoch %.20s is not this server's (%s): take /v1/snapshot", e, s.cfg.Epoch)}
	}
	v := q.Get("since")
	if v == "" {
		return 0, false, nil
	}
	since, perr := strconv.ParseUint(v, 10, 64)
	if perr != nil {
		return 0, false, fmt.Errorf("since=%.20q: not a sequence number", v)
	}
	return since, true, nil
}

// serveStream runs one WebSocket client: the seed's stream, or with
// envelope set, /v1/stream.
func (s *Server) serveStream(w http.ResponseWriter, r *http.Request, envelope bool) {
	var (
		since  uint64
		resume bool
		perr   error
	)
	if envelope {
		since, resume, perr = s.parseSince(r)
		var re *resnapshotError
		if perr != nil && !errors.As(perr, &re) {
			http.Error(w, perr.Error(), http.StatusBadRequest)
			return
		}
	}
	if !s.admit(w) {
		return
	}
	defer s.release()

	c := newClient()
	var (
		connCtx, cancel = context.WithCancelCause(s.ctx)
		flood           = newPingLimiter()
	)
	defer cancel(nil)
	opts := &websocket.AcceptOptions{
		CompressionMode: websocket.CompressionDisabled,
		OnPingReceived: func(context.Context, []byte) bool {
			if flood.allow() {
				return true
			}
			cancel(errPingFlood)
			return false
		},
	}
	if len(s.cfg.OriginPatterns) > 0 {
		opts.OriginPatterns = s.cfg.OriginPatterns
	} else {
		opts.InsecureSkipVerify = true
	}
	cw := &corkWriter{ResponseWriter: w}
	conn, err := websocket.Accept(cw, r, opts)
	if err == nil && cw.conn == nil {
		err = errors.New("the connection was not hijacked through corkWriter")
		_ = conn.CloseNow()
	}
	if err != nil {
		s.log.Debug("WebSocket upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	s.accepted.Add(1)
	log := s.log.With("remote", r.RemoteAddr, "path", r.URL.Path)
	log.Debug("WebSocket client connected")

	var aux sync.WaitGroup
	aux.Go(func() { s.readLoop(conn, cancel) })
	pingCtx, stopPings := context.WithCancel(context.Background())
	if s.cfg.PingInterval > 0 {
		aux.Go(func() { s.pingLoop(pingCtx, conn, cancel) })
	}

	stopInterrupt := context.AfterFunc(connCtx, cw.conn.interrupt)
	c.interrupt = cw.conn.interrupt
	err = perr
	if err == nil && resume {
		err = s.catchUp(connCtx, cw.conn, c, since)
	}
	if err == nil {
		err = s.follow(connCtx, cw.conn, c, envelope)
	}
	s.hub.leave(c)
	stopInterrupt()
	stopPings()
	s.closeConn(conn, err, log)
	aux.Wait()
}

// Errors that end a connection on the client's side.
var (
	errClientData   = errors.New("client sent a message")
	errPingFlood    = errors.New("client flooded pings")
	errPingTimeout  = errors.New("client did not answer a ping")
	errClientClosed = errors.New("client closed the connection")
)

// readLoop reads until the connection ends. The client has nothing to say:
// a data message is a policy violation. Control frames (pings, pongs,
// close) are handled inside Reader. Its context is never cancelled, since
// a cancelled read makes the library drop the connection before the close
// frame that explains why.
func (s *Server) readLoop(conn *websocket.Conn, cancel context.CancelCauseFunc) {
	conn.SetReadLimit(1024)
	_, _, err := conn.Reader(context.Background())
	if err == nil {
		cancel(errClientData)
		return
	}
	cancel(errClientClosed)
}

func (s *Server) pingLoop(ctx context.Context, conn *websocket.Conn, cancel context.CancelCauseFunc) {
	if err := PingUntilFailure(ctx, conn, s.cfg.PingInterval, s.cfg.PingTimeout); err != nil && ctx.Err() == nil {
		cancel(errPingTimeout)
	}
}

// PingUntilFailure pings conn every interval, each ping answered within
// timeout, until ctx is done (nil) or a ping fails (its error). It keeps
// the server's clients honest, and a relay's upstream.
func PingUntilFailure(ctx context.Context, conn *websocket.Conn, interval, timeout time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		pctx, done := context.WithTimeout(ctx, timeout)
		err := conn.Ping(pctx)
		done()
		if err != nil {
			return err
		}
	}
}

// catchUp sends the events after since that the hub's ring no longer
// holds, straight from the feed, then joins the hub right after them.
func (s *Server) catchUp(ctx context.Context, conn *corkConn, c *client, since uint64) error {
	feed := s.cfg.Source.Feed()
	if last := feed.LastSeq(); since > last {
		return &resnapshotError{fmt.Sprintf("since=%d is ahead of the newest event (%d): take /v1/snapshot", since, last)}
	}
	sub, err := feed.SubscribeAll(since)
	if err != nil {
		return &resnapshotError{fmt.Sprintf("since=%d has left the window of recent events: take /v1/snapshot", since)}
	}
	var (
		evs  []lsdb.Event
		ms   []message
		bufs net.Buffers
		fr   framer // this client's own: nobody else needs these frames
	)
	for {
		ok, err := s.hub.join(c, sub.Next())
		if ok || err != nil {
			return err
		}
		evs, err = sub.Read(ctx, evs[:0])
		if errors.Is(err, lsdb.ErrLagged) {
			return &resnapshotError{fmt.Sprintf("since=%d has left the window of recent events: take /v1/snapshot", since)}
		}
		if err != nil {
			return context.Cause(ctx)
		}
		ms = fr.appendMessages(ms[:0], evs)
		for i := 0; i < len(ms); {
			n, size := 0, 0
			for ; i+n < len(ms) && size < maxBatch; n++ {
				size += ms[i+n].env.end - ms[i+n].env.off
			}
			bufs = appendFrames(bufs[:0], ms[i:i+n], true)
			if err := s.write(ctx, conn, bufs, n, nil); err != nil {
				return err
			}
			i += n
		}
	}
}

// maxBatch is about the most bytes one write takes (it ends with the
// message that reaches it). A control frame the library writes meanwhile
// waits for the write, so that it cannot land inside a data frame: the
// batch must leave in much less than the library's 5 s control frame
// timeout even to a slow client.
const maxBatch = 64 << 10

// follow writes the hub's messages to the client until something ends the
// connection, and returns what did.
func (s *Server) follow(ctx context.Context, conn *corkConn, c *client, envelope bool) error {
	if c.next == 0 {
		if _, err := s.hub.join(c, 0); err != nil {
			return err
		}
	}
	var bufs net.Buffers
	for {
		var (
			n    int
			wait <-chan struct{}
			err  error
		)
		bufs, n, wait, err = s.hub.collect(c, bufs[:0], maxBatch, envelope)
		if err != nil {
			return err
		}
		if n == 0 {
			select {
			case <-wait:
			case <-c.kicked:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			continue
		}
		err = s.write(ctx, conn, bufs, n, c)
		clear(bufs) // the hub's chunks: let them go once the ring does
		if err != nil {
			return err
		}
	}
}

// write writes frames, n messages, to conn within WriteTimeout and
// records the progress in c. The library's own context-based timeout
// would cost a timer per message; a write deadline bounds the batch
// instead, and serveStream interrupts it when the connection's context
// ends or the hub drops c.
func (s *Server) write(ctx context.Context, conn *corkConn, frames net.Buffers, n int, c *client) error {
	if err := conn.writeFrames(time.Now().Add(s.cfg.WriteTimeout), frames); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		if c != nil {
			select {
			case <-c.kicked:
				return c.err
			default:
			}
		}
		return fmt.Errorf("write: %w", err)
	}
	if c != nil {
		c.sent.Store(c.next - 1)
	}
	s.messages.Add(uint64(n))
	return nil
}

// closeConn ends the connection with the status and reason that say why.
func (s *Server) closeConn(conn *websocket.Conn, why error, log *slog.Logger) {
	var (
		code   websocket.StatusCode
		reason string
		re     *resnapshotError
	)
	switch {
	case errors.As(why, &re):
		s.resnapshots.Add(1)
		code, reason = CloseResnapshot, re.reason
	case errors.Is(why, errTooSlow):
		code, reason = CloseTooSlow, fmt.Sprintf("too slow: fell more than %d events behind; reconnect (with since= on /v1/stream)", s.cfg.QueueLen)
	case errors.Is(why, errClientData):
		s.policy.Add(1)
		code, reason = websocket.StatusPolicyViolation, "this stream accepts no messages from clients"
	case errors.Is(why, errPingFlood):
		s.policy.Add(1)
		code, reason = websocket.StatusPolicyViolation, "too many pings"
	case errors.Is(why, errHubStopped):
		code, reason = websocket.StatusGoingAway, "server shutting down"
	case errors.Is(why, errHubLagged):
		code, reason = websocket.StatusTryAgainLater, "server fell behind its change feed: reconnect"
	case errors.Is(why, errPingTimeout):
		s.pingTimeouts.Add(1)
		log.Info("WebSocket client dropped", "reason", why)
		_ = conn.CloseNow()
		return
	case errors.Is(why, errClientClosed):
		log.Debug("WebSocket client left")
		_ = conn.CloseNow()
		return
	default:
		log.Info("WebSocket client dropped", "err", why)
		_ = conn.CloseNow()
		return
	}
	if len(reason) > 123 {
		reason = reason[:123]
	}
	log.Info("Closing WebSocket client", "code", int(code), "reason", reason)
	_ = conn.Close(code, reason)
}

// pingLimiter allows a burst of client pings and then a steady few per
// second: a browser or library keepalive stays far below it.
type pingLimiter struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

const (
	pingBurst = 16
	pingRate  = 2 // per second
)

func newPingLimiter() *pingLimiter { return &pingLimiter{tokens: pingBurst} }

func (l *pingLimiter) allow() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if !l.last.IsZero() {
		l.tokens = min(pingBurst, l.tokens+now.Sub(l.last).Seconds()*pingRate)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}
