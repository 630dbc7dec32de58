package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ospf-operator/ospf-operator/internal/httpserve"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
)

// metricsServer serves /metrics, /healthz and /readyz.
type metricsServer struct {
	ln  net.Listener
	srv *http.Server
}

// newMetricsServer listens on addr at once, so that a bad address is an
// error of the command rather than of a goroutine. extra are further
// collectors (the stream's).
func newMetricsServer(ctx context.Context, addr string, m *mirror.Metrics, ready func() bool, extra ...prometheus.Collector) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := m.Register(reg); err != nil {
		return nil, err
	}
	for _, c := range extra {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready() {
			http.Error(w, "not synced with ospfd", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	})
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	slog.Info("serving metrics", "addr", ln.Addr().String())
	return &metricsServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}, nil
}

// serve serves until ctx is done.
func (s *metricsServer) serve(ctx context.Context) error {
	if err := httpserve.Serve(ctx, s.srv, s.ln); err != nil {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}
