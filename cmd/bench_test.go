package main

import (
	"io"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// BenchmarkSnapshotCommandNYCx40 runs the whole `ospf-operator snapshot`
// binary against the fake ospfd serving the NYC LSDB cloned 40 times
// (51,480 LSAs): process start, connect, load, and printing the 16 MB
// snapshot to a pipe. It reports the process's peak RSS. Goals: well under
// a second; the load within 150 MB RSS.
func BenchmarkSnapshotCommandNYCx40(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "ospf-operator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	lsas, err := ospfapitest.Clone(ospfapitest.NYC(b), 40)
	if err != nil {
		b.Fatal(err)
	}
	srv := ospfapitest.Start(b, ospfapitest.Config{}, lsas)
	var maxRSS int64
	var outBytes int64
	for b.Loop() {
		cmd := exec.Command(bin, "snapshot", "--server", srv.Addr())
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, out)
		if err := cmd.Wait(); err != nil {
			b.Fatalf("snapshot: %v", err)
		}
		outBytes = n
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxRSS = max(maxRSS, ru.Maxrss)
		}
	}
	b.ReportMetric(float64(maxRSS)/1024, "maxRSS-MB")
	b.ReportMetric(float64(outBytes)/1e6, "out-MB")
}
