// Package seedref finds the seed, the Python ospf-stream-client this
// project replaces, for the tests that compare against it: its source in
// ../shared/seed (next to the repository or one of its parents, else
// /work/shared/seed; $OSPF_SEED_DIR overrides) and
// Debian's /usr/bin/python3 with the packages it needs (python3-netaddr,
// python3-frozendict, python3-jsondiff, python3-autobahn,
// python3-apscheduler; .ci/run installs them). It is test support: only
// tests import it.
package seedref

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter the seed runs on: Debian's, not a venv, so
// that the Debian packages are the ones imported.
const Python = "/usr/bin/python3"

// Modules are the Python modules the seed imports beyond the standard
// library, with the Debian packages that hold them.
var Modules = map[string]string{
	"netaddr":     "python3-netaddr",
	"frozendict":  "python3-frozendict",
	"jsondiff":    "python3-jsondiff",
	"autobahn":    "python3-autobahn",
	"apscheduler": "python3-apscheduler",
}

// Seed is where the seed is.
type Seed struct {
	Python string
	Dir    string // the seed's directory: README.txt, run-seed.py, src/
	Src    string // Dir/src, for sys.path
	Run    string // Dir/run-seed.py, which runs its CLI
}

var (
	once  sync.Once
	found *Seed
	err   error
)

// lookForSeed returns where the seed is for a repository at repo: the
// first of shared/seed beside the repository, beside one of its parents
// (a clone made a level deeper, as CI may make it), or the project's
// workspace (/work/shared/seed) that holds run-seed.py; if none does,
// the first, for the error to name.
func lookForSeed(repo string) string {
	var candidates []string
	for d := filepath.Clean(repo); ; d = filepath.Dir(d) {
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		candidates = append(candidates, filepath.Join(parent, "shared", "seed"))
	}
	candidates = append(candidates, filepath.Join(string(filepath.Separator), "work", "shared", "seed"))
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "run-seed.py")); err == nil {
			return c
		}
	}
	return candidates[0]
}

// Find locates the seed and checks that it can run.
func Find() (*Seed, error) {
	once.Do(func() { found, err = find() })
	return found, err
}

func find() (*Seed, error) {
	dir := os.Getenv("OSPF_SEED_DIR")
	if dir == "" {
		_, file, _, ok := runtime.Caller(0)
		if !ok {
			return nil, errors.New("cannot locate the repository")
		}
		// internal/seedref/seedref.go -> the repository
		dir = lookForSeed(filepath.Join(filepath.Dir(file), "..", ".."))
	}
	dir = filepath.Clean(dir)
	s := &Seed{Python: Python, Dir: dir, Src: filepath.Join(dir, "src"), Run: filepath.Join(dir, "run-seed.py")}
	for _, f := range []string{s.Run, filepath.Join(s.Src, "api_stream_client", "lsdb.py")} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("the seed is not at %s (set OSPF_SEED_DIR): %w", dir, err)
		}
	}
	if _, err := os.Stat(Python); err != nil {
		return nil, fmt.Errorf("no %s: %w", Python, err)
	}
	var imports []string
	for m := range Modules {
		imports = append(imports, m)
	}
	// Debian's frozendict needs collections.abc loaded first (run-seed.py does the same).
	script := "import collections.abc, sys\nmissing = []\nfor m in sys.argv[1:]:\n try: __import__(m)\n except ImportError: missing.append(m)\nprint(' '.join(missing))\n"
	out, err := exec.Command(Python, append([]string{"-c", script}, imports...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Python, err)
	}
	if missing := strings.Fields(string(out)); len(missing) > 0 {
		var need []string
		for _, m := range missing {
			need = append(need, Modules[m])
		}
		return nil, fmt.Errorf("%s lacks %s (apt-get install %s)", Python, strings.Join(missing, ", "), strings.Join(need, " "))
	}
	return s, nil
}

// Require returns the seed, or skips the test when it cannot run here;
// under CI=true it fails instead, so that CI never passes without the
// comparison.
func Require(t testing.TB) *Seed {
	t.Helper()
	s, err := Find()
	if err == nil {
		return s
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("the seed cannot run: %v", err)
	}
	t.Skipf("the seed cannot run (CI=true makes this a failure): %v", err)
	return nil
}
