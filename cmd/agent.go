package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"
)

// agentBinary is the program that runs `ospf-operator agent`: the agent
// links Kubernetes' client libraries, whose package initialisation every
// other command would pay at start if they were in this binary.
const agentBinary = "ospf-operator-agent"

// newAgentCommand is `agent`: it replaces this process with agentBinary
// (execve, git-style), which parses the flags itself, so the process, its
// PID, signals and exit status are the agent's own.
func newAgentCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "agent",
		Short: "Mirror the LSDB into Kubernetes: OSPFRouter and OSPFNetwork resources, a ConfigMap and Events",
		Long: "agent follows ospfd's LSDB and, while it holds the leader Lease (or always,\n" +
			"without --leader-elect), publishes it as OSPFRouter and OSPFNetwork resources,\n" +
			"the ospf-lsdb ConfigMap and Events.\n\n" +
			"It is the program " + agentBinary + ", found beside this binary or on $PATH,\n" +
			"which `ospf-operator agent ARGS` runs as `" + agentBinary + " ARGS`:\n" +
			"`ospf-operator agent --help` lists its flags.",
		// The agent's flags are the agent binary's to parse, --help included.
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			path, err := findAgent()
			if err != nil {
				return err
			}
			argv := append([]string{path}, args...)
			if err := syscall.Exec(path, argv, os.Environ()); err != nil {
				return fmt.Errorf("agent: running %s: %w", path, err)
			}
			return nil // not reached: Exec returns only on failure
		},
	}
}

// findAgent returns the agent binary's path: the one beside this binary
// (links resolved), as `make install` and the image place it, else the
// first on $PATH.
func findAgent() (string, error) {
	self, err := os.Executable()
	if err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		beside := filepath.Join(filepath.Dir(self), agentBinary)
		if st, err := os.Stat(beside); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return beside, nil
		}
	}
	path, err := exec.LookPath(agentBinary)
	if err == nil {
		return path, nil
	}
	if errors.Is(err, exec.ErrDot) {
		return "", fmt.Errorf("agent: %s on $PATH is relative to the working directory (%w); put it beside %s or on an absolute $PATH entry", path, err, self)
	}
	return "", fmt.Errorf("agent: the agent is the program %s, which is neither beside %s nor on $PATH: install it beside ospf-operator (make install), or run the image", agentBinary, self)
}
