// Package pagetest drives the live page (internal/stream's page.html) in
// real headless Chromium over the DevTools protocol, for the tests of the
// servers that serve it: `stream --ws-listen` (internal/stream) and the
// relay (internal/relay).
//
// It imports none of them, so that their own (internal) tests can use it.
package pagetest

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// Chromium returns the path of Chromium, or skips the test (fails it
// when CI=true, so that CI cannot pass without the browser).
func Chromium(t testing.TB) string {
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

// Page is a Chrome DevTools protocol session with one page.
type Page struct {
	t    testing.TB
	conn *websocket.Conn
	id   int
}

// Call sends a DevTools command and decodes its result into result (when
// not nil); an error answer fails the test.
func (p *Page) Call(method string, params any, result any) {
	p.t.Helper()
	p.id++
	req, _ := json.Marshal(map[string]any{"id": p.id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.conn.Write(ctx, websocket.MessageText, req); err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
	for {
		_, b, err := p.conn.Read(ctx)
		if err != nil {
			p.t.Fatalf("%s: %v", method, err)
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &resp); err != nil {
			p.t.Fatalf("%s: %v", method, err)
		}
		if resp.ID != p.id {
			continue // an event, or an answer to an earlier call
		}
		if resp.Error != nil {
			p.t.Fatalf("%s: %s", method, resp.Error.Message)
		}
		if result != nil {
			if err := json.Unmarshal(resp.Result, result); err != nil {
				p.t.Fatalf("%s: %v", method, err)
			}
		}
		return
	}
}

// Eval returns the string value of a JavaScript expression on the page,
// or "exception: ..." when it throws (so that Wait polls on while the page
// is not ready).
func (p *Page) Eval(expr string) string {
	p.t.Helper()
	var r struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	p.Call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r)
	if e := r.ExceptionDetails; e != nil {
		return "exception: " + e.Text + " " + e.Exception.Description
	}
	return fmt.Sprint(r.Result.Value)
}

// EvalJSON evaluates expr, which returns JSON.stringify(...), into v.
func (p *Page) EvalJSON(expr string, v any) {
	p.t.Helper()
	s := p.Eval(expr)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		p.t.Fatalf("%s: %v: %.300s", expr, err, s)
	}
}

// Wait waits until expr returns want, and fails the test with the page's
// text when it does not in time.
func (p *Page) Wait(what, expr, want string) {
	p.t.Helper()
	streamtest.NewWithT(p.t).Eventually(func() string { return p.Eval(expr) }).WithPolling(20*time.Millisecond).
		Should(gomega.Equal(want), func() string {
			return fmt.Sprintf("%s: %s; page text:\n%s", what, expr, p.Eval("document.body.innerText"))
		})
}

// Navigate loads url in the page.
func (p *Page) Navigate(url string) {
	p.t.Helper()
	p.Call("Page.navigate", map[string]any{"url": url}, nil)
}

// Click clicks the map at a node's place on the screen, as a person would.
func (p *Page) Click(key string) {
	p.t.Helper()
	var at struct{ X, Y float64 }
	p.EvalJSON(fmt.Sprintf(`(() => { const n = ospfMap.cy.getElementById(%q); const r = ospfMap.cy.container().getBoundingClientRect();
		const p = n.renderedPosition(); return JSON.stringify({X: r.left + p.x, Y: r.top + p.y}); })()`, key), &at)
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		p.Call("Input.dispatchMouseEvent", map[string]any{"type": typ, "x": at.X, "y": at.Y, "button": "left", "clickCount": 1}, nil)
	}
}

// keys are the DevTools descriptions of the keys Press knows.
var keys = map[string]map[string]any{
	"Enter":      {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"},
	"Escape":     {"key": "Escape", "code": "Escape", "windowsVirtualKeyCode": 27},
	"Tab":        {"key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9},
	"ArrowDown":  {"key": "ArrowDown", "code": "ArrowDown", "windowsVirtualKeyCode": 40},
	"ArrowUp":    {"key": "ArrowUp", "code": "ArrowUp", "windowsVirtualKeyCode": 38},
	"ArrowLeft":  {"key": "ArrowLeft", "code": "ArrowLeft", "windowsVirtualKeyCode": 37},
	"ArrowRight": {"key": "ArrowRight", "code": "ArrowRight", "windowsVirtualKeyCode": 39},
	"/":          {"key": "/", "code": "Slash", "windowsVirtualKeyCode": 191, "text": "/"},
	"[":          {"key": "[", "code": "BracketLeft", "windowsVirtualKeyCode": 219, "text": "["},
	"]":          {"key": "]", "code": "BracketRight", "windowsVirtualKeyCode": 221, "text": "]"},
}

// Press presses and releases a key (one of keys) on the focused element,
// as the keyboard would.
func (p *Page) Press(key string) {
	p.t.Helper()
	k, ok := keys[key]
	if !ok {
		p.t.Fatalf("Press: unknown key %q", key)
	}
	down := map[string]any{"type": "keyDown"}
	up := map[string]any{"type": "keyUp"}
	for n, v := range k {
		if n != "text" {
			up[n] = v
		}
		down[n] = v
	}
	if _, ok := k["text"]; !ok {
		down["type"] = "rawKeyDown"
	}
	p.Call("Input.dispatchKeyEvent", down, nil)
	p.Call("Input.dispatchKeyEvent", up, nil)
}

// Type types text into the focused element.
func (p *Page) Type(text string) {
	p.t.Helper()
	p.Call("Input.insertText", map[string]any{"text": text}, nil)
}

// Focused is the id of the element that has the keyboard focus.
func (p *Page) Focused() string {
	p.t.Helper()
	return p.Eval(`document.activeElement ? document.activeElement.id : ""`)
}

// Screenshot saves a PNG of the page as name in ArtifactsDir and returns
// its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	var shot struct {
		Data string `json:"data"`
	}
	p.Call("Page.captureScreenshot", map[string]any{"format": "png"}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
		p.t.Fatalf("screenshot is not a PNG (%d bytes): %v", len(png), err)
	}
	path := filepath.Join(ArtifactsDir(p.t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	return path
}

// Positions are the places of the map's nodes, by key.
func (p *Page) Positions() map[string][2]float64 {
	p.t.Helper()
	var pos map[string][2]float64
	p.EvalJSON(`JSON.stringify(Object.fromEntries(ospfMap.cy.nodes().map(n => [n.id(), [n.position().x, n.position().y]])))`, &pos)
	return pos
}

// Open starts headless Chromium on url and returns a DevTools session
// with its page. The browser is killed when the test ends.
func Open(t testing.TB, chromium, url string) *Page {
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
	b := &Page{t: t, conn: devtools(bu)}
	var target struct {
		TargetID string `json:"targetId"`
	}
	b.Call("Target.createTarget", map[string]any{"url": url}, &target)
	host := strings.TrimPrefix(bu, "ws://")
	host = host[:strings.IndexByte(host, '/')]
	return &Page{t: t, conn: devtools("ws://" + host + "/devtools/page/" + target.TargetID)}
}

// ArtifactsDir is where tests keep what a person may want to look at:
// $ARTIFACTS_DIR, or the test's temporary directory.
func ArtifactsDir(t testing.TB) string {
	if d := os.Getenv("ARTIFACTS_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}
