package stream

import (
	"net"
	"net/http/httptest"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// testServer is a Server running behind an httptest server until the test
// ends or stop.
type testServer struct {
	*Server
	http *httptest.Server
	url  string // ws://host:port
	stop func(t testing.TB)
}

// startServer starts a Server for cfg, which logs to the test's log unless
// cfg has a Logger; wrap, when set, replaces its listener.
func startServer(t testing.TB, cfg ServerConfig, wrap func(net.Listener) net.Listener) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = streamtest.Logger(t)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := streamtest.Serve(t, srv, wrap)
	return &testServer{Server: srv, http: s.HTTP, url: s.URL, stop: s.Stop}
}
