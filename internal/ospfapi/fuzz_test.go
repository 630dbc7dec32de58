package ospfapi_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

// FuzzReadMessage reads a stream of messages, never panicking; every
// message it decodes must marshal and decode again to the same value, and
// the zero-copy Decoder must read the same stream the same way. Seeds are
// in testdata/fuzz/FuzzReadMessage.
func FuzzReadMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		d := ospfapi.NewDecoder(bytes.NewReader(data))
		for {
			m, err := ospfapi.ReadMessage(r, nil)
			dm, derr := d.Next()
			if err != nil {
				if derr == nil || errorClass(err) != errorClass(derr) {
					t.Fatalf("ReadMessage: %v; Decoder.Next: %v", err, derr)
				}
				var pe *ospfapi.ProtocolError
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.As(err, &pe) {
					t.Fatalf("ReadMessage: unexpected error %v (%T)", err, err)
				}
				return
			}
			if derr != nil {
				t.Fatalf("ReadMessage: %v; Decoder.Next: %v", m, derr)
			}
			if diff := cmp.Diff(m, dm, cmpMsg); diff != "" {
				t.Fatalf("ReadMessage and Decoder.Next differ (-read +decoder):\n%s", diff)
			}
			b, err := ospfapi.MarshalMessage(m)
			if err != nil {
				t.Fatalf("MarshalMessage(%#v): %v", m, err)
			}
			m2, n, err := ospfapi.ParseMessage(b)
			if err != nil {
				t.Fatalf("ParseMessage(MarshalMessage(%#v)): %v", m, err)
			}
			if n != len(b) {
				t.Fatalf("ParseMessage took %d of %d bytes", n, len(b))
			}
			if diff := cmp.Diff(m, m2, cmpMsg); diff != "" {
				t.Fatalf("round trip (-read +again):\n%s", diff)
			}
		}
	})
}

func errorClass(err error) string {
	var pe *ospfapi.ProtocolError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected EOF"
	case errors.Is(err, io.EOF):
		return "EOF"
	case errors.As(err, &pe):
		return "protocol"
	}
	return "other"
}
