package relay

import (
	"testing"
	"time"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// BenchmarkCheckpointNYCx40 is what a checkpoint of a relay that serves
// the NYC LSDB × 40 (23,680 routers) costs: the view taken from the
// replica while the stream waits (view), and the view written as JSON
// after (json), once a minute at most while the archive grows.
func BenchmarkCheckpointNYCx40(b *testing.B) {
	db := ospfapitest.NYCDB(b, 40)
	rep := lsdb.NewReplica(db.View())
	b.Run("view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rep.View(time.Now())
		}
	})
	b.Run("json", func(b *testing.B) {
		v := rep.View(time.Now())
		var n int
		b.ReportAllocs()
		for b.Loop() {
			n = len(v.AppendJSON(nil))
		}
		b.ReportMetric(float64(n)/1e6, "MB")
	})
}
