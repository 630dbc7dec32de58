package main

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/buildtest"
)

// built holds the two binaries, built once for the package's tests.
var built struct {
	once sync.Once
	dir  string
	err  error
}

// buildBinaries builds ospf-operator and ospf-operator-agent side by side,
// as `make build` and the image place them, once per test binary, and
// returns their directory.
func buildBinaries(tb testing.TB) string {
	tb.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "ospf-operator-bin-"); built.err == nil {
			_, built.err = buildtest.Build(built.dir)
		}
	})
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.dir
}

// buildOperator returns the ospf-operator binary, its agent beside it.
func buildOperator(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(buildBinaries(tb), buildtest.Operator)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}
