package main

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// output is the demo's standard output, guarded so that losing it stops
// the demo instead of killing it halfway through its cleanup: `make demo |
// tee log` and Ctrl-C, where tee dies first, or `make demo | head`.
//
// Go kills a program that writes to a closed pipe on file descriptor 1
// with SIGPIPE unless it asks for the signal; output asks for it, so a
// write fails with EPIPE instead, and it then calls lost once and drops
// everything written after. A pipe whose reader goes away while the demo
// waits quietly is noticed too, by polling descriptor 1 for POLLERR.
type output struct {
	f    *os.File
	lost func()

	mu   sync.Mutex
	gone bool
}

func newOutput(f *os.File, lost func()) *output {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	o := &output{f: f, lost: lost}
	if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		go o.watch()
	}
	return o
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.gone {
		return len(p), nil
	}
	n, err := o.f.Write(p)
	if err != nil && (errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed)) {
		o.lose()
		return len(p), nil
	}
	return n, err
}

// lose marks the output gone and tells the demo, once; o.mu is held.
func (o *output) lose() {
	if !o.gone {
		o.gone = true
		go o.lost()
	}
}

// watch waits for the reader of the pipe to close it.
func (o *output) watch() {
	fds := []unix.PollFd{{Fd: int32(o.f.Fd()), Events: 0}}
	for {
		n, err := unix.Poll(fds, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n > 0 && fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
			o.mu.Lock()
			o.lose()
			o.mu.Unlock()
			return
		}
	}
}

var _ io.Writer = (*output)(nil)
