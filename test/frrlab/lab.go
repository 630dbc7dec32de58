package frrlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a daemon may take to exit after SIGTERM.
const stopGrace = 10 * time.Second

// stateFile, in the lab directory, records the options of a running lab so
// that another process can Attach to it.
const stateFile = "lab.json"

// startOrder starts the LAN's designated router first: OSPF does not
// preempt, so the first router up on the LAN with the highest priority
// stays DR.
var startOrder = []string{"r3", "r2", "r4", "r1", "r5"}

// Lab is a running FRR network. Its methods are safe for concurrent use.
type Lab struct {
	opts Options
	topo *Topology
	bin  string

	mu      sync.Mutex
	daemons map[string]*daemon // "r1/ospfd" -> daemon; only for labs this process started
	node    *Node              // the lab's node in the host's namespace, if started (StartNode)
	down    bool
}

// Up builds the lab described by opts and returns once it has converged.
// It first removes what an earlier lab with the same prefix left behind and
// labs of the default prefix whose process no longer exists. If Up fails it
// removes everything it created; the error carries the daemons' logs.
func Up(ctx context.Context, opts Options) (*Lab, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := Check(); err != nil {
		return nil, err
	}
	bin, err := frrDir()
	if err != nil {
		return nil, err
	}
	if err := SweepStale(); err != nil {
		opts.logf("frrlab: sweeping stale labs: %v", err)
	}
	if err := Teardown(opts); err != nil {
		return nil, fmt.Errorf("frrlab: removing leftovers of %s: %w", opts.Prefix, err)
	}
	l := &Lab{opts: opts, topo: buildTopology(opts), bin: bin, daemons: map[string]*daemon{}}
	start := time.Now()
	if err := l.up(ctx); err != nil {
		if derr := l.Down(); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, err
	}
	opts.logf("frrlab: %s converged in %v", opts.Prefix, time.Since(start).Round(time.Millisecond))
	return l, nil
}

func (l *Lab) up(ctx context.Context) error {
	if err := l.writeFiles(); err != nil {
		return err
	}
	if err := buildNetwork(ctx, l.topo, l.opts.Prefix); err != nil {
		return fmt.Errorf("frrlab: building network: %w", err)
	}
	for _, name := range startOrder {
		r, _ := l.topo.Router(name)
		for _, dn := range daemons {
			if err := l.StartDaemon(ctx, r.Name, dn); err != nil {
				return err
			}
		}
	}
	l.opts.logf("frrlab: %s: daemons started, waiting for convergence", l.opts.Prefix)
	cctx, cancel := context.WithTimeout(ctx, l.opts.ConvergeTimeout)
	defer cancel()
	return l.WaitConverged(cctx)
}

// writeFiles creates the lab directory, owned by the daemons' user, with
// every router's configs and the state file.
func (l *Lab) writeFiles() error {
	u, err := user.Lookup(daemonUser)
	if err != nil {
		return fmt.Errorf("frrlab: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	mkdir := func(dir string) error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("frrlab: %w", err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return fmt.Errorf("frrlab: %w", err)
		}
		return os.Chown(dir, uid, gid)
	}
	// ospfd keeps its graceful-restart state in FRR's state directory,
	// whatever the other paths say; it must exist and be writable.
	if err := mkdir(filepath.Dir(filepath.Clean(l.opts.Dir))); err != nil {
		return err
	}
	if _, err := os.Stat("/var/run/frr"); errors.Is(err, fs.ErrNotExist) {
		if err := mkdir("/var/run/frr"); err != nil {
			return err
		}
	}
	if err := mkdir(l.opts.Dir); err != nil {
		return err
	}
	state, err := json.MarshalIndent(l.opts, "", "  ")
	if err != nil {
		return fmt.Errorf("frrlab: %w", err)
	}
	if err := os.WriteFile(filepath.Join(l.opts.Dir, stateFile), append(state, '\n'), 0o644); err != nil {
		return fmt.Errorf("frrlab: %w", err)
	}
	for _, r := range l.topo.Routers {
		if err := mkdir(r.Dir); err != nil {
			return err
		}
		files := map[string][]byte{
			"zebra":   zebraConfig(r),
			"staticd": staticdConfig(l.topo, r),
			"ospfd":   ospfdConfig(l.topo, r),
		}
		for dn, data := range files {
			if err := os.WriteFile(confFile(r, dn), data, 0o644); err != nil {
				return fmt.Errorf("frrlab: %w", err)
			}
		}
	}
	return nil
}

