package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// TestExitStatus: bad usage exits 2, as the seed's argparse does; an
// error while running exits 1.
func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{
		{[]string{"ospf-operator", "version"}, 0},
		{[]string{"ospf-operator", "stream", "--bogus"}, 2},
		{[]string{"ospf-operator", "stream", "--server"}, 2},
		{[]string{"ospf-operator", "nonsense"}, 2},
		{[]string{"ospf-operator", "version", "extra"}, 2},
		{[]string{"/usr/local/bin/ospf-stream-client", "--bogus"}, 2},
		{[]string{"ospf-stream-client", "extra"}, 2},
		{[]string{"ospf-operator", "snapshot", "--server", "127.0.0.1:1"}, 1},
	} {
		var stderr bytes.Buffer
		if got := run(c.args, &bytes.Buffer{}, &stderr); got != c.want {
			t.Errorf("%q: exit %d, want %d (%s)", c.args, got, c.want, stderr.String())
		}
	}
}

// TestInvokedAsTheSeed runs the real binary through a link named
// ospf-stream-client, with the seed's flags: it is `ospf-operator stream`.
func TestInvokedAsTheSeed(t *testing.T) {
	link := filepath.Join(t.TempDir(), seedName)
	if err := os.Symlink(buildOperator(t), link); err != nil {
		t.Fatal(err)
	}
	r10 := netip.MustParseAddr("10.10.10.10")
	srv := nycServer(t, ospfapitest.Config{RouterID: r10})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, link, "--server", srv.Addr(), "--holddown", "0")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	g := gomega.NewWithT(t)
	g.Eventually(stderr.String).WithTimeout(15 * time.Second).Should(gomega.ContainSubstring("LSDB loaded"))
	if err := srv.AddExternal(r10, netip.MustParsePrefix("198.51.100.0/24"), 5, false, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	g.Eventually(stdout.String).WithTimeout(10 * time.Second).Should(gomega.ContainSubstring(
		`"entity": {"type": "router", "id": "10.10.10.10"}, "added": {"link": {"external": {"id": "198.51.100.0/24", "metric": 5}}}}`))
	out, err := exec.Command(link, "--help").Output()
	if err != nil || !strings.Contains(string(out), "--events-path-prefix") || !strings.Contains(string(out), "--ws-listen") {
		t.Fatalf("%s --help: %v\n%s", seedName, err, out)
	}
}
