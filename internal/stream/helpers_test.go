package stream

import (
	"context"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// testServer runs a Server behind an httptest server until the test ends.
type testServer struct {
	*Server
	http   *httptest.Server
	url    string // ws://host:port
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startServer(t testing.TB, cfg ServerConfig, wrap func(net.Listener) net.Listener) *testServer {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = streamtest.Logger(t)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, http: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http"), cancel: cancel, done: make(chan error, 1)}
	go func() { ts.done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		ts.stop(t)
		hs.Close()
	})
	return ts
}

// stop ends Run, which closes every client, and checks its error.
func (ts *testServer) stop(t testing.TB) {
	t.Helper()
	ts.once.Do(func() {
		ts.cancel()
		if err := <-ts.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
