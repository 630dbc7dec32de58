package streamtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Service is what the publishers' servers (stream.Server, relay.Relay)
// have in common: an HTTP handler, and a loop that runs until its context
// ends. Taking it as an interface keeps this package free of the
// publishers, so that their internal tests can use Serve.
type Service interface {
	http.Handler
	Run(ctx context.Context) error
}

// Served is a Service running behind an httptest server.
type Served struct {
	HTTP *httptest.Server
	URL  string // the WebSocket base, ws://host:port

	name   string
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// Serve starts svc's Run and serves svc over HTTP until the test ends;
// then, or on Stop, it ends Run and fails the test if Run returned an
// error. wrap, when set, replaces the listener before the server starts
// (to fail accepts, or to serve on the address of a server that went
// away).
func Serve(t testing.TB, svc Service, wrap func(net.Listener) net.Listener) *Served {
	t.Helper()
	hs := httptest.NewUnstartedServer(svc)
	if wrap != nil {
		hs.Listener = wrap(hs.Listener)
	}
	hs.Start()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Served{
		HTTP:   hs,
		URL:    "ws" + strings.TrimPrefix(hs.URL, "http"),
		name:   fmt.Sprintf("%T", svc),
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() { s.done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		s.Stop(t)
		hs.Close()
	})
	return s
}

// Stop ends Run, which closes every client, and fails the test if Run
// returned an error. Later calls do nothing. The HTTP server stays up
// until the test ends, or until HTTP.Close.
func (s *Served) Stop(t testing.TB) {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		if err := <-s.done; err != nil {
			t.Errorf("%s Run: %v", s.name, err)
		}
	})
}
