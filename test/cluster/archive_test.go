//go:build cluster

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ospf-operator/ospf-operator/internal/archive"
	"github.com/ospf-operator/ospf-operator/internal/relay"
	"github.com/ospf-operator/ospf-operator/test/frrlab"
)

// readArchive returns the relay's hourly event files under dataDir, by
// path relative to the archive's root.
func readArchive(t *testing.T) map[string]string {
	t.Helper()
	root := filepath.Join(dataDir, "events")
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".jsonl") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[rel] = string(b)
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

// appended checks that every file of before is the start of the same file
// in after (appended to, never cut or rewritten) and returns the lines
// added, in file order (the files' names are hours).
func appended(t *testing.T, before, after map[string]string) []string {
	t.Helper()
	var lines []string
	for _, f := range slices.Sorted(maps.Keys(after)) {
		old, had := before[f]
		if had && !strings.HasPrefix(after[f], old) {
			t.Errorf("%s was rewritten or cut: %d bytes before, %d after, not a continuation", f, len(old), len(after[f]))
			continue
		}
		added := strings.TrimSuffix(after[f][len(old):], "\n")
		if added != "" {
			lines = append(lines, strings.Split(added, "\n")...)
		}
	}
	for f := range before {
		if _, ok := after[f]; !ok {
			t.Errorf("%s disappeared", f)
		}
	}
	return lines
}

// externalChange is what the archive's line says about an external route:
// "+PREFIX by ROUTER" or "-PREFIX by ROUTER", "" for another line.
func externalChange(t *testing.T, line string) string {
	t.Helper()
	var ev struct {
		Entity struct {
			Type, ID string
		}
		Added, Removed *struct {
			Link map[string]struct {
				ID string
			}
		}
	}
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Errorf("archive line %q: %v", line, err)
		return ""
	}
	sign, change := "+", ev.Added
	if change == nil {
		sign, change = "-", ev.Removed
	}
	if change == nil {
		return ""
	}
	if ext, ok := change.Link["external"]; ok {
		return sign + ext.ID + " by " + ev.Entity.ID
	}
	return ""
}

// waitArchived waits up to timeout for the external routes' changes
// appended to the archive since before (externalChange) to be want.
func waitArchived(ctx context.Context, t *testing.T, before map[string]string, want []string, timeout time.Duration, what string) error {
	t.Helper()
	return waitFor(ctx, timeout, what, func() error {
		var got []string
		for _, l := range appended(t, before, readArchive(t)) {
			if ch := externalChange(t, l); ch != "" {
				got = append(got, ch)
			}
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("archived %q, want %q", got, want)
		}
		return nil
	})
}

// relayReady reports whether the relay on the node follows its agent.
func relayReady(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+nodeIP+":"+streamPort+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("relay /readyz: %d", resp.StatusCode)
	}
	return nil
}

// ownPids returns the pids of the image's processes running now.
func ownPids() []string {
	var pids []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if _, ok := ownCommand(b); err == nil && ok {
			pids = append(pids, filepath.Base(filepath.Dir(p)))
		}
	}
	return pids
}

