package archive_test

import (
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/archive"
)

func TestParseDirName(t *testing.T) {
	for _, c := range []struct {
		name  string
		depth int
		n     int
		ok    bool
	}{
		{"2024", 0, 2024, true},
		{"0999", 0, 999, true},
		{"24", 0, 0, false},
		{"12", 1, 12, true},
		{"99", 3, 99, true}, // the width is checked, not the range
		{"2024", 1, 0, false},
		{"1a", 2, 0, false},
		{"+1", 2, 0, false},
		{"", 1, 0, false},
	} {
		n, ok := archive.ParseDirName(c.name, c.depth)
		if n != c.n || ok != c.ok {
			t.Errorf("ParseDirName(%q, %d) = %d, %v; want %d, %v", c.name, c.depth, n, ok, c.n, c.ok)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		s         string
		width, lo int
		hi        int
		n         int
		ok        bool
	}{
		{"07", 2, 1, 12, 7, true},
		{"00", 2, 1, 12, 0, false},
		{"13", 2, 1, 12, 13, false},
		{"7", 2, 1, 12, 0, false},
		{"-7", 2, 0, 99, 0, false},
	} {
		n, ok := archive.ParseNumber(c.s, c.width, c.lo, c.hi)
		if ok != c.ok || ok && n != c.n {
			t.Errorf("ParseNumber(%q, %d, %d, %d) = %d, %v; want %d, %v", c.s, c.width, c.lo, c.hi, n, ok, c.n, c.ok)
		}
	}
}
