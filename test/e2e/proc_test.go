//go:build e2e

package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
	"time"
)

// startLines starts cmd and calls line with each line of its stdout, from
// a goroutine that closes done when stdout ends.
func startLines(t *testing.T, cmd *exec.Cmd, done chan<- struct{}, line func(string)) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line(sc.Text())
		}
	}()
}

// stopLines sends sig to cmd, started by startLines, waits for its stdout
// to end (done), killing it after 10 seconds, and returns cmd.Wait's
// error.
func stopLines(cmd *exec.Cmd, sig os.Signal, done <-chan struct{}) error {
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
	return cmd.Wait()
}
