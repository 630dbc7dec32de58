package main

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOperatorLinksNoKubernetes: the ospf-operator binary, every command
// but agent, links nothing of Kubernetes, whose package initialisation
// (controller-runtime's metrics, client-go's scheme: about 10 ms) every
// command would pay at start. The agent is ospf-operator-agent.
func TestOperatorLinksNoKubernetes(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	forbidden := []string{"k8s.io/", "sigs.k8s.io/",
		"github.com/ospf-operator/ospf-operator/internal/controller",
		"github.com/ospf-operator/ospf-operator/internal/agentcmd",
		"github.com/ospf-operator/ospf-operator/api/"}
	var bad []string
	for pkg := range strings.Lines(string(out)) {
		pkg = strings.TrimSpace(pkg)
		for _, f := range forbidden {
			if strings.HasPrefix(pkg, f) {
				bad = append(bad, pkg)
			}
		}
	}
	if len(bad) > 0 {
		t.Errorf("ospf-operator links %d Kubernetes packages, e.g. %q; keep them in ospf-operator-agent (go mod why -m, go list -deps)", len(bad), bad[:min(5, len(bad))])
	}
	// And the agent binary does link them: the test above is not vacuous.
	out, err = exec.Command("go", "list", "-deps", "./"+agentBinary).Output()
	if err != nil || !bytes.Contains(out, []byte("\nsigs.k8s.io/controller-runtime\n")) {
		t.Errorf("go list -deps ./%s: %v; want controller-runtime among them", agentBinary, err)
	}
}

// runBinary runs path with args and env (nil: this process's) and returns
// stdout, stderr and the exit status.
func runBinary(t *testing.T, env []string, path string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	default:
		t.Fatalf("%s %q: %v", path, args, err)
		return "", "", -1
	}
}

// TestAgentRunsTheAgentBinary: `ospf-operator agent ARGS` is
// `ospf-operator-agent ARGS`, found beside the binary (through links) or on
// $PATH, with its exit statuses; without it, a clear error.
func TestAgentRunsTheAgentBinary(t *testing.T) {
	dir := buildBinaries(t)
	operator := filepath.Join(dir, "ospf-operator")
	emptyPath := []string{"PATH=" + t.TempDir()}

	stdout, stderr, code := runBinary(t, emptyPath, operator, "agent", "--version")
	if code != 0 || !strings.HasPrefix(stdout, agentBinary+" ") {
		t.Errorf("agent --version: exit %d, stdout %q, stderr %q; want the agent binary's version", code, stdout, stderr)
	}
	stdout, _, code = runBinary(t, emptyPath, operator, "agent", "--help")
	if code != 0 || !strings.Contains(stdout, "--leader-elect") || !strings.Contains(stdout, "--kubeconfig") {
		t.Errorf("agent --help: exit %d; want the agent's flags in %q", code, stdout)
	}
	// Flags before `agent` (the root's -v) reach the agent too.
	_, stderr, code = runBinary(t, emptyPath, operator, "-v", "agent", "--no-such-flag")
	if code != 2 || !strings.Contains(stderr, "unknown flag: --no-such-flag") {
		t.Errorf("-v agent --no-such-flag: exit %d, stderr %q; want the agent's usage error and exit 2", code, stderr)
	}
	_, stderr, code = runBinary(t, append(emptyPath, "POD_NAMESPACE="), operator, "agent")
	if code != 1 || !strings.Contains(stderr, "no namespace") {
		t.Errorf("agent without a namespace: exit %d, stderr %q; want the agent's error and exit 1", code, stderr)
	}

	// Through a link in another directory: the agent beside the target.
	link := filepath.Join(t.TempDir(), "ospf-operator")
	if err := os.Symlink(operator, link); err != nil {
		t.Fatal(err)
	}
	if stdout, stderr, code := runBinary(t, emptyPath, link, "agent", "--version"); code != 0 || !strings.HasPrefix(stdout, agentBinary) {
		t.Errorf("through a link: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	// A lone copy: the agent on $PATH, else an error that says what to do.
	alone := filepath.Join(t.TempDir(), "ospf-operator")
	copyFile(t, operator, alone)
	if stdout, stderr, code := runBinary(t, []string{"PATH=" + dir}, alone, "agent", "--version"); code != 0 || !strings.HasPrefix(stdout, agentBinary) {
		t.Errorf("the agent on $PATH: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	_, stderr, code = runBinary(t, emptyPath, alone, "agent", "--version")
	if code != 1 || !strings.Contains(stderr, agentBinary) || !strings.Contains(stderr, "make install") {
		t.Errorf("no agent binary: exit %d, stderr %q; want exit 1 naming %s and how to install it", code, stderr, agentBinary)
	}
	// The other commands need no agent binary.
	if _, stderr, code := runBinary(t, emptyPath, alone, "version"); code != 0 {
		t.Errorf("version without the agent binary: exit %d, %s", code, stderr)
	}
}

// TestAgentReplacesTheProcess: the agent runs in the process that was
// started, not in a child, so the kubelet's signals and the container's
// PID 1 are the agent's.
func TestAgentReplacesTheProcess(t *testing.T) {
	dir := buildBinaries(t)
	// An API server that accepts and never answers holds the agent in its
	// first request.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	kcText := "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://" + ln.Addr().String() +
		"\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n"
	if err := os.WriteFile(kc, []byte(kcText), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(dir, "ospf-operator"), "agent", "--namespace=ns", "--kubeconfig="+kc)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	go func() { // drain
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			t.Log(s.Text())
		}
	}()
	want := filepath.Join(dir, agentBinary)
	var exe string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if exe, _ = os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe"); exe == want {
			break
		}
	}
	if exe != want {
		t.Fatalf("process %d runs %q, want %s in its place", cmd.Process.Pid, exe, want)
	}
	if kids, _ := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children"); len(bytes.TrimSpace(kids)) > 0 {
		t.Errorf("the agent has children %q", kids)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}