// Attach returns the lab another process started with the same Prefix and
// Dir, for vtysh, Exec and Down. Its daemons are not this process's
// children: Down ends them by namespace.
func Attach(opts Options) (*Lab, error) {
	if opts.Prefix == "" {
		return nil, errors.New("frrlab: Attach needs the lab's Prefix")
	}
	def, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(def.Dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("frrlab: no lab %s: %w", opts.Prefix, err)
	}
	var saved Options
	if err := json.Unmarshal(data, &saved); err != nil {
		return nil, fmt.Errorf("frrlab: %s: %w", filepath.Join(def.Dir, stateFile), err)
	}
	saved.Logf = opts.Logf
	saved, err = saved.withDefaults()
	if err != nil {
		return nil, err
	}
	bin, err := frrDir()
	if err != nil {
		return nil, err
	}
	return &Lab{opts: saved, topo: buildTopology(saved), bin: bin, daemons: map[string]*daemon{}}, nil
}

// Teardown removes everything of the lab with opts.Prefix (and opts.Dir,
// or its default): it ends every process in the lab's namespaces, deletes
// the namespaces with their interfaces, and removes the directory. It
// succeeds when there is nothing to remove.
func Teardown(opts Options) error {
	if opts.Prefix == "" {
		return errors.New("frrlab: Teardown needs the lab's Prefix")
	}
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	names := namespaces(opts.Prefix)
	return errors.Join(
		// The node first: its daemons are in no lab namespace.
		teardownNode(filepath.Join(opts.Dir, nodeName)),
		killNamespaceProcs(names, stopGrace),
		deleteNamespaces(names),
		os.RemoveAll(opts.Dir),
	)
}

// SweepStale tears down every lab with a generated prefix
// ("oolab-<pid>-<n>") whose process no longer runs: what a test binary that
// crashed or was killed left behind.
func SweepStale() error {
	entries, err := os.ReadDir(netnsDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	seen := map[string]bool{}
	var errs []error
	for _, e := range entries {
		var pid, n int
		var rest string
		// Sscanf stops at the router name; check the whole name below.
		if _, err := fmt.Sscanf(e.Name(), "oolab-%d-%d-%s", &pid, &n, &rest); err != nil {
			continue
		}
		prefix := fmt.Sprintf(defaultPrefixFormat, pid, n)
		if seen[prefix] || !slices.Contains(namespaces(prefix), e.Name()) {
			continue
		}
		seen[prefix] = true
		if pid == os.Getpid() || processAlive(pid) {
			continue
		}
		errs = append(errs, Teardown(Options{Prefix: prefix}))
	}
	return errors.Join(errs...)
}

// processAlive reports whether pid is a live (not zombie) process.
func processAlive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses, which may itself
	// contain parentheses.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	return data[i+2] != 'Z' && data[i+2] != 'X'
}

// Down stops the daemons and removes the namespaces, interfaces and
// directory of the lab. It can be called more than once.
func (l *Lab) Down() error {
	l.mu.Lock()
	node := l.node
	l.mu.Unlock()
	var nodeErr error
	if node != nil {
		nodeErr = node.Stop()
	}
	l.mu.Lock()
	l.down = true
	ds := make([]*daemon, 0, len(l.daemons))
	for _, d := range l.daemons {
		ds = append(ds, d)
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Go(func() { d.stop(stopGrace) })
	}
	wg.Wait()
	return errors.Join(nodeErr, Teardown(l.opts))
}

// Options returns the lab's options, defaults filled in.
func (l *Lab) Options() Options { return l.opts }

// Topology returns the network the lab built. Callers must not modify it.
func (l *Lab) Topology() *Topology { return l.topo }

// Routers returns the lab's routers, r1 to r5.
func (l *Lab) Routers() []Router { return slices.Clone(l.topo.Routers) }

// Router returns the router called name.
func (l *Lab) Router(name string) (Router, error) {
	r, ok := l.topo.Router(name)
	if !ok {
		return Router{}, fmt.Errorf("frrlab: no router %q", name)
	}
	return r, nil
}

// StartDaemon starts FRR's daemon ("zebra", "staticd" or "ospfd") on router
// from its config file, and returns once its vty socket is up. Changes made
// through vtysh since the lab started are not in that file.
func (l *Lab) StartDaemon(ctx context.Context, router, name string) error {
	r, err := l.Router(router)
	if err != nil {
		return err
	}
	if !slices.Contains(daemons, name) {
		return fmt.Errorf("frrlab: no daemon %q (want one of %s)", name, strings.Join(daemons, ", "))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return errLabDown
	}
	key := router + "/" + name
	if d := l.daemons[key]; d != nil && !d.exited() {
		return fmt.Errorf("frrlab: %s already runs on %s", name, router)
	}
	// Files of the previous instance would make the start look done.
	for _, f := range []string{vtySock(r, name), pidFile(r, name)} {
		_ = os.Remove(f)
	}
	d, err := startDaemon(ctx, l.bin, r, name)
	if err != nil {
		return err
	}
	l.daemons[key] = d
	return nil
}

