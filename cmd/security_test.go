package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with serial
// number serial, and its key, to certFile and keyFile.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "relay"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// The key first: a relay that looks between the two writes finds a
	// pair that does not match, and keeps the last one until the next look.
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// TestRelayTLSAndToken runs the relay with --tls-cert-file, --tls-key-file
// and --bearer-token-file: HTTPS and WSS only, every request but the
// probes' refused without the token, and a rotated token or certificate
// taken without a restart.
func TestRelayTLSAndToken(t *testing.T) {
	r10 := netip.MustParseAddr("10.10.10.10")
	srv := nycServer(t, ospfapitest.Config{RouterID: r10})
	wsAddr, streamMetrics, relayAddr := streamtest.FreeAddr(t), streamtest.FreeAddr(t), streamtest.FreeAddr(t)
	dir := t.TempDir()
	certFile, keyFile, tokenFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), filepath.Join(dir, "token")
	cert := writeCert(t, certFile, keyFile, 1)
	if err := os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr lockedBuffer
	startCommand(t, &stdout, &stderr, "stream", "--server", srv.Addr(), "--holddown", "0", "--mute-stdout-stream",
		"--ws-listen", wsAddr, "--metrics-listen", streamMetrics)
	waitUntil(t, func() bool { return status("http://"+streamMetrics+"/readyz") == 200 }, "stream to load", &stderr)
	startCommand(t, &stdout, &stderr, "relay", "--upstream", "ws://"+wsAddr, "--ws-listen", relayAddr, "--mute-stdout-stream",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--bearer-token-file", tokenFile)

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	tlsCfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	do := func(path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "https://"+relayAddr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate") + b.String()
	}
	// The probes need no token.
	waitUntil(t, func() bool { c, _ := do("/readyz", ""); return c == 200 }, "the relay to be ready over HTTPS without a token", &stderr)
	if c, _ := do("/healthz", ""); c != 200 {
		t.Errorf("/healthz without a token: %d", c)
	}
	for _, path := range []string{"/", "/metrics", "/v1/snapshot"} {
		for _, token := range []string{"", "wrong", "s3cret2"} {
			if c, body := do(path, token); c != http.StatusUnauthorized || !strings.Contains(body, "Bearer") {
				t.Errorf("GET %s with token %q: %d %q, want 401 with a Bearer challenge", path, token, c, body)
			}
		}
		if c, _ := do(path, "s3cret"); c != 200 {
			t.Errorf("GET %s with the token: %d", path, c)
		}
	}
	// Plain HTTP gets nothing from the TLS port.
	if c := status("http://" + relayAddr + "/healthz"); c == 200 {
		t.Error("plain HTTP answered 200 on the TLS port")
	}

	// WSS: the seed's stream on /, with the token only.
	dial := func(token string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h := http.Header{}
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
		c, resp, err := websocket.Dial(ctx, "wss://"+relayAddr+"/", &websocket.DialOptions{HTTPClient: hc, HTTPHeader: h})
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err != nil {
			return err
		}
		if err := srv.AddExternal(r10, netip.MustParsePrefix("198.51.100.0/24"), 5, false, netip.MustParseAddr("10.70.76.1")); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = c.CloseNow() }()
		_, msg, err := c.Read(ctx)
		if err == nil && !strings.Contains(string(msg), "198.51.100.0/24") {
			err = errors.New("unexpected message " + string(msg))
		}
		return err
	}
	if err := dial(""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("WSS without a token: %v, want a 401", err)
	}
	if err := dial("s3cret"); err != nil {
		t.Errorf("WSS with the token: %v", err)
	}

	// A rotated token: the new one is taken, the old one refused.
	if err := os.WriteFile(tokenFile, []byte("rotated-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, _ := do("/", "rotated-token"); c != 200 {
		t.Errorf("the rotated token: %d", c)
	}
	if c, _ := do("/", "s3cret"); c != http.StatusUnauthorized {
		t.Errorf("the old token after the rotation: %d", c)
	}
	// An emptied token file keeps the last token rather than opening up.
	if err := os.WriteFile(tokenFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if c, _ := do("/", ""); c != http.StatusUnauthorized {
		t.Errorf("no token with an empty token file: %d", c)
	}
	if c, _ := do("/", "rotated-token"); c != 200 {
		t.Errorf("the last token with an empty token file: %d", c)
	}

	// A rotated certificate is served to new connections.
	next := writeCert(t, certFile, keyFile, 2)
	roots.AddCert(next)
	waitUntil30(t, func() bool {
		conn, err := tls.Dial("tcp", relayAddr, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12})
		if err != nil {
			return false
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64() == 2
	}, "the relay to serve the new certificate", &stderr)
}

// waitUntil30 is waitUntil with room for a loaded machine.
func waitUntil30(t *testing.T, cond func() bool, what string, logs *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; stderr:\n%s", what, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSecurityFlags(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--tls-cert-file", filepath.Join(dir, "tls.crt")}, 2, "--tls-cert-file and --tls-key-file go together"},
		{[]string{"--tls-cert-file", filepath.Join(dir, "no.crt"), "--tls-key-file", filepath.Join(dir, "no.key")}, 1, "no.crt"},
		{[]string{"--bearer-token-file", filepath.Join(dir, "none")}, 1, "--bearer-token-file"},
		{[]string{"--bearer-token-file", empty}, 1, "no token in it"},
		{[]string{"--upstream-ca-file", filepath.Join(dir, "none")}, 1, "--upstream-ca-file"},
		{[]string{"--upstream-ca-file", empty}, 1, "no PEM certificate in it"},
		{[]string{"--upstream-bearer-token-file", empty}, 1, "--upstream-bearer-token-file"},
		{[]string{"--checkpoint-interval", "-1s"}, 2, "--checkpoint-interval -1s: must not be negative"},
	} {
		var stdout, stderr lockedBuffer
		code := run(append([]string{"ospf-operator", "relay", "--ws-listen", "127.0.0.1:0"}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("relay %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
	// stream's: the same, for --ws-listen, which they need.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--ws-listen", "127.0.0.1:0", "--tls-key-file", filepath.Join(dir, "tls.key")}, 2, "--tls-cert-file and --tls-key-file go together"},
		{[]string{"--bearer-token-file", empty}, 1, "no token in it"},
		{[]string{"--bearer-token-file", filepath.Join(dir, "token")}, 2, "which is not set"},
	} {
		if tc.want == "which is not set" {
			streamtest.WriteFile(t, filepath.Join(dir, "token"), []byte("t"))
		}
		var stdout, stderr lockedBuffer
		code := run(append([]string{"ospf-operator", "stream", "--server", "127.0.0.1:1"}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("stream %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}

// TestCertPair: the relay's certificate is loaded again when its files
// change, at most once a second; a pair that does not load (the key
// renewed before the certificate, files gone) keeps the last good one.
func TestCertPair(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if _, err := newCertPair(certFile, keyFile); err == nil || !strings.Contains(err.Error(), "--tls-cert-file") {
		t.Errorf("no files: %v, want an error naming the flags", err)
	}
	writeCert(t, certFile, keyFile, 1)
	p, err := newCertPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p.now = func() time.Time { return now }
	serial := func() int64 {
		t.Helper()
		c, err := p.GetCertificate(nil)
		if err != nil || c == nil {
			t.Fatalf("GetCertificate: %v, %v", c, err)
		}
		return c.Leaf.SerialNumber.Int64()
	}
	if got := serial(); got != 1 {
		t.Fatalf("serial %d, want 1", got)
	}

	// Only the key renewed: the pair does not match, the old one stays.
	other := t.TempDir()
	writeCert(t, filepath.Join(other, "tls.crt"), filepath.Join(other, "tls.key"), 2)
	copyFile(t, filepath.Join(other, "tls.key"), keyFile)
	now = now.Add(pairCheckInterval)
	if got := serial(); got != 1 {
		t.Errorf("a mismatched pair: serial %d, want the last good 1", got)
	}
	// Then the certificate: within the interval nothing is looked at...
	copyFile(t, filepath.Join(other, "tls.crt"), certFile)
	now = now.Add(pairCheckInterval / 2)
	if got := serial(); got != 1 {
		t.Errorf("within the check interval: serial %d, want 1", got)
	}
	// ...and after it the renewed pair is served.
	now = now.Add(pairCheckInterval / 2)
	if got := serial(); got != 2 {
		t.Errorf("a renewed pair: serial %d, want 2", got)
	}

	// Files gone (a Secret being replaced): the last pair stays.
	if err := os.Remove(certFile); err != nil {
		t.Fatal(err)
	}
	now = now.Add(pairCheckInterval)
	if got := serial(); got != 2 {
		t.Errorf("files gone: serial %d, want 2", got)
	}
}

// TestSecuredChain: `stream --ws-listen` behind TLS and a token, and a
// relay that follows it with --upstream-ca-file (a private CA) and
// --upstream-bearer-token-file, serving with its own token; a relay
// without the CA, or without the token, does not get in.
func TestSecuredChain(t *testing.T) {
	r10 := netip.MustParseAddr("10.10.10.10")
	srv := nycServer(t, ospfapitest.Config{RouterID: r10})
	wsAddr, streamMetrics, relayAddr, relayNoCA, relayNoToken := streamtest.FreeAddr(t), streamtest.FreeAddr(t), streamtest.FreeAddr(t), streamtest.FreeAddr(t), streamtest.FreeAddr(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	upToken, relayToken := filepath.Join(dir, "up-token"), filepath.Join(dir, "relay-token")
	writeCert(t, certFile, keyFile, 1)
	streamtest.WriteFile(t, upToken, []byte("upstream-secret\n"))
	streamtest.WriteFile(t, relayToken, []byte("relay-secret\n"))

	var stdout, stderr lockedBuffer
	startCommand(t, &stdout, &stderr, "stream", "--server", srv.Addr(), "--holddown", "0", "--mute-stdout-stream",
		"--ws-listen", wsAddr, "--metrics-listen", streamMetrics,
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--bearer-token-file", upToken)
	waitUntil(t, func() bool { return status("http://"+streamMetrics+"/readyz") == 200 }, "stream to load", &stderr)
	if c := status("http://" + wsAddr + "/healthz"); c == 200 {
		t.Error("the stream's --ws-listen answered plain HTTP")
	}
	upstream := "wss://" + wsAddr
	startCommand(t, &stdout, &stderr, "relay", "--upstream", upstream, "--ws-listen", relayAddr, "--mute-stdout-stream",
		"--upstream-ca-file", certFile, "--upstream-bearer-token-file", upToken, "--bearer-token-file", relayToken)
	// The commands run in this process share its default logger: the
	// logs are read together.
	startCommand(t, &stdout, &stderr, "relay", "--upstream", upstream, "--ws-listen", relayNoCA, "--mute-stdout-stream",
		"--upstream-bearer-token-file", upToken)
	startCommand(t, &stdout, &stderr, "relay", "--upstream", upstream, "--ws-listen", relayNoToken, "--mute-stdout-stream",
		"--upstream-ca-file", certFile)

	waitUntil(t, func() bool { return status("http://"+relayAddr+"/readyz") == 200 }, "the relay to follow the secured stream", &stderr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws://"+relayAddr+"/", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": []string{"Bearer relay-secret"}}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("the relay's stream with its token: %v", err)
	}
	defer func() { _ = c.CloseNow() }()
	if err := srv.AddExternal(r10, netip.MustParsePrefix("198.51.100.0/24"), 5, false, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := c.Read(ctx); err != nil || !strings.Contains(string(msg), "198.51.100.0/24") {
		t.Errorf("through the secured stream and the relay: %q, %v", msg, err)
	}

	waitUntil(t, func() bool { return strings.Contains(stderr.String(), "certificate signed by unknown authority") }, "the relay without the CA to say why it cannot follow", &stderr)
	waitUntil(t, func() bool { return strings.Contains(stderr.String(), "401") }, "the relay without the token to say why it cannot follow", &stderr)
	for _, addr := range []string{relayNoCA, relayNoToken} {
		if c := status("http://" + addr + "/readyz"); c == 200 {
			t.Errorf("a relay that cannot reach the secured stream is ready; log:\n%s", &stderr)
		}
	}
}
