package ospfapitest

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

func msgOfBody(n int, tag byte) []byte {
	b := make([]byte, ospfapi.HeaderLen+n)
	b[0], b[1] = ospfapi.Version, tag
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	return b
}

func TestFIFOOversize(t *testing.T) {
	small := func(tag byte) []byte { return msgOfBody(40, tag) }
	big := msgOfBody(ospfapi.MaxLSAMessageBody+1, 0xbb)
	tests := []struct {
		name     string
		mode     OversizeMode
		lostBig  int    // returned by the push of the big message
		lostNext int    // returned by the push after it
		want     []byte // tags written, in order
	}{
		// ospfd 8.1+: the three queued before the big one go when the
		// next one is queued.
		{"FRR84", OversizeFRR84, 1, 3, []byte{4}},
		{"Drop", OversizeDrop, 1, 0, []byte{1, 2, 3, 4}},
		{"Send", OversizeSend, 0, 0, []byte{1, 2, 3, 0xbb, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newFIFO()
			for tag := byte(1); tag <= 3; tag++ {
				if lost := q.push(tt.mode, small(tag)); lost != 0 {
					t.Fatalf("push %d lost %d", tag, lost)
				}
			}
			if lost := q.push(tt.mode, big); lost != tt.lostBig {
				t.Errorf("push of the big message lost %d, want %d", lost, tt.lostBig)
			}
			if lost := q.push(tt.mode, small(4)); lost != tt.lostNext {
				t.Errorf("push after it lost %d, want %d", lost, tt.lostNext)
			}
			if got := tags(q.take()); !bytes.Equal(got, tt.want) {
				t.Errorf("written %v, want %v", got, tt.want)
			}
		})
	}
}

// The messages queued before an oversized one survive if the writer takes
// them before anything else is queued (ospfd's FIFO is then empty and no
// longer broken).
func TestFIFOOversizeDrained(t *testing.T) {
	q := newFIFO()
	q.push(OversizeFRR84, msgOfBody(10, 1))
	q.push(OversizeFRR84, msgOfBody(ospfapi.MaxLSAMessageBody+1, 2))
	if got := tags(q.take()); !bytes.Equal(got, []byte{1}) {
		t.Fatalf("written %v, want [1]", got)
	}
	q.written()
	if lost := q.push(OversizeFRR84, msgOfBody(10, 3)); lost != 0 {
		t.Errorf("push after the drain lost %d", lost)
	}
	// Oversized into an empty FIFO: nothing else lost.
	q.take()
	q.push(OversizeFRR84, msgOfBody(ospfapi.MaxLSAMessageBody+1, 4))
	if lost := q.push(OversizeFRR84, msgOfBody(10, 5)); lost != 0 {
		t.Errorf("push after an oversized message into an empty FIFO lost %d", lost)
	}
	if got := tags(q.take()); !bytes.Equal(got, []byte{5}) {
		t.Errorf("written %v, want [5]", got)
	}
}

// tags returns the type byte of each message in the chunks.
func tags(chunks [][]byte) []byte {
	var out []byte
	for _, c := range chunks {
		for len(c) >= ospfapi.HeaderLen {
			h, err := ospfapi.ParseHeader(c)
			if err != nil {
				return append(out, 0xff)
			}
			out = append(out, byte(h.Type))
			c = c[ospfapi.HeaderLen+int(h.Len):]
		}
	}
	return out
}
