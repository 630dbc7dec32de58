// Package httpserve runs an http.Server for as long as a context lives. The
// stream's WebSocket listener, the relay's listener and the commands'
// metrics listener all serve this way; it knows nothing of what they serve.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ShutdownTimeout is how long Serve lets requests in flight finish once
// its context is done. Hijacked connections (WebSocket clients) are not
// waited for: their handlers end them on the same context.
const ShutdownTimeout = 5 * time.Second

// Serve serves srv on ln until ctx is done, then shuts srv down and
// returns nil once the requests in flight have finished, or after
// ShutdownTimeout. If srv stops serving before that, it returns why.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	shut := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(shut)
		sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	err := srv.Serve(ln)
	if !stop() {
		<-shut // Serve returned at the start of the shutdown, not its end
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
