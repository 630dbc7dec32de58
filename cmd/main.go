// Command ospf-operator mirrors the OSPF link-state database of an FRR ospfd,
// read through FRR's OSPF API, and publishes it as a snapshot and a stream of
// changes. Each job is a subcommand; this file holds the root command.
//
// This binary links nothing of Kubernetes, so that its commands start in a
// few milliseconds. The one command that talks to Kubernetes, agent, is the
// sibling binary ospf-operator-agent, which `ospf-operator agent` runs in
// its place (agent.go).
package main

import (
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/ospf-operator/ospf-operator/internal/cli"
)

// seedName is the Python client's command: invoked under that name (a
// link to this binary), the binary is `ospf-operator stream`.
const seedName = "ospf-stream-client"

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run runs the command line args (args[0] the name the binary was invoked
// under) and returns the exit status: 0, 2 for bad usage (as the seed's
// argparse), 1 for any other error.
func run(args []string, stdout, stderr io.Writer) int {
	return cli.Execute(newRootCommand(stdout, stderr), commandArgs(args))
}

// commandArgs are the arguments of the root command: under the seed's
// name, those of the stream subcommand.
func commandArgs(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	if filepath.Base(args[0]) == seedName {
		return append([]string{"stream"}, args[1:]...)
	}
	return args[1:]
}

// newRootCommand builds the command tree. Output goes to stdout, logs and
// errors to stderr, so that tests can capture both.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "ospf-operator",
		Short: "Mirror an FRR ospfd's OSPF LSDB and publish it",
		Long: "ospf-operator reads the OSPF link-state database of an FRR ospfd through\n" +
			"its OSPF API and publishes it as a snapshot and a stream of changes.",
		// Runnable, so that an unknown command is an error rather than help.
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.AddCommand(
		newStreamCommand(),
		newRelayCommand(),
		newAgentCommand(),
		newSnapshotCommand(),
		newHistoryCommand(),
		newPathCommand(),
		newWhatIfCommand(),
		newVersionCommand(),
		newDataDirCommand(),
	)
	cli.Setup(root, stdout, stderr)
	return root
}
