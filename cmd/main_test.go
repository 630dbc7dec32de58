package main

import (
	"bytes"
	"strings"
	"testing"
)

// execute runs the command tree with args and returns stdout, stderr and the
// error Execute returned.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCommand(&stdout, &stderr)
	root.SetArgs(args)
	err := root.Execute()
	return stdout.String(), stderr.String(), err
}

func TestVersion(t *testing.T) {
	out, _, err := execute(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "ospf-operator "+version+" go") || !strings.HasSuffix(out, "\n") {
		t.Errorf("version printed %q, want \"ospf-operator %s go...\\n\"", out, version)
	}
}

// TestSeedFlags pins the flags and defaults of the Python ospf-stream-client,
// which `stream` must accept unchanged.
func TestSeedFlags(t *testing.T) {
	root := newRootCommand(&bytes.Buffer{}, &bytes.Buffer{})
	tests := []struct {
		cmd, flag, shorthand, def string
		persistent                bool
	}{
		{cmd: "stream", flag: "server", def: "localhost"},
		{cmd: "stream", flag: "ws-listen", def: ""},
		{cmd: "stream", flag: "events-path-prefix", def: ""},
		{cmd: "stream", flag: "snapshots-path-prefix", def: ""},
		{cmd: "stream", flag: "mute-stdout-stream", def: "false"},
		{cmd: "stream", flag: "holddown", def: "10s"},
		{cmd: "snapshot", flag: "server", def: "localhost"},
		{cmd: "", flag: "verbose", shorthand: "v", def: "false", persistent: true},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" --"+tt.flag, func(t *testing.T) {
			cmd, _, err := root.Find(strings.Fields(tt.cmd))
			if err != nil {
				t.Fatal(err)
			}
			fs := cmd.Flags()
			if tt.persistent {
				fs = cmd.PersistentFlags()
			}
			f := fs.Lookup(tt.flag)
			if f == nil {
				t.Fatalf("%q has no flag --%s", cmd.CommandPath(), tt.flag)
			}
			if f.DefValue != tt.def || f.Shorthand != tt.shorthand {
				t.Errorf("--%s: default %q shorthand %q, want %q %q", tt.flag, f.DefValue, f.Shorthand, tt.def, tt.shorthand)
			}
		})
	}
}

func TestBadInvocations(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"stream", "--holddown", "-1s"}, "must not be negative"},
		{[]string{"stream", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"snapshot", "extra"}, "unknown command"},
		{[]string{"stream", "--holddown", "soon"}, "invalid argument"},
	}
	for _, tt := range tests {
		_, stderr, err := execute(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: error %v, stderr %q; want both to contain %q", tt.args, err, stderr, tt.want)
		}
	}
}
