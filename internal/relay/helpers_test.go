package relay

import (
	"net"
	"net/http/httptest"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/stream"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// testUpstream is a stream.Server, a relay's upstream, running behind an
// httptest server until the test ends or stop.
type testUpstream struct {
	*stream.Server
	http *httptest.Server
	url  string // ws://host:port
	stop func(t testing.TB)
}

// startUpstream starts a server for cfg; wrap, when set, replaces its
// listener (to serve on the address of an upstream that went away).
func startUpstream(t testing.TB, cfg stream.ServerConfig, wrap func(net.Listener) net.Listener) *testUpstream {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = streamtest.Logger(t)
	}
	srv, err := stream.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := streamtest.Serve(t, srv, wrap)
	return &testUpstream{Server: srv, http: s.HTTP, url: s.URL, stop: s.Stop}
}
