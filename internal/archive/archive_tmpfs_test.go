//go:build linux

package archive

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// smallTmpfs mounts a tmpfs of size bytes on a new temporary directory
// until the test ends. It needs root: without it the test is skipped, or
// fails under CI=true, where the requirement must be met.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test needs root to mount a tmpfs")
		}
		t.Skip("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size+",mode=0755"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fill writes a file until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

// TestArchiveOnARealFullDisk fills a small tmpfs: the kernel's own ENOSPC
// must leave whole lines in the file, and the archive must catch up once
// space is freed.
func TestArchiveOnARealFullDisk(t *testing.T) {
	mnt := smallTmpfs(t, "256k")
	db := streamtest.NewDB(t, 1<<14)
	em := &streamtest.Emitter{DB: db}
	clock := streamtest.NewClock(time.Date(2024, 3, 10, 10, 30, 0, 0, time.UTC))
	em.Now = clock.Now
	dir := filepath.Join(mnt, "events")
	a := runArchive(t, db, ArchiveConfig{Dir: dir, Now: clock.Now})
	path := HourPath(dir, clock.Now())

	em.Emit(t, 10)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Events == 10 }).Should(gomega.BeTrue(), "10 events archived")
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	// More than the space the filler left in the file's last page.
	em.Emit(t, 200)
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Errors >= 2 }).Should(gomega.BeTrue(), "failed writes")
	// Whatever fit in the file's last page was written; the rest waits.
	got := streamtest.StreamLines(t, path)
	if len(got) >= 210 {
		t.Fatalf("all %d lines fit on the full disk", len(got))
	}
	streamtest.SameLines(t, "on the full disk", got, streamtest.FirstLines(t, db, len(got)))
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	streamtest.NewWithT(t).Eventually(func() bool { return a.Stats().Events == 210 }).Should(gomega.BeTrue(), "the archive to catch up")
	streamtest.SameLines(t, "after freeing space", streamtest.StreamLines(t, path), streamtest.FirstLines(t, db, 210))
}
