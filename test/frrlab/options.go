package frrlab

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"time"
)

// Options configure a lab. The zero value is a valid default lab.
type Options struct {
	// Prefix names everything the lab creates: namespaces are
	// "<Prefix>-r1" .. "<Prefix>-r5" and "<Prefix>-lan". Labs with
	// different prefixes run side by side; Up first removes the leftovers
	// of an earlier lab with the same prefix. Empty means
	// "oolab-<pid>-<n>", unique per process and lab.
	Prefix string

	// Dir holds each router's configs, sockets, pid files and daemon logs
	// (Dir/<router>/). Empty means $TMPDIR/frrlab/<Prefix>. Up empties it
	// first; Down removes it.
	Dir string

	// StaticRoutes adds that many /32 static routes, 100.64.0.0 upwards, to
	// r4's staticd config; r4 redistributes them as AS-external LSAs.
	StaticRoutes int

	// ExtraStubs adds, per router name, that many /32 addresses to the
	// router's loopback, each a stub link in its Router-LSA
	// (172.<16+n>.0.1 upwards for router rn). 130 on one router makes its
	// Router-LSA larger than 1,500 bytes.
	ExtraStubs map[string]int

	// NSSA makes area 0.0.0.1 a not-so-stubby area: r5's redistributed
	// static becomes an NSSA-external (type 7) LSA that r3 translates into
	// an AS-external LSA, and no ASBR-summary LSA exists anywhere. By
	// default area 0.0.0.1 is a normal area, which has ASBR-summary LSAs
	// for r4 (in area 1) and r5 (in area 0).
	NSSA bool

	// ConvergeTimeout bounds the wait for convergence in Up. Zero means
	// 60 s plus 1 s per 1,000 static routes.
	ConvergeTimeout time.Duration

	// Logf, if set, receives progress lines.
	Logf func(format string, args ...any) `json:"-"`
}

// prefixRE restricts prefixes so that namespace names stay short and safe
// as file names and ip(8) arguments.
var prefixRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_-]{0,39}$`)

var labCounter atomic.Int64

// defaultPrefixFormat is the pattern of generated prefixes; SweepStale
// recognises it to remove labs of processes that no longer exist.
const defaultPrefixFormat = "oolab-%d-%d"

// withDefaults returns o with empty fields filled and validated.
func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = fmt.Sprintf(defaultPrefixFormat, os.Getpid(), labCounter.Add(1))
	}
	if !prefixRE.MatchString(o.Prefix) {
		return o, fmt.Errorf("frrlab: prefix %q: want 1-40 of [a-zA-Z0-9_-], starting alphanumeric", o.Prefix)
	}
	if o.Dir == "" {
		o.Dir = filepath.Join(os.TempDir(), "frrlab", o.Prefix)
	}
	if o.StaticRoutes < 0 || o.StaticRoutes > maxStaticRoutes {
		return o, fmt.Errorf("frrlab: StaticRoutes %d out of range [0, %d]", o.StaticRoutes, maxStaticRoutes)
	}
	for name, n := range o.ExtraStubs {
		if routerNumber(name) == 0 {
			return o, fmt.Errorf("frrlab: ExtraStubs: no router %q", name)
		}
		if n < 0 || n > maxExtraStubs {
			return o, fmt.Errorf("frrlab: ExtraStubs[%s] %d out of range [0, %d]", name, n, maxExtraStubs)
		}
	}
	if o.ConvergeTimeout == 0 {
		o.ConvergeTimeout = 60*time.Second + time.Duration(o.StaticRoutes)*time.Millisecond
	}
	return o, nil
}

func (o Options) logf(format string, args ...any) {
	if o.Logf != nil {
		o.Logf(format, args...)
	}
}
