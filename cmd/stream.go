package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/cli"
	"github.com/ospf-operator/ospf-operator/internal/history"
	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/stream"
)

// streamOptions are the flags of the Python ospf-stream-client, unchanged,
// plus the withdrawal hold-down.
type streamOptions struct {
	server        string
	wsListen      string
	outputs       fileOutputFlags
	holddown      time.Duration
	metricsListen string
	listen        listenerSecurity
}

// fileOutputFlags are the seed's flags for the stream's outputs other than
// WebSocket, shared by stream and relay.
type fileOutputFlags struct {
	eventsPathPrefix    string
	snapshotsPathPrefix string
	muteStdoutStream    bool
	retention           time.Duration
	compress            bool
}

// register adds the flags to f; eventsHelp describes --events-path-prefix.
func (o *fileOutputFlags) register(f *pflag.FlagSet, eventsHelp string) {
	f.StringVar(&o.eventsPathPrefix, "events-path-prefix", "", eventsHelp)
	f.StringVar(&o.snapshotsPathPrefix, "snapshots-path-prefix", "",
		"Write an LSDB snapshot every minute under this directory")
	f.BoolVar(&o.muteStdoutStream, "mute-stdout-stream", false,
		"Do not write the event stream to stdout")
	f.DurationVar(&o.retention, "retention", 0,
		"Remove hour files and minute snapshots older than this, e.g. 720h (0 keeps everything)")
	f.BoolVar(&o.compress, "compress-archive", false,
		"Gzip each hour file 2 hours after its hour ends (HH.jsonl.gz) and each minute snapshot 2 minutes after its minute (MM.json.gz); history reads both forms")
}

// archived reports whether any archive is written.
func (o *fileOutputFlags) archived() bool {
	return o.eventsPathPrefix != "" || o.snapshotsPathPrefix != ""
}

// history is the handler of the archive's history, nil when there is no
// archive.
func (o *fileOutputFlags) history() (http.Handler, error) {
	if !o.archived() {
		return nil, nil
	}
	h, err := history.New(history.Config{EventsDir: o.eventsPathPrefix, SnapshotsDir: o.snapshotsPathPrefix, Logger: slog.Default()})
	if err != nil {
		return nil, err
	}
	return history.Handler(h), nil
}

// janitor is what keeps the archive within --retention and compresses
// it, nil when neither is asked.
func (o *fileOutputFlags) janitor() (*archive.Janitor, error) {
	switch {
	case o.retention < 0:
		return nil, cli.Usage(fmt.Errorf("--retention %v: must not be negative", o.retention))
	case o.retention == 0 && !o.compress:
		return nil, nil
	case !o.archived():
		return nil, cli.Usage(errors.New("--retention and --compress-archive need --events-path-prefix or --snapshots-path-prefix"))
	}
	return archive.NewJanitor(archive.JanitorConfig{
		EventsDir:    o.eventsPathPrefix,
		SnapshotsDir: o.snapshotsPathPrefix,
		Retention:    o.retention,
		Compress:     o.compress,
		Logger:       slog.Default(),
	})
}

// archiveServices is the janitor (nil unless asked) and the history
// handler (nil without an archive) of the flags.
func (o *fileOutputFlags) archiveServices() (*archive.Janitor, http.Handler, error) {
	jan, err := o.janitor()
	if err != nil {
		return nil, nil, err
	}
	hist, err := o.history()
	if err != nil {
		return nil, nil, err
	}
	return jan, hist, nil
}

// finish ends a command whose main loop returned err: it cancels ctx,
// waits for the goroutines of wg and returns err, or else the cause that
// one of them cancelled ctx with.
func finish(ctx context.Context, cancel context.CancelCauseFunc, wg *sync.WaitGroup, err error) error {
	cancel(nil)
	wg.Wait()
	if err != nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return nil
}

func newStreamCommand() *cobra.Command {
	var opts streamOptions
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Follow the LSDB and print every change as one JSON event per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStream(cmd, &opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.server, "server", "localhost",
		"Address of the FRR OSPF API server (ospfd), HOST[:PORT]")
	f.StringVar(&opts.wsListen, "ws-listen", "",
		"Serve the event stream to WebSocket clients on ADDRESS:PORT")
	opts.outputs.register(f, "Write the event stream to hourly files under this directory")
	opts.listen.register(f)
	f.DurationVar(&opts.holddown, "holddown", 10*time.Second,
		"Delay the removal events of a withdrawn LSA by this long, dropping them if it returns unchanged (0 disables)")
	f.StringVar(&opts.metricsListen, "metrics-listen", "",
		"Serve Prometheus metrics on http://ADDRESS:PORT/metrics, and /healthz and /readyz (ready: synced with ospfd)")
	return cmd
}

func runStream(cmd *cobra.Command, opts *streamOptions) error {
	if opts.holddown < 0 {
		return fmt.Errorf("--holddown %v: must not be negative", opts.holddown)
	}
	jan, hist, err := opts.outputs.archiveServices()
	if err != nil {
		return err
	}
	tlsConfig, auth, err := opts.listen.build()
	if err != nil {
		return err
	}
	if (tlsConfig != nil || auth != nil) && opts.wsListen == "" {
		return cli.Usage(errors.New("--tls-cert-file, --tls-key-file and --bearer-token-file secure --ws-listen, which is not set"))
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db := lsdb.New(lsdb.Config{HoldDown: opts.holddown})
	sub, err := db.Feed().Subscribe(db.Feed().LastSeq())
	if err != nil {
		return err
	}
	metrics := mirror.NewMetrics(db)
	m := mirror.New(mirror.Config{Server: opts.server, DB: db, Logger: slog.Default(), Metrics: metrics})
	outputs, err := stream.NewOutputs(ctx, stream.OutputsConfig{
		Source:       db,
		WSListen:     opts.wsListen,
		EventsDir:    opts.outputs.eventsPathPrefix,
		SnapshotsDir: opts.outputs.snapshotsPathPrefix,
		Server:       stream.ServerConfig{Self: m.Self, History: hist},
		TLS:          tlsConfig,
		Guard:        auth.guardFunc(),
		Logger:       slog.Default(),
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	if opts.metricsListen != "" {
		srv, err := newMetricsServer(ctx, opts.metricsListen, metrics, m.Synced, &streamCollector{outputs: outputs.Stats, janitor: jan})
		if err != nil {
			return err
		}
		wg.Go(func() {
			if err := srv.serve(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Go(func() {
		if err := outputs.Run(ctx); err != nil {
			cancel(err)
		}
	})
	if jan != nil {
		wg.Go(func() { _ = jan.Run(ctx) })
	}
	if !opts.outputs.muteStdoutStream {
		wg.Go(func() {
			if err := stream.WriteLines(ctx, sub, cmd.OutOrStdout()); err != nil {
				cancel(err)
			}
		})
	}
	return finish(ctx, cancel, &wg, m.Run(ctx))
}
