package stream

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestOutputsRunTogether(t *testing.T) {
	db := newDB(t, 1024)
	em := &emitter{db: db}
	dir := t.TempDir()
	o, err := NewOutputs(context.Background(), OutputsConfig{
		Source:       db,
		WSListen:     "127.0.0.1:0",
		EventsDir:    dir + "/events",
		SnapshotsDir: dir + "/data/snapshots",
		Logger:       testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Published before Run: the archive has it all the same.
	two := em.emit(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	waitFor(t, "the server to fan out the first events", func() bool { return o.Stats().Server.LastSeq == two })
	c := dial(t, "ws://"+o.Addr().String()+"/")
	waitFor(t, "the client to follow", func() bool { return o.Stats().Server.Following == 1 })
	last := em.emit(t, 3)
	got := readN(t, c, 3)
	sameLines(t, "WebSocket", got, wantLines(t, db, two+1, last))
	waitFor(t, "the archive", func() bool { return o.Stats().Archive.Events == 5 })
	closed := make(chan websocket.CloseError, 1)
	go func() { closed <- readClose(t, c) }()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ce := <-closed; ce.Code != websocket.StatusGoingAway {
		t.Errorf("client closed with %d %q, want 1001", ce.Code, ce.Reason)
	}
	sameLines(t, "archive", archiveLines(t, HourPath(dir+"/events", time.Now())), firstLines(t, db, 5))
	if o.Stats().Snapshots == nil {
		t.Error("no snapshot stats")
	}
}

func TestOutputsRejectABadListenAddress(t *testing.T) {
	_, err := NewOutputs(context.Background(), OutputsConfig{Source: newDB(t, 1), WSListen: "127.0.0.1:notaport", Logger: testLogger(t)})
	if err == nil || !strings.HasPrefix(err.Error(), "--ws-listen: ") {
		t.Fatalf("NewOutputs with a bad address: %v", err)
	}
}
