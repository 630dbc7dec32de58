package streamtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fakeService answers every request with "ok" and runs until its context
// ends, then returns err.
type fakeService struct {
	err     error
	started chan struct{}
	ended   chan struct{}
}

func newFakeService(err error) *fakeService {
	return &fakeService{err: err, started: make(chan struct{}), ended: make(chan struct{})}
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	_, _ = io.WriteString(w, "ok")
}

func (f *fakeService) Run(ctx context.Context) error {
	close(f.started)
	<-ctx.Done()
	close(f.ended)
	return f.err
}

// recorder is a testing.TB that keeps what Serve reports and registers,
// so that a failure Serve reports can be checked rather than fail this test.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }

func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

func get(t *testing.T, url string) (string, error) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func waitClosed(t *testing.T, ch chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

func TestServeRunsAndStops(t *testing.T) {
	rec := &recorder{TB: t}
	svc := newFakeService(nil)
	s := Serve(rec, svc, nil)
	waitClosed(t, svc.started, "Run starting")
	if body, err := get(t, s.HTTP.URL+"/"); err != nil || body != "ok" {
		t.Fatalf("GET: %q, %v; want the service's answer", body, err)
	}
	if want := "ws" + strings.TrimPrefix(s.HTTP.URL, "http"); s.URL != want || !strings.HasPrefix(s.URL, "ws://") {
		t.Errorf("URL %q, want %q", s.URL, want)
	}
	select {
	case <-svc.ended:
		t.Fatal("Run ended before Stop")
	default:
	}
	s.Stop(rec)
	waitClosed(t, svc.ended, "Run ending on Stop")
	s.Stop(rec) // a second Stop, and the cleanup's, must not block or report
	if body, err := get(t, s.HTTP.URL+"/"); err != nil || body != "ok" {
		t.Errorf("GET after Stop: %q, %v; the HTTP server stays up until the test ends", body, err)
	}
	rec.runCleanups()
	if _, err := get(t, s.HTTP.URL+"/"); err == nil {
		t.Error("the HTTP server still answers after the test's cleanup")
	}
	if len(rec.errs) > 0 {
		t.Errorf("reported %q, want nothing", rec.errs)
	}
}

func TestServeStopsRunWhenTheTestEnds(t *testing.T) {
	rec := &recorder{TB: t}
	svc := newFakeService(nil)
	Serve(rec, svc, nil)
	waitClosed(t, svc.started, "Run starting")
	rec.runCleanups()
	waitClosed(t, svc.ended, "Run ending at the test's end")
}

func TestServeReportsRunsError(t *testing.T) {
	rec := &recorder{TB: t}
	svc := newFakeService(errors.New("lost the database"))
	s := Serve(rec, svc, nil)
	s.Stop(rec)
	rec.runCleanups()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "lost the database") || !strings.Contains(rec.errs[0], "fakeService") {
		t.Errorf("reported %q, want one error naming the service and Run's error", rec.errs)
	}
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	accepted chan struct{}
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted <- struct{}{}
	}
	return c, err
}

func TestServeWrapsTheListener(t *testing.T) {
	var wrapped *countingListener
	s := Serve(t, newFakeService(nil), func(l net.Listener) net.Listener {
		wrapped = &countingListener{Listener: l, accepted: make(chan struct{}, 10)}
		return wrapped
	})
	if wrapped == nil {
		t.Fatal("wrap was not called")
	}
	if s.HTTP.Listener != net.Listener(wrapped) {
		t.Fatal("the server does not use the wrapped listener")
	}
	if _, err := get(t, s.HTTP.URL+"/"); err != nil {
		t.Fatal(err)
	}
	if len(wrapped.accepted) == 0 {
		t.Error("the request did not come through the wrapped listener")
	}
}
