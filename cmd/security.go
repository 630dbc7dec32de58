package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/ospf-operator/ospf-operator/internal/cli"
)

// tokenFile is a bearer token read from a file (a mounted Secret), read
// again when the file's modification time or size changes, so that a
// rotated Secret takes effect without a restart. A file that became
// unreadable or empty keeps the last token: a guard never opens, and a
// client never goes without, because a Secret is being replaced.
type tokenFile struct {
	flag, file string

	mu    sync.Mutex
	stamp fileStamp
	token []byte
}

// newTokenFile reads the token in file (the value of flag), which must
// hold one.
func newTokenFile(flag, file string) (*tokenFile, error) {
	f := &tokenFile{flag: flag, file: file}
	if _, err := f.current(); err != nil {
		return nil, err
	}
	return f, nil
}

// current returns the file's token, reading the file again when it
// changed.
func (f *tokenFile) current() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stamp, err := stampOf(f.file)
	if err == nil && f.token != nil && stamp == f.stamp {
		return f.token, nil
	}
	var data []byte
	if err == nil {
		data, err = os.ReadFile(f.file)
	}
	token := bytes.TrimSpace(data)
	switch {
	case err != nil:
		err = fmt.Errorf("%s: %w", f.flag, err)
	case len(token) == 0:
		err = fmt.Errorf("%s %s: no token in it", f.flag, f.file)
	case bytes.ContainsAny(token, " \t\r\n"):
		err = fmt.Errorf("%s %s: the token has white space in it", f.flag, f.file)
	}
	if err != nil {
		if f.token == nil {
			return nil, err
		}
		return f.token, nil
	}
	f.token, f.stamp = token, stamp
	return f.token, nil
}

// bearerAuth guards a handler with a bearer token: a request without
// "Authorization: Bearer TOKEN" gets 401, except the kubelet's probes
// (GET /healthz and /readyz).
type bearerAuth struct{ token *tokenFile }

// newBearerAuth reads the token in file (--bearer-token-file).
func newBearerAuth(file string) (*bearerAuth, error) {
	tf, err := newTokenFile("--bearer-token-file", file)
	if err != nil {
		return nil, err
	}
	return &bearerAuth{token: tf}, nil
}

// wrap returns next behind the token.
func (a *bearerAuth) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/readyz") {
			next.ServeHTTP(w, r)
			return
		}
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		current, _ := a.token.current()
		// Hashes of equal length, compared in constant time: neither the
		// token nor its length leaks through the time taken.
		want, got := sha256.Sum256(current), sha256.Sum256([]byte(strings.TrimSpace(token)))
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

// fileStamp is what tells that a file changed (a token's, a
// certificate's): its modification time and size.
type fileStamp struct {
	modTime int64 // Unix nanoseconds
	size    int64
}

func stampOf(file string) (fileStamp, error) {
	st, err := os.Stat(file)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{st.ModTime().UnixNano(), st.Size()}, nil
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

// listenerTLSConfig serves HTTP/1.1 only: WebSocket upgrades need it.
func listenerTLSConfig(getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
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

// listenerSecurity are the flags that put a stream listener (the relay's,
// `stream --ws-listen`) behind TLS and a bearer token.
type listenerSecurity struct {
	certFile, keyFile, tokenFile string
}

func (s *listenerSecurity) register(f *pflag.FlagSet) {
	f.StringVar(&s.certFile, "tls-cert-file", "",
		"Serve HTTPS and WSS with this PEM certificate (chain), reloaded when it changes; needs --tls-key-file")
	f.StringVar(&s.keyFile, "tls-key-file", "",
		"The PEM private key of --tls-cert-file")
	f.StringVar(&s.tokenFile, "bearer-token-file", "",
		"Answer only requests with \"Authorization: Bearer TOKEN\", TOKEN this file's content (re-read when it changes); /healthz and /readyz stay open for probes")
}

// build checks the flags and reads the files: the TLS configuration (nil:
// plain) and the handler's guard (nil: none).
func (s *listenerSecurity) build() (*tls.Config, *bearerAuth, error) {
	if err := checkTLSFlags(s.certFile, s.keyFile); err != nil {
		return nil, nil, cli.Usage(err)
	}
	var auth *bearerAuth
	if s.tokenFile != "" {
		var err error
		if auth, err = newBearerAuth(s.tokenFile); err != nil {
			return nil, nil, err
		}
	}
	if s.certFile == "" {
		return nil, auth, nil
	}
	certs, err := newCertPair(s.certFile, s.keyFile)
	if err != nil {
		return nil, nil, err
	}
	return listenerTLSConfig(certs.GetCertificate), auth, nil
}

// guardFunc is guard for a server that wraps its own handler: nil
// without a token.
func (a *bearerAuth) guardFunc() func(http.Handler) http.Handler {
	if a == nil {
		return nil
	}
	return a.wrap
}

// guard wraps h in auth, when there is one.
func (a *bearerAuth) guard(h http.Handler) http.Handler {
	if a == nil {
		return h
	}
	return a.wrap(h)
}

// upstreamSecurity are the relay's flags for an upstream behind TLS with
// a private CA, and a bearer token.
type upstreamSecurity struct {
	caFile, tokenFile string
}

func (u *upstreamSecurity) register(f *pflag.FlagSet) {
	f.StringVar(&u.caFile, "upstream-ca-file", "",
		"Trust the CA certificates in this PEM file, besides the system's, for a wss:// upstream (one with a private CA, such as another relay's)")
	f.StringVar(&u.tokenFile, "upstream-bearer-token-file", "",
		"Send \"Authorization: Bearer TOKEN\" to the upstream, TOKEN this file's content (re-read when it changes)")
}

// client returns the HTTP client that reaches the upstream, for its
// snapshot and its stream: nil when the flags ask for nothing (the
// relay's default client).
func (u *upstreamSecurity) client() (*http.Client, error) {
	if u.caFile == "" && u.tokenFile == "" {
		return nil, nil
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if u.caFile != "" {
		pem, err := os.ReadFile(u.caFile)
		if err != nil {
			return nil, fmt.Errorf("--upstream-ca-file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--upstream-ca-file %s: no PEM certificate in it", u.caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var rt http.RoundTripper = tr
	if u.tokenFile != "" {
		tf, err := newTokenFile("--upstream-bearer-token-file", u.tokenFile)
		if err != nil {
			return nil, err
		}
		rt = bearerTransport{token: tf, next: tr}
	}
	return &http.Client{Timeout: 60 * time.Second, Transport: rt}, nil
}

// bearerTransport sends the token with every request.
type bearerTransport struct {
	token *tokenFile
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	token, err := b.token.current()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+string(token))
	return b.next.RoundTrip(req)
}
