// Package buildtest builds the project's two programs for the tests that
// run them: ospf-operator and, beside it, ospf-operator-agent, which
// `ospf-operator agent` runs.
package buildtest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
)

// The programs' names and packages; `make build` places them side by side.
const (
	Operator = "ospf-operator"
	Agent    = "ospf-operator-agent"

	operatorPkg = "github.com/ospf-operator/ospf-operator/cmd"
	agentPkg    = "github.com/ospf-operator/ospf-operator/cmd/ospf-operator-agent"
)

// Build builds both programs into dir, run from anywhere in the module,
// and returns ospf-operator's path.
func Build(dir string) (string, error) {
	for name, pkg := range map[string]string{Operator: operatorPkg, Agent: agentPkg} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg).CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	}
	return filepath.Join(dir, Operator), nil
}

// Binaries builds both programs into a temporary directory of tb and
// returns ospf-operator's path.
func Binaries(tb testing.TB) string {
	tb.Helper()
	bin, err := Build(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}
