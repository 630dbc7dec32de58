// Command ospf-operator mirrors the OSPF link-state database of an FRR ospfd,
// read through FRR's OSPF API, and publishes it as a snapshot and a stream of
// changes. Each job is a subcommand; this file holds the root command and
// the logging shared by all of them.
package main

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
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
	root := newRootCommand(stdout, stderr)
	root.SetArgs(commandArgs(args))
	if err := root.Execute(); err != nil {
		// cobra has printed the error already.
		if errors.As(err, new(usageError)) {
			return 2
		}
		return 1
	}
	return 0
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

// usageError is a command line that cannot be run: an unknown flag, a
// missing or malformed value, extra arguments.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usageArgs wraps a cobra.PositionalArgs so that its errors are usage errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// rootOptions are the flags shared by every subcommand.
type rootOptions struct {
	verbose bool
}

// newRootCommand builds the command tree. Output goes to stdout, logs and
// errors to stderr, so that tests can capture both.
func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	var opts rootOptions
	root := &cobra.Command{
		Use:   "ospf-operator",
		Short: "Mirror an FRR ospfd's OSPF LSDB and publish it",
		Long: "ospf-operator reads the OSPF link-state database of an FRR ospfd through\n" +
			"its OSPF API and publishes it as a snapshot and a stream of changes.",
		// cobra reports an error once, without the usage text that would
		// bury it.
		SilenceUsage: true,
		PersistentPreRun: func(*cobra.Command, []string) {
			slog.SetDefault(newLogger(stderr, opts.verbose))
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().BoolVarP(&opts.verbose, "verbose", "v", false,
		"Increase the verbosity of the stderr log messages")

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
	for _, c := range root.Commands() {
		if c.Args != nil {
			c.Args = usageArgs(c.Args)
		}
	}
	// Runnable, so that an unknown command is an error rather than help.
	root.Args = usageArgs(cobra.NoArgs)
	root.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return root
}

// newLogger logs text to w, at debug level when verbose.
func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