// StopDaemon stops the daemon on router (SIGTERM, then SIGKILL) and waits
// until it has exited.
func (l *Lab) StopDaemon(router, name string) error {
	r, err := l.Router(router)
	if err != nil {
		return err
	}
	l.mu.Lock()
	d := l.daemons[router+"/"+name]
	l.mu.Unlock()
	if d != nil {
		d.stop(stopGrace)
		l.mu.Lock()
		if l.daemons[router+"/"+name] == d {
			delete(l.daemons, router+"/"+name)
		}
		l.mu.Unlock()
		return nil
	}
	// Attached lab: find the daemon by its pid file.
	data, err := os.ReadFile(pidFile(r, name))
	if err != nil {
		return fmt.Errorf("frrlab: %s on %s: %w", name, router, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("frrlab: %s on %s: bad pid file %q", name, router, data)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	_ = p.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(stopGrace)
	for processAlive(pid) {
		if time.Now().After(deadline) {
			_ = p.Kill()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// RestartDaemon stops and starts the daemon on router.
func (l *Lab) RestartDaemon(ctx context.Context, router, name string) error {
	if err := l.StopDaemon(router, name); err != nil {
		return err
	}
	return l.StartDaemon(ctx, router, name)
}

// Exec returns a command that runs args inside router's network namespace
// (through ip netns exec). Run it, for example, to start our binary
// attached to the router's OSPF API on 127.0.0.1:2607.
func (l *Lab) Exec(router string, args ...string) *exec.Cmd {
	return l.ExecContext(context.Background(), router, args...)
}

// ExecContext is Exec with a context that kills the command.
func (l *Lab) ExecContext(ctx context.Context, router string, args ...string) *exec.Cmd {
	ns := l.opts.Prefix + "-" + router
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

// InNamespace runs fn on an OS thread inside router's network namespace.
// Sockets fn opens (net.Dial, net.Listen) stay in that namespace, so a
// client can connect to 127.0.0.1:2607 and listen for ospfd's reverse
// connection there, then be used from any goroutine. Goroutines fn starts
// run outside the namespace.
func (l *Lab) InNamespace(router string, fn func() error) error {
	r, err := l.Router(router)
	if err != nil {
		return err
	}
	return inNamespace(filepath.Join(netnsDir, r.Namespace), fn)
}

// Vtysh runs the commands, in order, in one vtysh session on router and
// returns what they print. A failing command makes the error, which
// includes the output.
func (l *Lab) Vtysh(router string, cmds ...string) (string, error) {
	return l.VtyshContext(context.Background(), router, cmds...)
}

// VtyshContext is Vtysh with a context that kills vtysh.
func (l *Lab) VtyshContext(ctx context.Context, router string, cmds ...string) (string, error) {
	r, err := l.Router(router)
	if err != nil {
		return "", err
	}
	return vtysh(ctx, r, cmds...)
}

// vtysh runs the commands in one vtysh session with r's daemons.
func vtysh(ctx context.Context, r Router, cmds ...string) (string, error) {
	args := []string{"--vty_socket", r.Dir}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "vtysh", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("frrlab: vtysh on %s %q: %w: %s", r.Name, cmds,
			err, bytes.TrimSpace(append(stdout.Bytes(), stderr.Bytes()...)))
	}
	return stdout.String(), nil
}

// Configure applies configuration commands on router, as typed after
// "configure terminal" (e.g. "router ospf", "redistribute connected").
func (l *Lab) Configure(router string, cmds ...string) error {
	out, err := l.Vtysh(router, append([]string{"configure terminal"}, cmds...)...)
	if err != nil {
		return err
	}
	if s := strings.TrimSpace(out); s != "" {
		return fmt.Errorf("frrlab: configure %s %q: %s", router, cmds, s)
	}
	return nil
}

// VtyshJSON runs one show command ending in "json" on router and decodes
// its output into v.
func (l *Lab) VtyshJSON(router, cmd string, v any) error {
	out, err := l.Vtysh(router, cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("frrlab: %s on %s: %w", cmd, router, err)
	}
	return nil
}

// LogTails returns the end of every daemon's startup output and log, for
// a failing test to print.
func (l *Lab) LogTails() string {
	var b strings.Builder
	for _, r := range l.topo.Routers {
		for _, dn := range daemons {
			b.WriteString(daemonOutput(r, dn))
		}
	}
	return b.String()
}

// checkDaemons returns a *DaemonError for the first daemon started by this
// process that has exited.
func (l *Lab) checkDaemons() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, d := range l.daemons {
		if d.exited() {
			r, _ := l.topo.Router(d.router)
			return &DaemonError{Router: d.router, Daemon: d.name, Err: fmt.Errorf("exited: %w", d.err), Output: daemonOutput(r, d.name)}
		}
	}
	return nil
}
