package main

import (
	"io"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/history/historytest"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// BenchmarkSnapshotCommandNYCx40 runs the whole `ospf-operator snapshot`
// binary against the fake ospfd serving the NYC LSDB cloned 40 times
// (51,480 LSAs): process start, connect, load, and printing the 16 MB
// snapshot to a pipe. It reports the process's peak RSS. Goals: well under
// a second; the load within 150 MB RSS.
func BenchmarkSnapshotCommandNYCx40(b *testing.B) {
	bin := buildOperator(b)
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

// BenchmarkHistoryCommandMonth runs the whole `ospf-operator history`
// binary (process start included) on a month of generated NYC history
// (historytest.Month: about 4,500 events a day, minute snapshots on the
// last day and hourly before, plain and gzip-compressed): --at a
// millisecond before an hourly snapshot (the longest replay, an hour of
// events) and --from/--to over a whole day. Goals: --at in at most
// 300 ms, a day's events in at most 1 s.
func BenchmarkHistoryCommandMonth(b *testing.B) {
	m, err := historytest.Month(historytest.CacheDir())
	if err != nil {
		b.Fatal(err)
	}
	bin := buildOperator(b)
	worst := m.Start.AddDate(0, 0, historytest.MonthDays-historytest.MinuteSnapDays).Add(-time.Millisecond).Format(time.RFC3339Nano)
	day := m.Start.AddDate(0, 0, 14)
	for _, kind := range []struct {
		name string
		dirs historytest.Dirs
	}{{"plain", m.Plain}, {"gzip", m.Gzip}} {
		dirs := []string{"history", "--strict", "--events-path-prefix", kind.dirs.Events, "--snapshots-path-prefix", kind.dirs.Snapshots}
		for _, q := range []struct {
			name string
			args []string
		}{
			{"at-worst", []string{"--at", worst}},
			{"day-events", []string{"--from", day.Format(time.RFC3339), "--to", day.Add(24 * time.Hour).Format(time.RFC3339)}},
		} {
			b.Run(kind.name+"/"+q.name, func(b *testing.B) {
				var outBytes int64
				for b.Loop() {
					cmd := exec.Command(bin, append(dirs, q.args...)...)
					out, err := cmd.StdoutPipe()
					if err != nil {
						b.Fatal(err)
					}
					if err := cmd.Start(); err != nil {
						b.Fatal(err)
					}
					outBytes, _ = io.Copy(io.Discard, out)
					if err := cmd.Wait(); err != nil {
						b.Fatalf("history: %v", err)
					}
				}
				b.ReportMetric(float64(outBytes)/1e6, "out-MB")
			})
		}
	}
}

// BenchmarkStartup runs a whole process that does next to nothing, `version`,
// of each binary: what every command pays before its work (exec, the Go
// runtime, package initialisation, exit). ospf-operator links nothing of
// Kubernetes; the agent binary does, which is why it is a binary of its own.
func BenchmarkStartup(b *testing.B) {
	dir := buildBinaries(b)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"ospf-operator", []string{"version"}},
		{agentBinary, []string{"--version"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if out, err := exec.Command(filepath.Join(dir, c.name), c.args...).CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", c.name, err, out)
				}
			}
		})
	}
}
