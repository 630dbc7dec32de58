package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsServer: /readyz follows the session, /metrics has the LSA
// counts by area and type and the session state.
func TestMetricsServer(t *testing.T) {
	srv := nycServer(t, ospfapitest.Config{})
	db := lsdb.New(lsdb.Config{})
	met := mirror.NewMetrics(db)
	synced := make(chan struct{}, 1)
	m := mirror.New(mirror.Config{Server: srv.Addr(), DB: db, Metrics: met, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnSynced: func(mirror.SyncReport) { synced <- struct{}{} }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ms, err := newMetricsServer(ctx, "127.0.0.1:0", met, m.Synced)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ms.serve(ctx) }()
	base := "http://" + ms.ln.Addr().String()
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz before sync: %d, want 503", code)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
	go func() { _ = m.Run(ctx) }()
	<-synced
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("readyz after sync: %d, want 200", code)
	}
	_, body := get(t, base+"/metrics")
	for _, want := range []string{
		`ospf_operator_lsas{area="0.0.0.0",type="router"} 592`,
		`ospf_operator_ospfd_session_up 1`,
		`ospf_operator_lsdb_missing_router_lsas 0`,
		`ospf_operator_lsa_notifications_total{kind="update"} 1287`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	srv.Stop()
	// readyz turns 503 as soon as the session is gone.
	for deadline := time.Now().Add(10 * time.Second); m.Synced(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("still synced 10 s after ospfd went away")
		}
	}
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz with ospfd gone: %d, want 503", code)
	}
}
