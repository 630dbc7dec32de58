package stream

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/httpserve"
)

// OutputsConfig selects the outputs of `ospf-operator stream` besides
// stdout, by its flags. Empty fields are outputs left off.
type OutputsConfig struct {
	Source Source
	// WSListen is --ws-listen: HOST:PORT of the WebSocket server.
	WSListen string
	// EventsDir is --events-path-prefix: the root of the hourly archive.
	EventsDir string
	// SnapshotsDir is --snapshots-path-prefix: the root of the minute
	// snapshots.
	SnapshotsDir string
	// Server tunes the WebSocket server; its Source and Logger are
	// filled in, and NonWebSocket defaults to the live page.
	Server ServerConfig
	// TLS, when set, serves HTTPS and WSS only on WSListen.
	TLS *tls.Config
	// Guard, when set, wraps the server's handler (a bearer token check).
	Guard func(http.Handler) http.Handler
	// Now is the clock of the archive and the snapshots; time.Now when
	// nil.
	Now    func() time.Time
	Logger *slog.Logger
}

// Outputs runs the configured outputs together.
type Outputs struct {
	src     Source
	log     *slog.Logger
	ln      net.Listener
	http    *http.Server
	server  *Server
	archive *archive.Archive
	after   uint64 // where the archive starts
	snaps   *archive.SnapshotWriter
}

// OutputsStats are the counters of the outputs that run; nil for the
// others.
type OutputsStats struct {
	Server    *ServerStats
	Archive   *archive.ArchiveStats
	Snapshots *archive.SnapshotStats
}

// NewOutputs prepares the outputs of cfg. It listens at once, so that a
// bad address is an error of the command rather than of a goroutine, and
// takes the feed's position, so that the archive misses nothing published
// before Run.
func NewOutputs(ctx context.Context, cfg OutputsConfig) (*Outputs, error) {
	if cfg.Source == nil {
		return nil, errors.New("stream: OutputsConfig.Source is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	o := &Outputs{src: cfg.Source, log: cfg.Logger}
	var err error
	if cfg.EventsDir != "" {
		o.after = cfg.Source.Feed().LastSeq()
		if o.archive, err = archive.NewArchive(archive.ArchiveConfig{Dir: cfg.EventsDir, Now: cfg.Now, Logger: cfg.Logger}); err != nil {
			return nil, err
		}
	}
	if cfg.SnapshotsDir != "" {
		if o.snaps, err = archive.NewSnapshotWriter(archive.SnapshotConfig{Dir: cfg.SnapshotsDir, Source: cfg.Source, Now: cfg.Now, Logger: cfg.Logger}); err != nil {
			return nil, err
		}
	}
	if cfg.WSListen != "" {
		sc := cfg.Server
		sc.Source, sc.Logger = cfg.Source, cfg.Logger
		if sc.NonWebSocket == nil {
			sc.NonWebSocket = PageHandler()
		}
		if o.server, err = NewServer(sc); err != nil {
			return nil, err
		}
		var lc net.ListenConfig
		if o.ln, err = lc.Listen(ctx, "tcp", cfg.WSListen); err != nil {
			return nil, fmt.Errorf("--ws-listen: %w", err)
		}
		var h http.Handler = o.server
		if cfg.Guard != nil {
			h = cfg.Guard(h)
		}
		scheme := "ws"
		if cfg.TLS != nil {
			o.ln, scheme = tls.NewListener(o.ln, cfg.TLS), "wss"
		}
		o.http = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		cfg.Logger.Info("Serving the event stream over WebSocket", "addr", o.ln.Addr().String(), "scheme", scheme,
			"bearer_token", cfg.Guard != nil, "epoch", o.server.Epoch())
	}
	return o, nil
}

// Addr is the WebSocket server's address, nil when it does not run.
func (o *Outputs) Addr() net.Addr {
	if o.ln == nil {
		return nil
	}
	return o.ln.Addr()
}

// Run runs the outputs until ctx is done. Write errors of the archive and
// the snapshots are logged and counted, never returned; an error is a
// failure of the server or of the feed.
func (o *Outputs) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	fail := func(err error) {
		if err != nil {
			cancel(err)
		}
	}
	if o.archive != nil {
		wg.Go(func() { fail(o.archive.Run(ctx, o.src.Feed(), o.after)) })
	}
	if o.snaps != nil {
		wg.Go(func() { fail(o.snaps.Run(ctx)) })
	}
	if o.server != nil {
		wg.Go(func() { fail(o.server.Run(ctx)) })
		wg.Go(func() {
			if err := httpserve.Serve(ctx, o.http, o.ln); err != nil {
				fail(fmt.Errorf("WebSocket server: %w", err))
			}
		})
	}
	<-ctx.Done()
	wg.Wait()
	if err := context.Cause(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// Stats returns the counters of the outputs that run.
func (o *Outputs) Stats() OutputsStats {
	var st OutputsStats
	if o.server != nil {
		s := o.server.Stats()
		st.Server = &s
	}
	if o.archive != nil {
		a := o.archive.Stats()
		st.Archive = &a
	}
	if o.snaps != nil {
		s := o.snaps.Stats()
		st.Snapshots = &s
	}
	return st
}
