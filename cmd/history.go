package main

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ospf-operator/ospf-operator/internal/cli"
	"github.com/ospf-operator/ospf-operator/internal/history"
)

// historyOptions are the flags of the history subcommand.
type historyOptions struct {
	eventsPathPrefix, snapshotsPathPrefix string
	at, from, to                          string
	diff, strict                          bool
	timeZone                              string

	// parsed by PreRunE
	atT, fromT, toT time.Time
	loc             *time.Location
}

func newHistoryCommand() *cobra.Command {
	var opts historyOptions
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Answer from an archive: the LSDB snapshot at a time, or the events or net change between two",
		Long: "history reads the archive that stream and relay (or the seed) write with --events-path-prefix and\n" +
			"--snapshots-path-prefix, and prints:\n" +
			"  --at TIME               the LSDB snapshot as it was at TIME, in the seed's format: the newest\n" +
			"                          minute snapshot at or before TIME with the events after it up to TIME\n" +
			"  --from T1 --to T2       the archived events after T1 up to T2, as the archive's JSON lines\n" +
			"  --from T1 --to T2 --diff  the net change from the state at T1 to the state at T2, as the\n" +
			"                          seed's events (removals first, each stamped T2)\n" +
			"TIME is RFC 3339 (2024-03-01T10:00:00Z) or Unix milliseconds. An event stamped exactly TIME (or\n" +
			"T2) is included; one stamped T1 is not. Malformed lines are skipped with a warning naming the\n" +
			"first one's file and line, or are an error with --strict.",
		Args: cobra.NoArgs,
		PreRunE: func(*cobra.Command, []string) error {
			if err := opts.validate(); err != nil {
				return cli.Usage(err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHistory(cmd, &opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.eventsPathPrefix, "events-path-prefix", "", "Root of the archive's hourly event files")
	f.StringVar(&opts.snapshotsPathPrefix, "snapshots-path-prefix", "", "Root of the archive's minute snapshots")
	f.StringVar(&opts.at, "at", "", "Print the LSDB snapshot as it was at this time")
	f.StringVar(&opts.from, "from", "", "Print the events after this time (with --to)")
	f.StringVar(&opts.to, "to", "", "Print the events up to this time, inclusive (with --from)")
	f.BoolVar(&opts.diff, "diff", false, "With --from and --to: print the net change between the two states instead of every event")
	f.BoolVar(&opts.strict, "strict", false, "Fail on a malformed line or snapshot instead of skipping it with a warning")
	f.StringVar(&opts.timeZone, "archive-time-zone", "UTC",
		"Time zone of the archive's file names: UTC as this program writes them; the seed wrote its host's local time (Local, or a name such as America/New_York)")
	return cmd
}

// validate checks the combination of flags and parses the times.
func (o *historyOptions) validate() error {
	var err error
	if o.loc, err = time.LoadLocation(o.timeZone); err != nil {
		return fmt.Errorf("--archive-time-zone %q: %w", o.timeZone, err)
	}
	switch {
	case o.at != "" && (o.from != "" || o.to != ""):
		return errors.New("--at and --from/--to ask different questions: give one")
	case o.at != "":
		if o.diff {
			return errors.New("--diff needs --from and --to, not --at")
		}
		if o.atT, err = history.ParseTime(o.at); err != nil {
			return fmt.Errorf("--at: %w", err)
		}
	case o.from != "" && o.to != "":
		if o.fromT, err = history.ParseTime(o.from); err != nil {
			return fmt.Errorf("--from: %w", err)
		}
		if o.toT, err = history.ParseTime(o.to); err != nil {
			return fmt.Errorf("--to: %w", err)
		}
		if o.toT.Before(o.fromT) {
			return fmt.Errorf("--to %s is before --from %s", o.to, o.from)
		}
	case o.from != "" || o.to != "":
		return errors.New("--from and --to go together")
	default:
		return errors.New("give --at TIME, or --from T1 --to T2")
	}
	if o.eventsPathPrefix == "" {
		return errors.New("--events-path-prefix: the archive's event directory is needed")
	}
	if o.snapshotsPathPrefix == "" && (o.at != "" || o.diff) {
		return errors.New("--snapshots-path-prefix: the archive's snapshot directory is needed for a state")
	}
	return nil
}

func runHistory(cmd *cobra.Command, opts *historyOptions) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := history.New(history.Config{
		EventsDir:    opts.eventsPathPrefix,
		SnapshotsDir: opts.snapshotsPathPrefix,
		Location:     opts.loc,
		Strict:       opts.strict,
		Logger:       slog.Default(),
	})
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(cmd.OutOrStdout(), 64<<10)
	var rep history.Report
	switch {
	case opts.at != "":
		v, r, err := h.At(ctx, opts.atT)
		rep = r
		if err != nil {
			return err
		}
		slog.Debug("State replayed", "snapshot", rep.Base, "snapshot_time", rep.BaseTime, "events", rep.Events)
		if err := v.Snapshot().WriteJSON(out); err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
		_ = out.WriteByte('\n')
	case opts.diff:
		evs, r, err := h.Diff(ctx, opts.fromT, opts.toT)
		rep = r
		if err != nil {
			return err
		}
		var b []byte
		for i := range evs {
			b = append(evs[i].AppendJSON(b[:0]), '\n')
			_, _ = out.Write(b)
		}
	default:
		rep, err = h.Events(ctx, opts.fromT, opts.toT, func(line []byte) error {
			_, _ = out.Write(line)
			return out.WriteByte('\n')
		})
		if err != nil {
			return err
		}
	}
	warn(rep)
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// warn logs what the answer had to pass over.
func warn(rep history.Report) {
	if rep.Skipped > 0 {
		slog.Warn("Skipped malformed archive lines or snapshots (--strict makes them an error)", "count", rep.Skipped, "first", rep.FirstSkipped)
	}
	if rep.Unmatched > 0 {
		slog.Warn("Events removed links or routers the state did not hold (a gap in the archive, or events the snapshot already held); they changed nothing", "count", rep.Unmatched)
	}
	if rep.OutOfOrder > 0 {
		slog.Warn("Events were filed more than an hour after their time, and are given out of order", "count", rep.OutOfOrder)
	}
}
