package frrlab

import (
	"context"
	"os"
	"time"
)

// TB is the part of testing.TB that Start uses; *testing.T and *testing.B
// satisfy it. (This package does not import testing, so that `make demo`'s
// binary does not link it.)
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Cleanup(func())
	Failed() bool
}

// startTimeout bounds Start's whole bring-up, convergence included.
const startTimeout = 5 * time.Minute

// Start brings a lab up for a test and tears it down in t.Cleanup. When
// the prerequisites are missing (see Check) it skips the test, or fails it
// when the environment variable CI is "true", so that CI cannot pass
// without running the lab. If the test fails, the end of every daemon's
// log is logged before the lab goes.
func Start(t TB, opts Options) *Lab {
	t.Helper()
	if err := Check(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v (CI=true: the FRR lab must run)", err)
		}
		t.Skipf("%v", err)
	}
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	l, err := Up(ctx, opts)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("frrlab %s: daemon logs:\n%s", l.opts.Prefix, l.LogTails())
		}
		if err := l.Down(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return l
}
