package relay

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/history"
	"github.com/ospf-operator/ospf-operator/internal/stream"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

func historyOf(t testing.TB, events string) http.Handler {
	t.Helper()
	h, err := history.New(history.Config{EventsDir: events, Logger: streamtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return history.Handler(h)
}

// The relay answers /v1/events from what it archived, byte for byte as
// the upstream's events, and does so even before it reaches an upstream.
func TestRelayServesItsArchivesEvents(t *testing.T) {
	db := streamtest.LoadFixture(t)
	up := startUpstream(t, stream.ServerConfig{Source: db}, nil)
	em := &streamtest.Emitter{DB: db}
	dir := t.TempDir()
	relay := startRelay(t, Config{Upstream: up.url, EventsDir: dir, Server: stream.ServerConfig{History: historyOf(t, dir)}})
	first := db.Feed().LastSeq()
	last := em.Emit(t, 20)
	streamtest.NewWithT(t).Eventually(func() uint64 { return relay.Stats().Archive.Events }).Should(gomega.BeEquivalentTo(20), "the relay to archive the events")
	to := strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10)
	resp, err := http.Get(relay.http + "/v1/events?from=0&to=" + to)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("/v1/events: %d %s", resp.StatusCode, b.String())
	}
	streamtest.SameLines(t, "/v1/events of the relay", strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"), streamtest.WantLines(t, db, first+1, last))

	down, err := New(Config{Upstream: "ws://127.0.0.1:1", EventsDir: dir, Server: stream.ServerConfig{History: historyOf(t, dir)}, Logger: streamtest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	down.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/events?from=0&to="+to, nil))
	if rec.Code != 200 || strings.Count(rec.Body.String(), "\n") != 20 {
		t.Errorf("before the upstream: %d %q, want the 20 events", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	down.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/snapshot?at=0", nil))
	if rec.Code != http.StatusNotImplemented {
		t.Errorf("/v1/snapshot?at= without snapshots: %d, want 501", rec.Code)
	}
}
