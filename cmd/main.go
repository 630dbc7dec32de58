// Command ospf-operator mirrors the OSPF link-state database of an FRR ospfd,
// read through FRR's OSPF API, and publishes it as a snapshot and a stream of
// changes. Each job is a subcommand; this file holds the root command and
// the logging shared by all of them.
package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCommand(os.Stdout, os.Stderr).Execute(); err != nil {
		// cobra has printed the error already.
		os.Exit(1)
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
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().BoolVarP(&opts.verbose, "verbose", "v", false,
		"Increase the verbosity of the stderr log messages")

	root.AddCommand(
		newStreamCommand(),
		newRelayCommand(),
		newAgentCommand(),
		newSnapshotCommand(),
		newVersionCommand(),
	)
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
