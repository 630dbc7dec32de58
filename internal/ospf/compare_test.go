package ospf_test

import (
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

func TestCompare(t *testing.T) {
	type inst struct {
		seq uint32 // as on the wire
		sum uint16
		age uint16
	}
	tests := []struct {
		name string
		a, b inst
		want int // sign: >0 a newer, <0 b newer, 0 same instance
	}{
		{"same instance", inst{0x80000005, 0x1234, 10}, inst{0x80000005, 0x1234, 10}, 0},
		{"larger sequence number", inst{0x80000006, 0x0001, 10}, inst{0x80000005, 0xffff, 10}, 1},
		{"smaller sequence number", inst{0x80000005, 0xffff, 0}, inst{0x80000006, 0x0001, 3600}, -1},
		{"sequence is signed: initial vs positive", inst{0x80000001, 0x1234, 10}, inst{0x00000001, 0x1234, 10}, -1},
		{"sequence is signed: max is newest", inst{0x7fffffff, 0x1234, 10}, inst{0x80000001, 0x1234, 10}, 1},
		{"sequence is signed: -1 older than 0", inst{0xffffffff, 0x1234, 10}, inst{0x00000000, 0x1234, 10}, -1},
		{"larger checksum", inst{0x80000005, 0x1235, 10}, inst{0x80000005, 0x1234, 10}, 1},
		{"checksum is unsigned", inst{0x80000005, 0x0001, 10}, inst{0x80000005, 0xffff, 10}, -1},
		{"checksum is unsigned, reversed", inst{0x80000005, 0xffff, 10}, inst{0x80000005, 0x8000, 10}, 1},
		{"checksum beats MaxAge", inst{0x80000005, 0x1000, 3600}, inst{0x80000005, 0x1001, 0}, -1},
		{"MaxAge is newer", inst{0x80000005, 0x1234, 3600}, inst{0x80000005, 0x1234, 3599}, 1},
		{"MaxAge is newer, reversed", inst{0x80000005, 0x1234, 0}, inst{0x80000005, 0x1234, 3600}, -1},
		{"both MaxAge", inst{0x80000005, 0x1234, 3600}, inst{0x80000005, 0x1234, 3600}, 0},
		{"age above MaxAge counts as MaxAge", inst{0x80000005, 0x1234, 4000}, inst{0x80000005, 0x1234, 3600}, 0},
		{"DoNotAge masked for MaxAge", inst{0x80000005, 0x1234, ospf.DoNotAge | 3600}, inst{0x80000005, 0x1234, 100}, 1},
		{"DoNotAge alone is not MaxAge", inst{0x80000005, 0x1234, ospf.DoNotAge | 5}, inst{0x80000005, 0x1234, 5}, 0},
		{"age differs by more than MaxAgeDiff", inst{0x80000005, 0x1234, 10}, inst{0x80000005, 0x1234, 911}, 1},
		{"age differs by more than MaxAgeDiff, reversed", inst{0x80000005, 0x1234, 1000}, inst{0x80000005, 0x1234, 99}, -1},
		{"age differs by exactly MaxAgeDiff", inst{0x80000005, 0x1234, 10}, inst{0x80000005, 0x1234, 910}, 0},
		{"age differs by less than MaxAgeDiff", inst{0x80000005, 0x1234, 899}, inst{0x80000005, 0x1234, 0}, 0},
		{"DoNotAge masked for MaxAgeDiff", inst{0x80000005, 0x1234, ospf.DoNotAge | 10}, inst{0x80000005, 0x1234, 1000}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &ospf.Header{SeqNum: int32(tc.a.seq), Checksum: tc.a.sum, Age: tc.a.age}
			b := &ospf.Header{SeqNum: int32(tc.b.seq), Checksum: tc.b.sum, Age: tc.b.age}
			if got := ospf.Compare(a, b); codecSign(got) != tc.want {
				t.Errorf("Compare(a, b) = %d, want sign %d", got, tc.want)
			}
			if got := ospf.Compare(b, a); codecSign(got) != -tc.want {
				t.Errorf("Compare(b, a) = %d, want sign %d", got, -tc.want)
			}
		})
	}
}

func codecSign(n int) int {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}
