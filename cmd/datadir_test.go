package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDataDir gives a directory to another user as the DaemonSet's init
// container does, and refuses what is not a directory or not an owner.
func TestDataDir(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("TestDataDir needs root (CI=true: it must run)")
		}
		t.Skip("needs root to give a directory away")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(data, "kept")
	if err := os.WriteFile(inside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	owner := func(p string) (uint32, uint32) {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		return st.Uid, st.Gid
	}
	out, _, err := execute(t, "data-dir", "--owner", "65532:65533", data)
	if err != nil {
		t.Fatal(err)
	}
	if u, g := owner(data); u != 65532 || g != 65533 || !strings.Contains(out, "now owned by 65532:65533") {
		t.Errorf("after data-dir: owned by %d:%d, printed %q", u, g, out)
	}
	if u, g := owner(inside); u != 0 || g != 0 {
		t.Errorf("data-dir changed what is in the directory: %s owned by %d:%d", inside, u, g)
	}
	if out, _, err := execute(t, "data-dir", "--owner", "65532:65533", data); err != nil || !strings.Contains(out, "already") {
		t.Errorf("again: %v %q", err, out)
	}
	// A link in the directory's place is refused, its target untouched.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := execute(t, "data-dir", link); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("data-dir on a link: %v", err)
	}
	if u, _ := owner(dir); u != 0 {
		t.Errorf("data-dir followed a link: %s owned by %d", dir, u)
	}
	for _, args := range [][]string{
		{"data-dir", filepath.Join(dir, "none")},
		{"data-dir", inside},
	} {
		if _, _, err := execute(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	var stdout, stderr lockedBuffer
	for _, bad := range []string{"65532", "a:b", "-1:0", ""} {
		if code := run([]string{"ospf-operator", "data-dir", "--owner", bad, data}, &stdout, &stderr); code != 2 {
			t.Errorf("--owner %q: exit %d, want 2", bad, code)
		}
	}
}
