package ospf_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// The typed fuzz targets force the LS type, the length field and the
// checksum, so that mutations reach the body decoder instead of dying at
// the checksum; FuzzDecode takes the bytes as they come.

func FuzzDecodeRouterLSA(f *testing.F)  { fuzzTyped(f, ospf.RouterLSAType) }
func FuzzDecodeNetworkLSA(f *testing.F) { fuzzTyped(f, ospf.NetworkLSAType) }
func FuzzDecodeSummaryLSA(f *testing.F) { fuzzTyped(f, ospf.SummaryLSAType, ospf.ASBRSummaryLSAType) }
func FuzzDecodeExternalLSA(f *testing.F) {
	fuzzTyped(f, ospf.ASExternalLSAType, ospf.NSSAExternalLSAType)
}

// FuzzDecode feeds raw bytes, unknown types and bad checksums included.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
	})
}

func FuzzDecodeHeader(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ospf.DecodeHeader(b)
		if err != nil {
			var de *ospf.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		if len(b) < ospf.HeaderLen || h.Length < ospf.HeaderLen {
			t.Fatalf("DecodeHeader accepted %d bytes with length field %d", len(b), h.Length)
		}
		if int(h.Length) > len(b) {
			return
		}
		// Header -> bytes -> header, through a raw LSA that carries the body.
		raw := &ospf.RawLSA{Header: h, Body: b[ospf.HeaderLen:h.Length]}
		out, err := ospf.Marshal(raw)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		if !bytes.Equal(out[:16], b[:16]) || !bytes.Equal(out[18:], b[18:h.Length]) {
			t.Fatalf("header bytes changed:\n in %x\nout %x", b[:h.Length], out)
		}
		again, err := ospf.DecodeHeader(out)
		if err != nil {
			t.Fatalf("DecodeHeader of marshalled header: %v", err)
		}
		h.Checksum = raw.Checksum
		if diff := cmp.Diff(h, again, codecAddrs); diff != "" {
			t.Fatalf("header round trip mismatch (-want +got):\n%s", diff)
		}
	})
}

func fuzzTyped(f *testing.F, types ...ospf.LSType) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < ospf.HeaderLen || len(b) > 0xffff {
			checkDecode(t, b)
			return
		}
		b = bytes.Clone(b) // the engine's input must not be modified
		b[3] = byte(types[int(b[3])%len(types)])
		binary.BigEndian.PutUint16(b[18:20], uint16(len(b)))
		binary.BigEndian.PutUint16(b[16:18], ospf.Checksum(b))
		checkDecode(t, b)
	})
}

// checkDecode decodes b and, if that works, checks parse -> marshal ->
// parse: the second parse gives the first one's LSA, and a second marshal
// gives the same bytes.
func checkDecode(t *testing.T, b []byte) {
	in := bytes.Clone(b)
	l, err := ospf.Decode(b)
	if !bytes.Equal(in, b) {
		t.Fatalf("Decode modified its input")
	}
	// Validate, the database's allocation-free path, accepts exactly what
	// Decode accepts, with the same header or the same error.
	vh, verr := ospf.Validate(b)
	switch {
	case (err == nil) != (verr == nil):
		t.Fatalf("Decode error %v, Validate error %v", err, verr)
	case err != nil && err.Error() != verr.Error():
		t.Fatalf("Decode error %q, Validate error %q", err, verr)
	case err == nil && vh != *l.Hdr():
		t.Fatalf("Validate header %+v, Decode header %+v", vh, *l.Hdr())
	}
	if err != nil {
		var de *ospf.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error %v is not a *DecodeError", err)
		}
		if !errors.Is(err, ospf.ErrTruncated) && !errors.Is(err, ospf.ErrChecksum) && !errors.Is(err, ospf.ErrMalformed) {
			t.Fatalf("error %v wraps no sentinel", err)
		}
		if l != nil {
			t.Fatalf("Decode returned %T with an error", l)
		}
		return
	}
	h := *l.Hdr()
	out, err := ospf.Marshal(l)
	if err != nil {
		t.Fatalf("Marshal of decoded %T: %v", l, err)
	}
	if len(out) != int(h.Length) {
		t.Fatalf("Marshal gave %d bytes for an LSA of length %d", len(out), h.Length)
	}
	again, err := ospf.Decode(out)
	if err != nil {
		t.Fatalf("Decode of marshalled %T: %v\n%x", l, err, out)
	}
	if diff := cmp.Diff(l, again, codecAddrs); diff != "" {
		t.Fatalf("parse -> marshal -> parse mismatch (-want +got):\n%s", diff)
	}
	out2, err := ospf.Marshal(again)
	if err != nil {
		t.Fatalf("second Marshal: %v", err)
	}
	if !bytes.Equal(out, out2) {
		t.Fatalf("marshal not stable:\n%x\n%x", out, out2)
	}
}

// fuzzSeeds adds the golden vectors and the round-trip cases; the corpus
// files in testdata/fuzz add malformed ones.
func fuzzSeeds(f *testing.F) {
	for _, tc := range codecGoldenCases() {
		f.Add(codecHex(f, tc.hex))
	}
	for _, l := range codecRoundTripCases() {
		b, err := ospf.Marshal(l)
		if err != nil {
			f.Fatalf("Marshal seed: %v", err)
		}
		f.Add(b)
	}
}
