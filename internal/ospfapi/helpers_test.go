package ospfapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/ospf"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t testing.TB, addr string, opts ...ospfapi.Option) *ospfapi.Conn {
	t.Helper()
	c, err := ospfapi.Dial(testCtx(t), addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// event is one thing Sync delivered, copied out of its buffers.
type event struct {
	kind string // "update", "delete", "dump" or "other"
	seq  uint32
	lsa  []byte
	area string
	self bool
	dump ospfapi.Dump
	msg  ospfapi.Message
}

// session runs Sync in the background and records what it delivers.
type session struct {
	c      *ospfapi.Conn
	events chan event
	done   chan error
	cancel context.CancelFunc
}

func startSync(t testing.TB, c *ospfapi.Conn) *session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{c: c, events: make(chan event, 1<<16), done: make(chan error, 1), cancel: cancel}
	h := ospfapi.Handlers{
		LSA: func(n *ospfapi.LSANotify) error {
			k := "update"
			if n.Delete {
				k = "delete"
			}
			s.events <- event{kind: k, seq: n.Seq, lsa: bytes.Clone(n.LSA), area: n.Area.String(), self: n.SelfOriginated}
			return nil
		},
		DumpDone: func(d ospfapi.Dump) error {
			s.events <- event{kind: "dump", dump: d}
			return nil
		},
		Other: func(m ospfapi.Message) error {
			s.events <- event{kind: "other", seq: m.MsgSeq(), msg: m}
			return nil
		},
	}
	go func() { s.done <- c.Sync(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			s.done <- err
		case <-time.After(10 * time.Second):
			t.Error("Sync did not return after cancel")
		}
	})
	return s
}

// next returns the next event or fails the test after a timeout.
func (s *session) next(t testing.TB) event {
	t.Helper()
	select {
	case e := <-s.events:
		return e
	case err := <-s.done:
		s.done <- err
		t.Fatalf("Sync ended while waiting for an event: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return event{}
}

// untilDump collects the LSAs of the dump up to its end.
func (s *session) untilDump(t testing.TB) ([]event, ospfapi.Dump) {
	t.Helper()
	var evs []event
	for {
		e := s.next(t)
		if e.kind == "dump" {
			return evs, e.dump
		}
		evs = append(evs, e)
	}
}

// wait returns Sync's error, failing the test after a timeout.
func (s *session) wait(t testing.TB) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Sync did not end within 10s")
	}
	return nil
}

// logRecorder is a slog handler that keeps messages.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }
func (l *logRecorder) has(msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Contains(l.msgs, msg)
}

func slogNew(h slog.Handler) *slog.Logger { return slog.New(h) }

// eventually waits until cond holds, for at most 10 seconds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(10*time.Second).WithPolling(2*time.Millisecond).
		Should(gomega.BeTrue(), "waiting until %s", what)
}

func marshalLSA(al ospfapitest.AreaLSA) ([]byte, error) { return ospf.Marshal(al.LSA) }
