//go:build linux

package archive

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/stream/streamtest"
)

// TestJanitorOnARealFullDisk compresses on a full tmpfs: the kernel's own
// ENOSPC must leave the plain files whole and no temporary file, and the
// compression must happen once space is freed.
func TestJanitorOnARealFullDisk(t *testing.T) {
	mnt := smallTmpfs(t, "512k")
	dir := filepath.Join(mnt, "events")
	hour := fakeLines("hour", 2000) // about 90 KB, which gzip makes a few KB
	streamtest.WriteTree(t, dir, map[string]string{"2024/03/01/07.jsonl": hour})
	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	clock := streamtest.NewClock(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	j := newJanitor(t, JanitorConfig{EventsDir: dir, Compress: true, Now: clock.Now})
	if err := j.Pass(); err == nil {
		t.Fatal("compression on a full disk reported no error")
	}
	if got := files(t, dir); !slices.Equal(got, []string{"2024/03/01/07.jsonl"}) {
		t.Fatalf("on the full disk: %v", got)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "2024/03/01/07.jsonl")); err != nil || string(got) != hour {
		t.Fatalf("the plain hour changed on the full disk: %v", err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := j.Pass(); err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); !slices.Equal(got, []string{"2024/03/01/07.jsonl.gz"}) {
		t.Fatalf("after freeing space: %v", got)
	}
	if got, err := ReadHour(filepath.Join(dir, "2024/03/01/07.jsonl")); err != nil || string(got) != hour {
		t.Fatalf("after freeing space the hour reads back wrong: %v", err)
	}
}
