package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// errNotImplemented marks a subcommand whose engine is not wired yet.
var errNotImplemented = errors.New("not implemented yet")

// streamOptions are the flags of the Python ospf-stream-client, unchanged,
// plus the withdrawal hold-down.
type streamOptions struct {
	server              string
	wsListen            string
	eventsPathPrefix    string
	snapshotsPathPrefix string
	muteStdoutStream    bool
	holddown            time.Duration
}

func newStreamCommand() *cobra.Command {
	var opts streamOptions
	cmd := &cobra.Command{
		Use:   "stream",
		Short: "Follow the LSDB and print every change as one JSON event per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStream(cmd, &opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.server, "server", "localhost",
		"Address of the FRR OSPF API server (ospfd), HOST[:PORT]")
	f.StringVar(&opts.wsListen, "ws-listen", "",
		"Serve the event stream to WebSocket clients on ADDRESS:PORT")
	f.StringVar(&opts.eventsPathPrefix, "events-path-prefix", "",
		"Write the event stream to hourly files under this directory")
	f.StringVar(&opts.snapshotsPathPrefix, "snapshots-path-prefix", "",
		"Write an LSDB snapshot every minute under this directory")
	f.BoolVar(&opts.muteStdoutStream, "mute-stdout-stream", false,
		"Do not write the event stream to stdout")
	f.DurationVar(&opts.holddown, "holddown", 10*time.Second,
		"Delay the removal events of a withdrawn LSA by this long, dropping them if it returns unchanged (0 disables)")
	return cmd
}

func runStream(cmd *cobra.Command, opts *streamOptions) error {
	if opts.holddown < 0 {
		return fmt.Errorf("--holddown %v: must not be negative", opts.holddown)
	}
	return fmt.Errorf("%s: %w", cmd.CommandPath(), errNotImplemented)
}
