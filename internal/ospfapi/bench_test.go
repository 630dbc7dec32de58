package ospfapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
	"github.com/ospf-operator/ospf-operator/internal/ospfapi/ospfapitest"
)

// nycX40 is the NYC LSDB cloned 40 times: 51,480 LSAs.
func nycX40(b *testing.B) []ospfapitest.AreaLSA {
	lsas, err := ospfapitest.Clone(ospfapitest.NYC(b), 40)
	if err != nil {
		b.Fatal(err)
	}
	if len(lsas) != 51480 {
		b.Fatalf("%d LSAs, want 51480", len(lsas))
	}
	return lsas
}

var errDumpDone = errors.New("dump done")

// syncOnce dials, syncs until the end of the dump, and closes.
func syncOnce(b *testing.B, addr string) ospfapi.Dump {
	c, err := ospfapi.Dial(context.Background(), addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var dump ospfapi.Dump
	n := 0
	err = c.Sync(context.Background(), ospfapi.Handlers{
		LSA: func(l *ospfapi.LSANotify) error { n += len(l.LSA); return nil },
		DumpDone: func(d ospfapi.Dump) error {
			dump = d
			return errDumpDone
		},
	})
	if !errors.Is(err, errDumpDone) {
		b.Fatal(err)
	}
	return dump
}

// BenchmarkSyncNYCx40 is a whole session over loopback TCP with the fake
// ospfd serving the NYC LSDB cloned 40 times: dial (both channels), the
// three requests, and framing of the 51,480 LSA notifications until the
// end of the dump; the LSAs are not decoded.
func BenchmarkSyncNYCx40(b *testing.B) {
	srv, err := ospfapitest.NewServer(ospfapitest.Config{}, nycX40(b))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	d := syncOnce(b, srv.Addr()) // warm the server's dump order
	b.SetBytes(d.Bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		d = syncOnce(b, srv.Addr())
	}
	b.ReportMetric(float64(d.LSAs), "LSAs/op")
	b.ReportMetric(float64(d.Bytes)/1e6, "MB/op")
}

// BenchmarkDecodeNYCx40 frames the same dump from memory: the cost of the
// Decoder alone.
func BenchmarkDecodeNYCx40(b *testing.B) {
	var stream []byte
	for i, al := range nycX40(b) {
		var err error
		raw, err := marshalLSA(al)
		if err != nil {
			b.Fatal(err)
		}
		stream, err = ospfapi.AppendMessage(stream, &ospfapi.LSANotify{Seq: 2, Area: al.Area, IfAddr: al.Area, LSA: raw})
		if err != nil {
			b.Fatalf("LSA %d: %v", i, err)
		}
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	r := bytes.NewReader(stream)
	for b.Loop() {
		r.Reset(stream)
		d := ospfapi.NewDecoder(r)
		for {
			if _, err := d.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
