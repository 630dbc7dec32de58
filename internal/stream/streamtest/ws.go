package streamtest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/schemavalidate"
)

// Dial connects a WebSocket client to url, closed when the test ends.
func Dial(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	if resp.Body != nil {
		resp.Body.Close()
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// ReadN reads n text messages.
func ReadN(t testing.TB, c *websocket.Conn, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make([]string, 0, n)
	for len(out) < n {
		typ, p, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		if typ != websocket.MessageText {
			t.Fatalf("message %d is %v, want text", len(out), typ)
		}
		out = append(out, string(p))
	}
	return out
}

// ReadClose reads until the connection ends and returns its close status.
func ReadClose(t testing.TB, c *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		return ce
	}
}

// Envelope is a /v1/stream message: an event, or a state record (no
// Event) that lsdb.ParseEnvelope reads.
type Envelope struct {
	Seq   uint64          `json:"seq"`
	Event json.RawMessage `json:"event"`
}

// DecodeEnvelopes decodes /v1/stream messages and checks them: events
// against the schema, state records with lsdb.ParseEnvelope.
func DecodeEnvelopes(t testing.TB, msgs []string) []Envelope {
	t.Helper()
	out := make([]Envelope, len(msgs))
	for i, m := range msgs {
		if err := json.Unmarshal([]byte(m), &out[i]); err != nil {
			t.Fatalf("message %d %q: %v", i, m, err)
		}
		if out[i].Event == nil {
			if _, err := lsdb.ParseEnvelope([]byte(m)); err != nil {
				t.Fatalf("message %d, a state record: %v", i, err)
			}
			continue
		}
		if err := schemavalidate.ValidateEvent(out[i].Event); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	return out
}

// SnapshotDoc is the /v1/snapshot document.
type SnapshotDoc struct {
	Epoch    string          `json:"epoch"`
	Seq      uint64          `json:"seq"`
	Snapshot json.RawMessage `json:"snapshot"`
}

// GetSnapshot fetches /v1/snapshot from the server at base (http://host:port).
func GetSnapshot(t testing.TB, base string) SnapshotDoc {
	t.Helper()
	resp, err := http.Get(base + "/v1/snapshot")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/snapshot: %s: %s", resp.Status, body)
	}
	var doc SnapshotDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}
