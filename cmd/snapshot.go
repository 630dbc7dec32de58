package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// snapshotOptions are the flags of the snapshot subcommand.
type snapshotOptions struct {
	server string
}

func newSnapshotCommand() *cobra.Command {
	var opts snapshotOptions
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Load the LSDB once, print it as a JSON snapshot and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshot(cmd, &opts)
		},
	}
	cmd.Flags().StringVar(&opts.server, "server", "localhost",
		"Address of the FRR OSPF API server (ospfd), HOST[:PORT]")
	return cmd
}

func runSnapshot(cmd *cobra.Command, _ *snapshotOptions) error {
	return fmt.Errorf("%s: %w", cmd.CommandPath(), errNotImplemented)
}
