package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/stream"
)

// streamOptions are the flags of the Python ospf-stream-client, unchanged,
// plus the withdrawal hold-down.
type streamOptions struct {
	server              string
	wsListen            string
	eventsPathPrefix    string
	snapshotsPathPrefix string
	muteStdoutStream    bool
	holddown            time.Duration
	metricsListen       string
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
	f.StringVar(&opts.eventsPathPrefix, "events-path-prefix", "",
		"Write the event stream to hourly files under this directory")
	f.StringVar(&opts.snapshotsPathPrefix, "snapshots-path-prefix", "",
		"Write an LSDB snapshot every minute under this directory")
	f.BoolVar(&opts.muteStdoutStream, "mute-stdout-stream", false,
		"Do not write the event stream to stdout")
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
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db := lsdb.New(lsdb.Config{HoldDown: opts.holddown})
	sub, err := db.Feed().Subscribe(db.Feed().LastSeq())
	if err != nil {
		return err
	}
	outputs, err := stream.NewOutputs(ctx, stream.OutputsConfig{
		Source:       db,
		WSListen:     opts.wsListen,
		EventsDir:    opts.eventsPathPrefix,
		SnapshotsDir: opts.snapshotsPathPrefix,
		Logger:       slog.Default(),
	})
	if err != nil {
		return err
	}
	metrics := mirror.NewMetrics(db)
	m := mirror.New(mirror.Config{Server: opts.server, DB: db, Logger: slog.Default(), Metrics: metrics})
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	if opts.metricsListen != "" {
		srv, err := newMetricsServer(ctx, opts.metricsListen, metrics, m.Synced, &streamCollector{outputs: outputs.Stats})
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
	if !opts.muteStdoutStream {
		wg.Go(func() {
			if err := stream.WriteLines(ctx, sub, cmd.OutOrStdout()); err != nil {
				cancel(err)
			}
		})
	}
	err = m.Run(ctx)
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
