package relay

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/stream"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// testUpstream runs a stream.Server, a relay's upstream, behind an
// httptest server until the test ends or stop.
type testUpstream struct {
	*stream.Server
	http   *httptest.Server
	url    string // ws://host:port
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
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
	hs := httptest.NewUnstartedServer(srv)
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	up := &testUpstream{Server: srv, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http"), cancel: cancel, done: make(chan error, 1)}
	go func() { up.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		up.stop(t)
		hs.Close()
	})
	return up
}

// stop ends Run, which closes every client, and checks its error.
func (up *testUpstream) stop(t testing.TB) {
	t.Helper()
	up.once.Do(func() {
		up.cancel()
		if err := <-up.done; err != nil {
			t.Errorf("upstream Run: %v", err)
		}
	})
}
