package stream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// WriteLines follows sub and writes each event to w as one JSON line in the
// seed's format, flushing after every batch so that a pipe sees events as
// they happen. It returns when ctx is done (nil) or on a write error or a
// lagging subscription.
func WriteLines(ctx context.Context, sub *lsdb.Subscription, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var (
		evs  []lsdb.Event
		line []byte
		err  error
	)
	for {
		evs, err = sub.Read(ctx, evs[:0])
		for i := range evs {
			line = evs[i].AppendJSON(line[:0])
			line = append(line, '\n')
			if _, werr := bw.Write(line); werr != nil {
				return fmt.Errorf("write event stream: %w", werr)
			}
		}
		if ferr := bw.Flush(); ferr != nil {
			return fmt.Errorf("write event stream: %w", ferr)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return err
		}
	}
}
