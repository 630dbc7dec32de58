package frrlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// netnsDir is where ip(8) keeps named network namespaces.
const netnsDir = "/run/netns"

// runIP runs ip with args, feeding it stdin if not nil (for -batch -).
func runIP(ctx context.Context, stdin []byte, args ...string) error {
	cmd := exec.CommandContext(ctx, "ip", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// nsExists reports whether the named namespace exists.
func nsExists(name string) bool {
	_, err := os.Stat(filepath.Join(netnsDir, name))
	return err == nil
}

// buildNetwork creates the namespaces and links of t, and addresses them.
func buildNetwork(ctx context.Context, t *Topology, prefix string) error {
	var b bytes.Buffer
	for _, ns := range namespaces(prefix) {
		fmt.Fprintf(&b, "netns add %s\n", ns)
	}
	if err := runIP(ctx, b.Bytes(), "-batch", "-"); err != nil {
		return err
	}
	lanNS := prefix + "-" + lanName
	b.Reset()
	// Each veth end is created directly in its namespace, so its name
	// only has to be unique there and nothing touches the host's
	// namespace.
	for _, l := range t.Links {
		switch l.Kind {
		case PointToPoint:
			a, z := l.Ends[0], l.Ends[1]
			ra, _ := t.Router(a.Router)
			rz, _ := t.Router(z.Router)
			fmt.Fprintf(&b, "link add %s netns %s type veth peer name %s netns %s\n",
				a.Interface, ra.Namespace, z.Interface, rz.Namespace)
		case Broadcast:
			for _, a := range l.Ends {
				r, _ := t.Router(a.Router)
				fmt.Fprintf(&b, "link add %s netns %s type veth peer name %s netns %s\n",
					a.Interface, r.Namespace, a.Router, lanNS)
			}
		}
	}
	if err := runIP(ctx, b.Bytes(), "-batch", "-"); err != nil {
		return err
	}
	// The LAN is a bridge in its own namespace. Multicast snooping off:
	// OSPF's hellos go to 224.0.0.5 and must reach every port.
	b.Reset()
	fmt.Fprintf(&b, "link set lo up\nlink add %s type bridge mcast_snooping 0\nlink set %s up\n", bridgeName, bridgeName)
	if l, ok := t.Link(lanName); ok {
		for _, a := range l.Ends {
			fmt.Fprintf(&b, "link set %s master %s\nlink set %s up\n", a.Router, bridgeName, a.Router)
		}
	}
	if err := runIP(ctx, b.Bytes(), "-n", lanNS, "-batch", "-"); err != nil {
		return err
	}
	for _, r := range t.Routers {
		if err := runIP(ctx, addressScript(t, r), "-n", r.Namespace, "-batch", "-"); err != nil {
			return err
		}
	}
	return nil
}

// deleteNamespaces removes the named namespaces that exist, with every
// interface in them.
func deleteNamespaces(names []string) error {
	var errs []error
	for _, ns := range names {
		if !nsExists(ns) {
			continue
		}
		if err := runIP(context.Background(), nil, "netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// nsProcs returns the pids of the live processes in any of the named
// namespaces (what `ip netns pids` prints), zombies excluded.
func nsProcs(names []string) []int {
	type nsID struct{ dev, ino uint64 }
	want := map[nsID]bool{}
	for _, ns := range names {
		fi, err := os.Stat(filepath.Join(netnsDir, ns))
		if err != nil {
			continue
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			continue
		}
		want[nsID{uint64(st.Dev), st.Ino}] = true
	}
	if len(want) == 0 {
		return nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fi, err := os.Stat(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err != nil {
			continue // gone, or a zombie
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok && want[nsID{uint64(st.Dev), st.Ino}] {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killNamespaceProcs ends every process in the named namespaces: SIGTERM,
// then SIGKILL for those still there after grace.
func killNamespaceProcs(names []string, grace time.Duration) error {
	pids := nsProcs(names)
	if len(pids) == 0 {
		return nil
	}
	for _, pid := range pids {
		_ = unix.Kill(pid, unix.SIGTERM)
	}
	if waitNoProcs(names, grace) {
		return nil
	}
	for _, pid := range nsProcs(names) {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
	if waitNoProcs(names, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("frrlab: processes %v still running in %s", nsProcs(names), strings.Join(names, ", "))
}

// waitNoProcs polls until the named namespaces hold no live process.
func waitNoProcs(names []string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		if len(nsProcs(names)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inNamespace runs fn on a goroutine locked to an OS thread that has
// entered the network namespace at nsPath. Sockets fn creates belong to
// that namespace for their whole life, whichever goroutine uses them later.
func inNamespace(nsPath string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No deferred unlock: if the thread cannot return to its own
		// namespace it must not run other goroutines, and a locked thread
		// ends with its goroutine.
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("frrlab: open own network namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("frrlab: open namespace: %w", &fs.PathError{Op: "open", Path: nsPath, Err: err})
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("frrlab: enter namespace %s: %w", nsPath, err)
			return
		}
		fnErr := fn()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(fnErr, fmt.Errorf("frrlab: leave namespace %s: %w", nsPath, err))
			return
		}
		runtime.UnlockOSThread()
		errc <- fnErr
	}()
	return <-errc
}
