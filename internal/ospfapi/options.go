package ospfapi

import (
	"log/slog"
	"net"
	"time"
)

// Defaults of the options.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultProbeInterval = 30 * time.Second
	defaultPortAttempts  = 64
)

// DefaultKeepAlive is the TCP keep-alive of both sockets: a peer that
// vanishes without closing (host down, cable cut) is noticed after about
// 30 s of silence.
var DefaultKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// Option configures Dial.
type Option func(*options)

type options struct {
	log           *slog.Logger
	timeout       time.Duration
	probeInterval time.Duration
	keepAlive     net.KeepAliveConfig
	filter        LSAFilter
	portAttempts  int
}

func defaultOptions() options {
	return options{
		log:           slog.New(slog.DiscardHandler),
		timeout:       DefaultTimeout,
		probeInterval: DefaultProbeInterval,
		keepAlive:     DefaultKeepAlive,
		filter:        AllLSAs,
		portAttempts:  defaultPortAttempts,
	}
}

// WithLogger sets the logger (default: none).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithTimeout bounds connecting (TCP connect and ospfd's connection back)
// and the wait for each reply. Default DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithProbeInterval sets how often, once the dump is complete, Sync asks
// ospfd for its router ID to check that ospfd and both channels are alive:
// the reply must come within the timeout, and the asynchronous channel
// must not stay silent for longer than interval plus timeout. 0 disables
// probes (then only TCP keep-alive notices a dead peer). Default
// DefaultProbeInterval.
func WithProbeInterval(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.probeInterval = d
		}
	}
}

// WithKeepAlive sets TCP keep-alive of both sockets (default DefaultKeepAlive).
func WithKeepAlive(cfg net.KeepAliveConfig) Option {
	return func(o *options) { o.keepAlive = cfg }
}

// WithFilter sets the LSA filter of REGISTER_EVENT and SYNC_LSDB (default
// AllLSAs: every type, every area, any origin).
func WithFilter(f LSAFilter) Option {
	return func(o *options) { o.filter = f }
}
