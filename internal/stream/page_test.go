package stream

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/stream/pagetest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

func TestPageHandlerServesTheSelfContainedPage(t *testing.T) {
	db := streamtest.NewDB(t, 16)
	ts := startServer(t, ServerConfig{Source: db, NonWebSocket: PageHandler()}, nil)
	for _, path := range []string{"/", "/live", "/index.html"} {
		resp, err := http.Get(ts.http.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %s %s, want the page", path, resp.Status, resp.Header.Get("Content-Type"))
		}
	}
	// Nothing from elsewhere: no CDN, no internet.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).Find(page); m != nil {
		t.Errorf("the page loads something from outside: %s", m)
	}
	resp, err := http.Post(ts.http.URL+"/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %s, want 405", resp.Status)
	}
}

func TestLivePageInChromium(t *testing.T) {
	chromium := pagetest.Chromium(t)
	clk := &streamtest.Clock{}
	clk.Set(time.Now())
	db := lsdb.New(lsdb.Config{Now: clk.Now})
	db.BeginSync()
	db.EndSync()
	em := &streamtest.Emitter{DB: db}
	em.Emit(t, 3) // before the page: in its snapshot
	ts := startServer(t, ServerConfig{Source: db, NonWebSocket: PageHandler()}, nil)
	page := pagetest.Open(t, chromium, ts.http.URL+"/")
	page.Wait("the page to follow the stream", `document.getElementById("status").className`, "ok")
	page.Wait("the snapshot's counters", `document.getElementById("n-externals").textContent`, "3")
	if got := page.Eval(`document.getElementById("n-routers").textContent`); got != "3" {
		t.Errorf("routers counter %q, want 3 (each route has a router of its own)", got)
	}
	// The events from before the page opened are listed at once, before
	// any change comes (issue 12), oldest at the bottom.
	page.Wait("the recent events", `Array.from(document.querySelectorAll("#feed tr.before td.detail")).map(e => e.textContent).join(",")`,
		"external 172.16.0.3/32 metric 20,external 172.16.0.2/32 metric 20,external 172.16.0.1/32 metric 20")
	if got := page.Eval(`getComputedStyle(document.getElementById("empty")).display`); got != "none" {
		t.Errorf("the 'no change yet' note is shown (%s) beside recent events", got)
	}

	// Two routes come, one goes.
	em.Emit(t, 2)
	raw := withdrawRoute(t, 5)
	if err := db.Update(streamtest.Area0, raw, clk.Now()); err != nil {
		t.Fatal(err)
	}
	db.Commit()
	clk.Set(clk.Now().Add(2 * time.Second)) // past the reinstall window
	db.Expire()
	page.Wait("three new rows", `String(document.querySelectorAll("#feed tr:not(.before)").length)`, "3")
	page.Wait("the counters to follow", `document.getElementById("n-externals").textContent`, "4")
	if got := page.Eval(`Array.from(document.querySelectorAll("#feed tr.added:not(.before) td.detail")).map(e => e.textContent).sort().join(",")`); got != "external 172.16.0.4/32 metric 20,external 172.16.0.5/32 metric 20" {
		t.Errorf("added rows: %s", got)
	}
	if got := page.Eval(`Array.from(document.querySelectorAll("#feed tr.removed td.detail")).map(e => e.textContent).join(",")`); got != "external 172.16.0.5/32 metric 20" {
		t.Errorf("removed rows: %s", got)
	}
	// Added in green, removed in red.
	if got := page.Eval(`getComputedStyle(document.querySelector("#feed tr.added td.what")).color`); got != "rgb(46, 125, 50)" {
		t.Errorf("an added row's colour is %s, want green", got)
	}
	if got := page.Eval(`getComputedStyle(document.querySelector("#feed tr.removed td.what")).color`); got != "rgb(198, 40, 40)" {
		t.Errorf("a removed row's colour is %s, want red", got)
	}

	// The filter keeps the rows of one route.
	page.Eval(`(() => { const f = document.getElementById("filter"); f.value = "172.16.0.4"; f.dispatchEvent(new Event("input")); return ""; })()`)
	page.Wait("the filter", `String(document.querySelectorAll("#feed tr:not(.hidden)").length)`, "1")

	t.Logf("screenshot of the live page: %s", page.Screenshot("live-page.png"))
}

// withdrawRoute is the MaxAge instance of the emitter's route n.
func withdrawRoute(t *testing.T, n uint32) []byte {
	t.Helper()
	x := streamtest.Route(n)
	x.Age, x.SeqNum = ospf.MaxAge, x.SeqNum+1
	raw, err := ospf.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
