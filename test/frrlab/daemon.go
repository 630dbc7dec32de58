package frrlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// daemonStartTimeout bounds how long one daemon may take to open its vty
// socket.
const daemonStartTimeout = 30 * time.Second

// daemon is one running FRR daemon, a child of this process.
type daemon struct {
	router string
	name   string
	cmd    *exec.Cmd
	done   chan struct{} // closed once the process has been reaped
	err    error         // exit status, valid after done
}

// Paths of a daemon's files in its router's directory.
func pidFile(r Router, name string) string  { return filepath.Join(r.Dir, name+".pid") }
func confFile(r Router, name string) string { return filepath.Join(r.Dir, name+".conf") }
func logFile(r Router, name string) string  { return filepath.Join(r.Dir, name+".log") }
func outFile(r Router, name string) string  { return filepath.Join(r.Dir, name+".out") }
func vtySock(r Router, name string) string  { return filepath.Join(r.Dir, name+".vty") }
func zservSock(r Router) string             { return filepath.Join(r.Dir, "zserv.api") }

// startDaemon starts FRR's name daemon for router r inside its namespace
// (the host's own when r.Namespace is empty: a Node) and waits until its
// vty socket exists.
//
// Every path the daemon uses is given explicitly (pid file, zebra socket,
// vty socket directory, config, log), so that the lab touches nothing of a
// system FRR. The daemon runs in the foreground as our child, so that we
// reap it, in its own session, so that a Ctrl-C meant for the process that
// started the lab does not reach it.
func startDaemon(ctx context.Context, bin string, r Router, name string) (*daemon, error) {
	args := []string{
		"-u", daemonUser, "-g", daemonUser,
		"-i", pidFile(r, name),
		"-z", zservSock(r),
		"--vty_socket", r.Dir,
		"-P", "0", // no TCP vty: vtysh uses the socket
		"-f", confFile(r, name),
		"--log", "file:" + logFile(r, name),
	}
	if name == "ospfd" {
		args = append(args, "-a")
	}
	out, err := os.OpenFile(outFile(r, name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("frrlab: %s %s: %w", r.Name, name, err)
	}
	defer out.Close() // the child holds its own copy
	cmd := exec.Command(filepath.Join(bin, name), args...)
	if r.Namespace != "" {
		cmd = exec.Command("ip", append([]string{"netns", "exec", r.Namespace, filepath.Join(bin, name)}, args...)...)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("frrlab: start %s on %s: %w", name, r.Name, err)
	}
	d := &daemon{router: r.Name, name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		if d.err == nil {
			d.err = errors.New("exit status 0")
		}
		close(d.done)
	}()
	ready := []string{vtySock(r, name)}
	if name == "zebra" {
		ready = append(ready, zservSock(r))
	}
	ctx, cancel := context.WithTimeout(ctx, daemonStartTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if allExist(ready) {
			return d, nil
		}
		select {
		case <-d.done:
			return nil, &DaemonError{Router: r.Name, Daemon: name, Err: fmt.Errorf("exited during start: %w", d.err), Output: daemonOutput(r, name)}
		case <-ctx.Done():
			d.stop(time.Second)
			return nil, &DaemonError{Router: r.Name, Daemon: name, Err: fmt.Errorf("no vty socket: %w", ctx.Err()), Output: daemonOutput(r, name)}
		case <-tick.C:
		}
	}
}

// stop ends the daemon: SIGTERM, then SIGKILL after grace.
func (d *daemon) stop(grace time.Duration) {
	if d.exited() {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return
	case <-time.After(grace):
	}
	_ = d.cmd.Process.Kill()
	<-d.done
}

func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

func allExist(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// DaemonError reports an FRR daemon that failed, with what it printed and
// the end of its log.
type DaemonError struct {
	Router, Daemon string
	Err            error
	Output         string
}

func (e *DaemonError) Error() string {
	return fmt.Sprintf("frrlab: %s on %s: %v\n%s", e.Daemon, e.Router, e.Err, e.Output)
}

func (e *DaemonError) Unwrap() error { return e.Err }

// logTailLines is how much of each log an error or a failing test shows.
const logTailLines = 40

// daemonOutput returns a daemon's startup output and the end of its log.
func daemonOutput(r Router, name string) string {
	var b strings.Builder
	for _, f := range []string{outFile(r, name), logFile(r, name)} {
		if t := tail(f, logTailLines); t != "" {
			fmt.Fprintf(&b, "--- %s\n%s", f, t)
		}
	}
	return b.String()
}

// tail returns the last n lines of the file, or "" if it is empty or
// unreadable.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil || len(data) == 0 {
		return ""
	}
	var lines []string
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if line != "" && !noise(line) {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// noise reports log lines that say nothing about a failure: ospfd 8.4
// logs interface and neighbour changes for its API server as warnings.
func noise(line string) bool {
	return strings.Contains(line, "ospf_apiserver_") || strings.Contains(line, "] ifp name=")
}

var errLabDown = errors.New("frrlab: lab is down")
