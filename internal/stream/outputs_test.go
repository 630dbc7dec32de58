package stream

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

func TestOutputsRunTogether(t *testing.T) {
	db := streamtest.NewDB(t, 1024)
	dir := t.TempDir()
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	em := &streamtest.Emitter{DB: db, Now: clock.Now}
	o, err := NewOutputs(context.Background(), OutputsConfig{
		Source:       db,
		WSListen:     "127.0.0.1:0",
		EventsDir:    dir + "/events",
		SnapshotsDir: dir + "/data/snapshots",
		Now:          clock.Now,
		Logger:       streamtest.Logger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Published before Run: the archive has it all the same.
	two := em.Emit(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	streamtest.NewWithT(t).Eventually(func() bool { return o.Stats().Server.LastSeq == two }).Should(gomega.BeTrue(), "the server to fan out the first events")
	c := streamtest.Dial(t, "ws://"+o.Addr().String()+"/")
	streamtest.NewWithT(t).Eventually(func() bool { return o.Stats().Server.Following == 1 }).Should(gomega.BeTrue(), "the client to follow")
	last := em.Emit(t, 3)
	got := streamtest.ReadN(t, c, 3)
	streamtest.SameLines(t, "WebSocket", got, streamtest.WantLines(t, db, two+1, last))
	streamtest.NewWithT(t).Eventually(func() bool { return o.Stats().Archive.Events == 5 }).Should(gomega.BeTrue(), "the archive")
	closed := make(chan websocket.CloseError, 1)
	go func() { closed <- streamtest.ReadClose(t, c) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ce := <-closed; ce.Code != websocket.StatusGoingAway {
		t.Errorf("client closed with %d %q, want 1001", ce.Code, ce.Reason)
	}
	streamtest.SameLines(t, "archive", streamtest.StreamLines(t, archive.HourPath(dir+"/events", clock.Now())), streamtest.FirstLines(t, db, 5))
	if o.Stats().Snapshots == nil {
		t.Error("no snapshot stats")
	}
}

func TestOutputsRejectABadListenAddress(t *testing.T) {
	_, err := NewOutputs(context.Background(), OutputsConfig{Source: streamtest.NewDB(t, 1), WSListen: "127.0.0.1:notaport", Logger: streamtest.Logger(t)})
	if err == nil || !strings.HasPrefix(err.Error(), "--ws-listen: ") {
		t.Fatalf("NewOutputs with a bad address: %v", err)
	}
}
