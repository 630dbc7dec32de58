package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/buildtest"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// TestDemoCleansUpWhenItsOutputGoes runs the built demo as `make demo`
// does, with its standard output a pipe, and takes the output away once it
// is ready: the reader closes the pipe (`make demo | tee log`, then
// Ctrl-C), or the terminal hangs up (SIGHUP). Either way the demo must stop
// and leave no process, network namespace or FRR daemon behind.
func TestDemoCleansUpWhenItsOutputGoes(t *testing.T) {
	if err := frrlab.Check(); err != nil {
		skipOrFail(t, err.Error())
	}
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("..", "..", "bin", "k8s", "1.37.2")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, b)); err != nil {
			skipOrFail(t, "envtest binaries missing: run hack/build-envtest.sh")
		}
	}
	dir := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, "demo"), ".").CombinedOutput(); err != nil {
		t.Fatalf("go build the demo: %v\n%s", err, out)
	}
	if _, err := buildtest.Build(dir); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name string
		lose func(t *testing.T, demo *exec.Cmd, r *os.File)
	}{
		{"the pipe's reader closes it", func(t *testing.T, _ *exec.Cmd, r *os.File) { r.Close() }},
		{"the terminal hangs up", func(t *testing.T, demo *exec.Cmd, r *os.File) {
			if err := demo.Process.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			r.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := "oodemoout" + strconv.Itoa(i)
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			demo := exec.Command(filepath.Join(dir, "demo"), "-binary", filepath.Join(dir, "ospf-operator"),
				"-assets", assets, "-manifest", "../../config/manager/daemonset.yaml", "-crds", "../../config/crd/bases",
				"-dir", filepath.Join(dir, prefix), "-prefix", prefix, "-port-offset", strconv.Itoa(freePortOffset(t)))
			demo.Stdout = w
			demo.Stderr = os.Stderr
			if err := demo.Start(); err != nil {
				t.Fatal(err)
			}
			w.Close()
			exited := make(chan error, 1)
			go func() { exited <- demo.Wait() }()
			t.Cleanup(func() {
				_ = demo.Process.Kill()
				_ = frrlab.Teardown(frrlab.Options{Prefix: prefix})
			})

			ready := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(r)
				for sc.Scan() {
					if strings.Contains(sc.Text(), "The OSPF network is mirrored") {
						close(ready)
						return
					}
				}
			}()
			select {
			case <-ready:
			case err := <-exited:
				t.Fatalf("the demo exited before it was ready: %v", err)
			case <-time.After(3 * time.Minute):
				t.Fatal("the demo not ready after 3 minutes")
			}
			started := startedBy(demo.Process.Pid, prefix)
			if len(started) < 5 {
				t.Fatalf("found only %d processes of the demo: %v", len(started), started)
			}
			// Whatever the demo leaves behind dies with the test.
			t.Cleanup(func() {
				for pid, cmdline := range started {
					if alive(pid, cmdline) {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			})
			tc.lose(t, demo, r)
			select {
			case err := <-exited:
				t.Logf("the demo stopped: %v", err)
			case <-time.After(2 * time.Minute):
				t.Fatal("the demo did not stop within 2 minutes of losing its output")
			}
			if code := demo.ProcessState.ExitCode(); code != 0 {
				t.Errorf("the demo exited with %d (%v), want a clean stop", code, demo.ProcessState)
			}
			for pid, cmdline := range started {
				if alive(pid, cmdline) {
					t.Errorf("left running: %d %s", pid, cmdline)
				}
			}
			out, _ := exec.Command("ip", "netns", "list").Output()
			if strings.Contains(string(out), prefix) {
				t.Errorf("network namespaces left:\n%s", out)
			}
		})
	}
}

// startedBy returns the demo's children (API server, etcd, agent, relay)
// and the processes of its lab (FRR daemons), by pid and command line.
func startedBy(pid int, prefix string) map[int]string {
	out := map[int]string{}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		n, err := strconv.Atoi(filepath.Base(p))
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(p + "/cmdline")
		if err != nil {
			continue
		}
		status, _ := os.ReadFile(p + "/status")
		child := strings.Contains(string(status), "\nPPid:\t"+strconv.Itoa(pid)+"\n")
		if child || strings.Contains(string(cmdline), prefix) {
			out[n] = strings.ReplaceAll(string(cmdline), "\x00", " ")
		}
	}
	return out
}

// alive says whether pid still runs the same command.
func alive(pid int, cmdline string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.ReplaceAll(string(b), "\x00", " ") == cmdline
}

func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: the demo test must run)", msg)
	}
	t.Skip(msg)
}

// freePortOffset returns an offset that moves the manifest's ports
// (9620-9623) to four free ones, away from other tests' fixed ports.
func freePortOffset(t *testing.T) int {
	t.Helper()
	for offset := 1000 + os.Getpid()%400*10; offset < 9000; offset += 10 {
		free := true
		for port := 9620 + offset; port <= 9623+offset && free; port++ {
			l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return offset
		}
	}
	t.Fatal("no four free ports")
	return 0
}
