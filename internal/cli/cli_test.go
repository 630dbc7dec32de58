package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// newTree is a root with a subcommand "sub" taking one argument; sub fails
// with a plain error when the argument is "fail".
func newTree(stdout, stderr *bytes.Buffer) *cobra.Command {
	root := &cobra.Command{Use: "prog", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
	var n int
	sub := &cobra.Command{Use: "sub ARG", Args: cobra.ExactArgs(1), RunE: func(_ *cobra.Command, args []string) error {
		if args[0] == "fail" {
			return errors.New("it failed")
		}
		return nil
	}}
	sub.Flags().IntVar(&n, "n", 0, "a number")
	root.AddCommand(sub)
	Setup(root, stdout, stderr)
	return root
}

// TestExecuteStatus checks the exit statuses both binaries promise: 2 for
// a command line that cannot be run (as the seed's argparse), 1 for a
// failure, 0 else, with the error printed once and no usage text.
func TestExecuteStatus(t *testing.T) {
	tests := []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"sub", "x"}, StatusOK, ""},
		{[]string{"sub", "fail"}, StatusError, "it failed"},
		{[]string{"sub"}, StatusUsage, "accepts 1 arg(s)"},
		{[]string{"sub", "x", "--n", "many"}, StatusUsage, "invalid argument"},
		{[]string{"sub", "x", "--nope"}, StatusUsage, "unknown flag: --nope"},
		{[]string{"stray"}, StatusUsage, "unknown command"},
		{[]string{"-v", "sub", "x"}, StatusOK, ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		got := Execute(newTree(&stdout, &stderr), tt.args)
		if got != tt.want {
			t.Errorf("%q: status %d, want %d; stderr %q", tt.args, got, tt.want, stderr.String())
		}
		if tt.msg != "" && strings.Count(stderr.String(), tt.msg) != 1 {
			t.Errorf("%q: stderr %q, want %q once", tt.args, stderr.String(), tt.msg)
		}
		if strings.Contains(stderr.String(), "Usage:") {
			t.Errorf("%q: the usage text buries the error: %q", tt.args, stderr.String())
		}
	}
}

func TestUsageErrorUnwraps(t *testing.T) {
	base := errors.New("bad")
	err := Usage(base)
	if !errors.Is(err, base) || !errors.As(err, new(UsageError)) || err.Error() != "bad" {
		t.Errorf("Usage(%v) = %v: want a UsageError wrapping it with its message", base, err)
	}
}

func TestLoggerLevel(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		var buf bytes.Buffer
		log := NewLogger(&buf, verbose)
		log.Debug("Detail", "router", "10.0.0.1")
		log.Info("Loaded")
		got := buf.String()
		if !strings.Contains(got, "level=INFO msg=Loaded") {
			t.Errorf("verbose=%v: info line missing from %q", verbose, got)
		}
		if hasDebug := strings.Contains(got, "level=DEBUG msg=Detail router=10.0.0.1"); hasDebug != verbose {
			t.Errorf("verbose=%v: debug line present=%v in %q", verbose, hasDebug, got)
		}
	}
}