// checkArchiveContinues deletes the pod again and changes the network
// while no relay runs: the new relay appends to the same hourly file, and
// the change is in the archive exactly once, as is one made after the
// takeover; nothing else is added.
func checkArchiveContinues(ctx context.Context, t *testing.T, c client.Client, lab *frrlab.Lab, old corev1.Pod) {
	const during, after = "100.127.2.0/24", "100.127.1.0/24" // added while no pod runs; removed after (checkChange added it)
	r4, err := lab.Router("r4")
	if err != nil {
		t.Fatal(err)
	}
	before := readArchive(t)
	oldPids := ownPids()
	if len(oldPids) != 2 {
		t.Fatalf("ospf-operator processes %v, want the agent's and the relay's", oldPids)
	}
	if err := c.Delete(ctx, &old); err != nil {
		t.Fatal(err)
	}
	// The old pod's processes end (the relay saving its view on SIGTERM);
	// then the network changes, before or while the new pod starts.
	if err := waitFor(ctx, 30*time.Second, "the old pod's processes to end", func() error {
		if left := slices.DeleteFunc(ownPids(), func(p string) bool { return !slices.Contains(oldPids, p) }); len(left) > 0 {
			return fmt.Errorf("%v still running", left)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	newRunning := len(ownPids())
	if err := lab.Configure("r4", "ip route "+during+" Null0"); err != nil {
		t.Fatal(err)
	}
	t.Logf("added %s on r4 after the old pod ended, with %d processes of the new pod running", during, newRunning)
	pod := waitPodReady(ctx, t, c, old.Name)
	want := []string{"+" + during + " by " + r4.ID.String()}
	if err := waitArchived(ctx, t, before, want, 90*time.Second, "the change made during the takeover in the archive"); err != nil {
		t.Error(err)
	}
	t.Logf("new pod %s; its relay archived the change made while no pod ran", pod.Name)
	// A change after the takeover follows, once (removals wait for the
	// agent's hold-down).
	if err := lab.Configure("r4", "no ip route "+after+" Null0"); err != nil {
		t.Fatal(err)
	}
	want = append(want, "-"+after+" by "+r4.ID.String())
	if err := waitArchived(ctx, t, before, want, 60*time.Second, "the change after the takeover in the archive"); err != nil {
		t.Error(err)
	}
	// Nothing but the two: no line repeated from before the takeover.
	lines := appended(t, before, readArchive(t))
	if len(lines) != len(want) {
		t.Errorf("%d lines added to the archive, want %d: %q", len(lines), len(want), lines)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "events", ".relay-position.json")); err != nil {
		t.Errorf("the relay's position: %v", err)
	}
}

// checkArchiveAfterKill kills the pod's agent and relay without their
// grace period (SIGKILL, as the OOM killer or a power cut would) and
// changes the network while the kubelet restarts them: the new relay has
// no view saved at a clean stop, but its last checkpoint (every 5 s in the
// overlay) and the events archived after it give the archive's end, and
// the change is in the archive exactly once, nothing repeated.
func checkArchiveAfterKill(ctx context.Context, t *testing.T, lab *frrlab.Lab) {
	const during = "100.127.3.0/24"
	r4, err := lab.Router("r4")
	if err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dataDir, "events")
	// A checkpoint where the archive ends.
	if err := waitFor(ctx, 30*time.Second, "a checkpoint of the relay's view where the archive ends", func() error {
		data, err := os.ReadFile(filepath.Join(events, relay.ViewFile))
		if err != nil {
			return err
		}
		var saved archive.Position
		if err := json.Unmarshal(data, &saved); err != nil {
			return err
		}
		end, err := archive.ReadPosition(archive.OSFS{}, events)
		if err != nil {
			return err
		}
		if saved != end {
			return fmt.Errorf("checkpoint at %+v, archive at %+v", saved, end)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := readArchive(t)
	killed := map[string]int{}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if sub, ok := ownCommand(b); err == nil && ok && (sub == "agent" || sub == "relay") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("kill -9 %s (%d): %v", sub, pid, err)
			}
			killed[sub] = pid
		}
	}
	if len(killed) != 2 {
		t.Fatalf("killed %v, want the agent and the relay", killed)
	}
	if err := lab.Configure("r4", "ip route "+during+" Null0"); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %v; added %s on r4 while the kubelet restarts them", killed, during)
	want := []string{"+" + during + " by " + r4.ID.String()}
	if err := waitArchived(ctx, t, before, want, 90*time.Second, "the change made while the processes were dead in the archive"); err != nil {
		t.Error(err)
	}
	// Give a wrong difference time to show, then: that line alone.
	time.Sleep(3 * time.Second)
	if lines := appended(t, before, readArchive(t)); len(lines) != len(want) {
		t.Errorf("%d lines added to the archive, want %d: %q", len(lines), len(want), lines)
	}
	if err := relayReady(ctx); err != nil {
		t.Errorf("the restarted relay: %v", err)
	}
}
