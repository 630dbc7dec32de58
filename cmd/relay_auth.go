package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// bearerAuth guards a handler with a bearer token read from a file (a
// mounted Secret): a request without "Authorization: Bearer TOKEN" gets
// 401, except the kubelet's probes (GET /healthz and /readyz). The file is
// read again when its modification time or size changes, so a rotated
// Secret takes effect without a restart.
type bearerAuth struct {
	file string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	sum     [sha256.Size]byte // of the token: compared in constant time
}

// newBearerAuth reads the token in file, which must hold one.
func newBearerAuth(file string) (*bearerAuth, error) {
	a := &bearerAuth{file: file}
	if _, err := a.current(); err != nil {
		return nil, err
	}
	return a, nil
}

// current returns the hash of the file's token, reading the file again
// when it changed. A file that became unreadable or empty keeps the last
// token: the guard never opens because a Secret is being replaced.
func (a *bearerAuth) current() ([sha256.Size]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, err := os.Stat(a.file)
	if err == nil && st.ModTime().Equal(a.modTime) && st.Size() == a.size {
		return a.sum, nil
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(a.file)
	}
	token := bytes.TrimSpace(data)
	switch {
	case err != nil:
		err = fmt.Errorf("--bearer-token-file: %w", err)
	case len(token) == 0:
		err = fmt.Errorf("--bearer-token-file %s: no token in it", a.file)
	case bytes.ContainsAny(token, " \t\r\n"):
		err = fmt.Errorf("--bearer-token-file %s: the token has white space in it", a.file)
	}
	if err != nil {
		if a.modTime.IsZero() {
			return a.sum, err
		}
		return a.sum, nil
	}
	a.sum, a.modTime, a.size = sha256.Sum256(token), st.ModTime(), st.Size()
	return a.sum, nil
}

// wrap returns next behind the token.
func (a *bearerAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		want, _ := a.current()
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="ospf-operator relay"`)
			http.Error(w, "Unauthorized: this stream needs Authorization: Bearer TOKEN", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// certPair serves a certificate and key pair from files (a mounted
// Secret), loaded again when either file's modification time or size
// changes, so that a renewed certificate is served to new connections
// without a restart. The files are checked at each TLS handshake, at most
// once per pairCheckInterval. A pair that does not load (a Secret being
// replaced, the key written before the certificate) keeps the last good
// one, and is tried again at the next check.
//
// controller-runtime's certwatcher does this too, but linking it would
// bring Kubernetes' client libraries, and their start-up cost, into every
// command of this binary (internal/cli).
type certPair struct {
	certFile, keyFile string
	now               func() time.Time

	mu        sync.Mutex
	checked   time.Time // last look at the files
	certStamp fileStamp
	keyStamp  fileStamp
	cert      *tls.Certificate
	lastErr   string // the last reload error logged, to log each once
}

// pairCheckInterval is how often at most certPair looks at its files.
const pairCheckInterval = time.Second

// fileStamp is what tells that a file changed.
type fileStamp struct {
	modTime time.Time
	size    int64
}

func stampOf(file string) (fileStamp, error) {
	st, err := os.Stat(file)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{st.ModTime(), st.Size()}, nil
}

// newCertPair loads the pair, which must load.
func newCertPair(certFile, keyFile string) (*certPair, error) {
	p := &certPair{certFile: certFile, keyFile: keyFile, now: time.Now}
	if err := p.reload(); err != nil {
		return nil, fmt.Errorf("--tls-cert-file, --tls-key-file: %w", err)
	}
	return p, nil
}

// reload reads both files when either changed since the last load. Called
// with mu held, or before the pair is shared.
func (p *certPair) reload() error {
	cs, err := stampOf(p.certFile)
	if err != nil {
		return err
	}
	ks, err := stampOf(p.keyFile)
	if err != nil {
		return err
	}
	if p.cert != nil && cs == p.certStamp && ks == p.keyStamp {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(p.certFile, p.keyFile)
	if err != nil {
		return err
	}
	first := p.cert == nil
	p.cert, p.certStamp, p.keyStamp, p.lastErr = &cert, cs, ks, ""
	if !first {
		slog.Info("Loaded the renewed TLS certificate", "cert", p.certFile, "not_after", cert.Leaf.NotAfter)
	}
	return nil
}

// GetCertificate is the tls.Config's: the current pair.
func (p *certPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); now.Sub(p.checked) >= pairCheckInterval {
		p.checked = now
		if err := p.reload(); err != nil && err.Error() != p.lastErr {
			p.lastErr = err.Error()
			slog.Warn("Cannot load the TLS certificate; serving the last one", "cert", p.certFile, "key", p.keyFile, "err", err)
		}
	}
	return p.cert, nil
}

// relayTLSConfig serves HTTP/1.1 only: WebSocket upgrades need it.
func relayTLSConfig(getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"http/1.1"},
		GetCertificate: getCertificate,
	}
}

// checkTLSFlags wants both files or neither.
func checkTLSFlags(cert, key string) error {
	if (cert == "") != (key == "") {
		return errors.New("--tls-cert-file and --tls-key-file go together")
	}
	return nil
}
