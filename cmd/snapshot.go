package main

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ospf-operator/ospf-operator/internal/cli"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// snapshotOptions are the flags of the snapshot subcommand.
type snapshotOptions struct {
	server string
	format string
}

func newSnapshotCommand() *cobra.Command {
	var opts snapshotOptions
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Load the LSDB once, print it as a JSON snapshot (or a graph: NetJSON, DOT, GraphML) and exit",
		Args:  cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if opts.format != "json" && !slices.Contains(topo.Formats, opts.format) {
				return cli.Usage(fmt.Errorf("--format %q: want json, %s", opts.format, strings.Join(topo.Formats, ", ")))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSnapshot(cmd, &opts)
		},
	}
	cmd.Flags().StringVar(&opts.server, "server", "localhost",
		"Address of the FRR OSPF API server (ospfd), HOST[:PORT]")
	cmd.Flags().StringVar(&opts.format, "format", "json",
		"Output format: json (the seed's snapshot), netjson (NetJSON NetworkGraph), dot (Graphviz), graphml")
	return cmd
}

func runSnapshot(cmd *cobra.Command, opts *snapshotOptions) error {
	db, rep, err := loadOnce(cmd, opts.server)
	if err != nil {
		return err
	}
	slog.Info("LSDB loaded", "server", opts.server, "lsas", rep.Result.LSAs, "took", rep.Dump.Duration.Round(time.Microsecond), "router_id", rep.RouterID)
	if len(rep.Missing) > 0 {
		slog.Warn("ospfd did not deliver the Router-LSA of routers that others reference; the snapshot lacks their links (FRR drops OSPF API messages over 1,500 bytes, e.g. a Router-LSA with more than about 122 links)",
			"count", len(rep.Missing), "missing", mirror.FormatMissing(rep.Missing))
	}
	out := cmd.OutOrStdout()
	if opts.format != "json" {
		bw := bufio.NewWriterSize(out, 64<<10)
		if err := topo.Build(db.View()).Export(bw, opts.format, rep.RouterID); err != nil {
			return fmt.Errorf("write %s: %w", opts.format, err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", opts.format, err)
		}
		return nil
	}
	// Straight from the view: the seed's bytes, without building the
	// Snapshot's maps first.
	err = db.View().WriteSnapshotJSON(out)
	if err == nil {
		_, err = io.WriteString(out, "\n")
	}
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}
