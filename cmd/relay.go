package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/ospf-operator/ospf-operator/internal/cli"
	"github.com/ospf-operator/ospf-operator/internal/httpserve"
	"github.com/ospf-operator/ospf-operator/internal/relay"
	"github.com/ospf-operator/ospf-operator/internal/stream"
)

// relayOptions are the relay's flags: the stream's outputs, fed by an
// upstream stream listener instead of ospfd.
type relayOptions struct {
	upstream   string
	wsListen   string
	checkpoint time.Duration
	outputs    fileOutputFlags
	listen     listenerSecurity
	up         upstreamSecurity
}

func newRelayCommand() *cobra.Command {
	var opts relayOptions
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Follow another stream listener's /v1/stream and serve it again, with the archive and snapshots",
		Long: "relay follows the /v1/snapshot and /v1/stream of an upstream stream listener (the agent's,\n" +
			"or `stream --ws-listen`) and serves them again on --ws-listen under the upstream's epoch and\n" +
			"sequence numbers, with the seed's stream on /, the live page, /healthz, /readyz (ready:\n" +
			"following the upstream) and /metrics. It resumes where it stopped after a restart of\n" +
			"either side.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRelay(cmd, &opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.upstream, "upstream", "ws://127.0.0.1:9622",
		"Base URL of the upstream stream listener, ws://HOST:PORT")
	f.StringVar(&opts.wsListen, "ws-listen", ":9623",
		"Serve the stream, the live page, /healthz, /readyz and /metrics on ADDRESS:PORT")
	opts.outputs.register(f, "Write the event stream to hourly files under this directory (and the relay's position in it)")
	f.DurationVar(&opts.checkpoint, "checkpoint-interval", time.Minute,
		"While the archive grows, save the relay's view where it ends this often (0: only at a clean stop), so that a relay killed without its grace period still archives the changes made while it was down")
	opts.listen.register(f)
	opts.up.register(f)
	return cmd
}

func runRelay(cmd *cobra.Command, opts *relayOptions) error {
	if opts.wsListen == "" {
		return errors.New("--ws-listen: an ADDRESS:PORT is needed")
	}
	if opts.checkpoint < 0 {
		return cli.Usage(fmt.Errorf("--checkpoint-interval %v: must not be negative", opts.checkpoint))
	}
	jan, hist, err := opts.outputs.archiveServices()
	if err != nil {
		return err
	}
	tlsConfig, auth, err := opts.listen.build()
	if err != nil {
		return err
	}
	upstreamClient, err := opts.up.client()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg := relay.Config{
		Upstream:           opts.upstream,
		EventsDir:          opts.outputs.eventsPathPrefix,
		SnapshotsDir:       opts.outputs.snapshotsPathPrefix,
		Server:             stream.ServerConfig{History: hist},
		HTTPClient:         upstreamClient,
		CheckpointInterval: checkpointInterval(opts.checkpoint),
		Logger:             slog.Default(),
	}
	if !opts.outputs.muteStdoutStream {
		cfg.Stdout = cmd.OutOrStdout()
	}
	rel, err := relay.New(cfg)
	if err != nil {
		return fmt.Errorf("--upstream: %w", err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&streamCollector{outputs: func() stream.OutputsStats {
			st := rel.Stats()
			return stream.OutputsStats{Server: st.Server, Archive: st.Archive, Snapshots: st.Snapshots}
		}, relay: rel.Stats, janitor: jan})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", rel)
	handler := auth.guard(mux)

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.wsListen)
	if err != nil {
		return fmt.Errorf("--ws-listen: %w", err)
	}
	scheme := "ws"
	if tlsConfig != nil {
		ln, scheme = tls.NewListener(ln, tlsConfig), "wss"
	}
	slog.Info("Relay listening", "addr", ln.Addr().String(), "scheme", scheme, "bearer_token", auth != nil, "upstream", opts.upstream)
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := httpserve.Serve(ctx, srv, ln); err != nil {
			cancel(fmt.Errorf("relay server: %w", err))
		}
	})
	if jan != nil {
		wg.Go(func() { _ = jan.Run(ctx) })
	}
	return finish(ctx, cancel, &wg, rel.Run(ctx))
}

// checkpointInterval is relay.Config's CheckpointInterval for the flag's
// value: 0 (only at a clean stop) is the Config's negative.
func checkpointInterval(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
