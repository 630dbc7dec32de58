package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/mirror"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/topo"
)

// graphSource says where path and whatif read the LSDB: from ospfd, or
// from a snapshot file in the seed's format (an archive's, or `snapshot`'s).
type graphSource struct {
	server   string
	snapshot string
}

func (s *graphSource) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&s.server, "server", "localhost",
		"Address of the FRR OSPF API server (ospfd), HOST[:PORT]")
	cmd.Flags().StringVar(&s.snapshot, "snapshot", "",
		"Read the LSDB from this snapshot file (the seed's format) instead of ospfd")
}

// graph loads the LSDB and builds its graph.
func (s *graphSource) graph(cmd *cobra.Command) (*topo.Graph, error) {
	if s.snapshot != "" {
		data, err := os.ReadFile(s.snapshot)
		if err != nil {
			return nil, err
		}
		snap, err := lsdb.ParseSnapshot(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.snapshot, err)
		}
		v, err := lsdb.ViewFromSnapshot(snap)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.snapshot, err)
		}
		return topo.Build(v), nil
	}
	db, _, err := loadOnce(cmd, s.server)
	if err != nil {
		return nil, err
	}
	return topo.Build(db.View()), nil
}

// loadOnce loads ospfd's LSDB once (Ctrl-C or SIGTERM stop it), saying
// what to check when ospfd's API cannot be reached.
func loadOnce(cmd *cobra.Command, server string) (*lsdb.DB, mirror.SyncReport, error) {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	db := lsdb.New(lsdb.Config{})
	rep, err := mirror.Once(ctx, server, db, ospfapi.WithLogger(slog.Default()))
	if op, ok := errors.AsType[*ospfapi.OpError](err); ok && op.Op == "dial" {
		err = fmt.Errorf("cannot reach ospfd's OSPF API at %s (is ospfd running with -a, and is TCP port 2607 open?): %w", server, err)
	}
	return db, rep, err
}

func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newPathCommand() *cobra.Command {
	var src graphSource
	cmd := &cobra.Command{
		Use:   "path FROM TO",
		Short: "Print the shortest paths from router FROM to a router, prefix or address TO, and back",
		Long: "path prints, as JSON, the cost of the shortest path from router FROM to TO (a router ID,\n" +
			"a prefix, or an address: the longest prefix that holds it) and every equal-cost path, hop\n" +
			"by hop with the cost of each; when TO is a router, also the way back, which OSPF's\n" +
			"asymmetric costs may make another.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := src.graph(cmd)
			if err != nil {
				return err
			}
			ans, err := g.Path(args[0], args[1])
			if err != nil {
				return err
			}
			return printJSON(cmd, ans)
		},
	}
	src.flags(cmd)
	return cmd
}

func newWhatIfCommand() *cobra.Command {
	var src graphSource
	cmd := &cobra.Command{
		Use:   "whatif ROOT FAIL",
		Short: "List the routers that ROOT no longer reaches, or reaches at another cost, if FAIL fails",
		Long: "whatif prints, as JSON, the routers that become unreachable from router ROOT, or whose\n" +
			"cost from it changes, if FAIL fails: a router ID, a link between two routers A-B, or a\n" +
			"router's link to a transit network A-PREFIX.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := src.graph(cmd)
			if err != nil {
				return err
			}
			w, err := g.WhatIf(args[0], args[1])
			if err != nil {
				return err
			}
			return printJSON(cmd, w)
		},
	}
	src.flags(cmd)
	return cmd
}
