package stream

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"

	"github.com/coder/websocket"

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

// requireChromium returns the path of Chromium, or skips the test (fails
// it when CI=true, so that CI cannot pass without the browser).
func requireChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium is not installed (CI=true: the live page test must run)")
	}
	t.Skip("chromium is not installed (apt-get install chromium)")
	return ""
}

// cdp is a Chrome DevTools protocol session with one page.
type cdp struct {
	t    testing.TB
	conn *websocket.Conn
	id   int
}

func (c *cdp) call(method string, params any, result any) {
	c.t.Helper()
	c.id++
	req, _ := json.Marshal(map[string]any{"id": c.id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, req); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	for {
		_, p, err := c.conn.Read(ctx)
		if err != nil {
			c.t.Fatalf("%s: %v", method, err)
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(p, &resp); err != nil {
			c.t.Fatalf("%s: %v", method, err)
		}
		if resp.ID != c.id {
			continue // an event, or an answer to an earlier call
		}
		if resp.Error != nil {
			c.t.Fatalf("%s: %s", method, resp.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(resp.Result, result); err != nil {
				c.t.Fatalf("%s: %v", method, err)
			}
		}
		return
	}
}

// eval returns the string value of a JavaScript expression on the page.
func (c *cdp) eval(expr string) string {
	c.t.Helper()
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
	}
	c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	return fmt.Sprint(r.Result.Value)
}

// waitPage waits until expr returns want.
func (c *cdp) waitPage(what, expr, want string) {
	c.t.Helper()
	streamtest.NewWithT(c.t).Eventually(func() string { return c.eval(expr) }).WithPolling(20*time.Millisecond).
		Should(gomega.Equal(want), func() string {
			return fmt.Sprintf("%s: %s; page text:\n%s", what, expr, c.eval("document.body.innerText"))
		})
}

// openChromium starts headless Chromium on url and returns a DevTools
// session with its page.
func openChromium(t testing.TB, chromium, url string) *cdp {
	t.Helper()
	// The profile is ours to remove: Chromium's helper processes may still
	// write to it for a moment after the browser is gone, which would fail
	// t.TempDir's cleanup.
	profile, err := os.MkdirTemp("", "ospf-operator-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-dev-shm-usage", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
		"--user-data-dir="+profile, "--window-size=1200,800", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the browser and its helpers, killed together
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		for i := 0; ; i++ {
			err := os.RemoveAll(profile)
			if err == nil || i == 50 {
				if err != nil {
					t.Logf("removing Chromium's profile: %v", err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	browser := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
				browser <- strings.TrimSpace(u)
			}
		}
	}()
	var bu string
	select {
	case bu = <-browser:
	case <-time.After(30 * time.Second):
		t.Fatal("chromium did not print its DevTools address")
	}
	devtools := func(u string) *websocket.Conn {
		dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer dcancel()
		c, resp, err := websocket.Dial(dctx, u, nil)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err != nil {
			t.Fatalf("DevTools %s: %v", u, err)
		}
		c.SetReadLimit(64 << 20)
		t.Cleanup(func() { _ = c.CloseNow() })
		return c
	}
	b := &cdp{t: t, conn: devtools(bu)}
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.call("Target.createTarget", map[string]any{"url": url}, &target)
	host := strings.TrimPrefix(bu, "ws://")
	host = host[:strings.IndexByte(host, '/')]
	return &cdp{t: t, conn: devtools("ws://" + host + "/devtools/page/" + target.TargetID)}
}

// artifactsDir is where tests keep what a person may want to look at:
// $ARTIFACTS_DIR, or the test's temporary directory.
func artifactsDir(t testing.TB) string {
	if d := os.Getenv("ARTIFACTS_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

func TestLivePageInChromium(t *testing.T) {
	chromium := requireChromium(t)
	clk := &streamtest.Clock{}
	clk.Set(time.Now())
	db := lsdb.New(lsdb.Config{Now: clk.Now})
	db.BeginSync()
	db.EndSync()
	em := &streamtest.Emitter{DB: db}
	em.Emit(t, 3) // before the page: in its snapshot
	ts := startServer(t, ServerConfig{Source: db, NonWebSocket: PageHandler()}, nil)
	page := openChromium(t, chromium, ts.http.URL+"/")
	page.waitPage("the page to follow the stream", `document.getElementById("status").className`, "ok")
	page.waitPage("the snapshot's counters", `document.getElementById("n-externals").textContent`, "3")
	if got := page.eval(`document.getElementById("n-routers").textContent`); got != "3" {
		t.Errorf("routers counter %q, want 3 (each route has a router of its own)", got)
	}
	// The events from before the page opened are listed at once, before
	// any change comes (issue 12), oldest at the bottom.
	page.waitPage("the recent events", `Array.from(document.querySelectorAll("#feed tr.before td.detail")).map(e => e.textContent).join(",")`,
		"external 172.16.0.3/32 metric 20,external 172.16.0.2/32 metric 20,external 172.16.0.1/32 metric 20")
	if got := page.eval(`getComputedStyle(document.getElementById("empty")).display`); got != "none" {
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
	page.waitPage("three new rows", `String(document.querySelectorAll("#feed tr:not(.before)").length)`, "3")
	page.waitPage("the counters to follow", `document.getElementById("n-externals").textContent`, "4")
	if got := page.eval(`Array.from(document.querySelectorAll("#feed tr.added:not(.before) td.detail")).map(e => e.textContent).sort().join(",")`); got != "external 172.16.0.4/32 metric 20,external 172.16.0.5/32 metric 20" {
		t.Errorf("added rows: %s", got)
	}
	if got := page.eval(`Array.from(document.querySelectorAll("#feed tr.removed td.detail")).map(e => e.textContent).join(",")`); got != "external 172.16.0.5/32 metric 20" {
		t.Errorf("removed rows: %s", got)
	}
	// Added in green, removed in red.
	if got := page.eval(`getComputedStyle(document.querySelector("#feed tr.added td.what")).color`); got != "rgb(46, 125, 50)" {
		t.Errorf("an added row's colour is %s, want green", got)
	}
	if got := page.eval(`getComputedStyle(document.querySelector("#feed tr.removed td.what")).color`); got != "rgb(198, 40, 40)" {
		t.Errorf("a removed row's colour is %s, want red", got)
	}

	// The filter keeps the rows of one route.
	page.eval(`(() => { const f = document.getElementById("filter"); f.value = "172.16.0.4"; f.dispatchEvent(new Event("input")); return ""; })()`)
	page.waitPage("the filter", `String(document.querySelectorAll("#feed tr:not(.hidden)").length)`, "1")

	var shot struct {
		Data string `json:"data"`
	}
	page.call("Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot is not a PNG (%d bytes): %v", len(png), err)
	}
	path := filepath.Join(artifactsDir(t), "live-page.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the live page: %s", path)
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
