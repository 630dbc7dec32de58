// Package cli holds what the project's two binaries share on their command
// lines: the exit statuses, usage errors, the -v flag and the log.
//
// ospf-operator (cmd) and ospf-operator-agent (cmd/ospf-operator-agent)
// are two programs so that the commands that never talk to Kubernetes do
// not pay for its client libraries' package initialisation at every start
// (about 10 ms, more than a whole `snapshot` of a large LSDB spends on the
// wire). This package must therefore import nothing of Kubernetes; a test
// in cmd checks the ospf-operator binary's dependencies.
package cli

import (
	"errors"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// Exit statuses: 2 for a command line that cannot be run, as the seed's
// argparse; 1 for any other error.
const (
	StatusOK    = 0
	StatusError = 1
	StatusUsage = 2
)

// UsageError is a command line that cannot be run: an unknown flag, a
// missing or malformed value, extra arguments.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usage wraps err as a UsageError.
func Usage(err error) error { return UsageError{Err: err} }

// UsageArgs wraps a cobra.PositionalArgs so that its errors are usage errors.
func UsageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return Usage(err)
		}
		return nil
	}
}

// Setup makes root the root of a command tree as both binaries want it:
// output to stdout, logs and errors to stderr (so that tests can capture
// both), -v/--verbose for debug logs, errors reported once without the
// usage text that would bury them, flag and argument errors as usage
// errors, and no completion command. Call it once the subcommands are
// added.
func Setup(root *cobra.Command, stdout, stderr io.Writer) {
	verbose := root.PersistentFlags().BoolP("verbose", "v", false,
		"Increase the verbosity of the stderr log messages")
	root.SilenceUsage = true
	root.PersistentPreRun = func(*cobra.Command, []string) {
		slog.SetDefault(NewLogger(stderr, *verbose))
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return Usage(err) })
	root.SetOut(stdout)
	root.SetErr(stderr)
	for _, c := range append(root.Commands(), root) {
		if c.Args != nil {
			c.Args = UsageArgs(c.Args)
		}
	}
}

// Execute runs root with args (without the program's name) and returns
// the exit status. cobra has printed any error already.
func Execute(root *cobra.Command, args []string) int {
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		if errors.As(err, new(UsageError)) {
			return StatusUsage
		}
		return StatusError
	}
	return StatusOK
}

// NewLogger logs text to w, at debug level when verbose.
func NewLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
