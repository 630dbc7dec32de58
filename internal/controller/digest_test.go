package controller

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

func TestDigest(t *testing.T) {
	snap := parseSnapshot(t, mappingTopology)
	view := func() *lsdb.View {
		v, err := lsdb.ViewFromSnapshot(snap)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	d := DigestOf(view())
	if len(d) != 2 || len(d["0.0.0.0"]) != digestHexLen || len(d["0.0.0.1"]) != digestHexLen || d["0.0.0.0"] == d["0.0.0.1"] {
		t.Fatalf("digest %v: want two distinct area hashes", d)
	}

	// The stamp does not count; a change counts only in its area.
	snap.Updated = 12345
	if got := DigestOf(view()); !cmp.Equal(got, d) {
		t.Errorf("digest moved with the time stamp: %v, was %v", got, d)
	}
	snap.Areas["0.0.0.1"].Routers["10.0.0.3"].Links.Router[0].Metric = 8
	changed := DigestOf(view())
	if changed["0.0.0.0"] != d["0.0.0.0"] || changed["0.0.0.1"] == d["0.0.0.1"] {
		t.Errorf("a metric change in area 0.0.0.1: digest %v, was %v", changed, d)
	}
	// The order in which an agent received the LSAs does not.
	v := view()
	for i := range v.Areas {
		a := &v.Areas[i]
		for j := range a.Routers {
			a.Routers[j].LSAOrder += 1000 * uint64(len(a.Routers)-j)
		}
		for j := range a.Networks {
			a.Networks[j].Order = 7
		}
	}
	if got := DigestOf(v); !cmp.Equal(got, changed) {
		t.Errorf("digest moved with the arrival order: %v, was %v", got, changed)
	}
	// What only the typed view holds counts too.
	v = view()
	v.Areas[0].Routers[0].Flags = 1
	if got := DigestOf(v); got["0.0.0.0"] == d["0.0.0.0"] {
		t.Errorf("a flag change does not move the digest")
	}

	s := d.String()
	if !strings.HasPrefix(s, "0.0.0.0=") || !strings.Contains(s, ",0.0.0.1=") {
		t.Errorf("String() = %q, want areas in order", s)
	}
	back, err := ParseDigest(s)
	if err != nil || !cmp.Equal(back, d) {
		t.Errorf("ParseDigest(%q) = %v, %v; want %v", s, back, err, d)
	}
	if empty, err := ParseDigest(""); err != nil || len(empty) != 0 {
		t.Errorf("ParseDigest(\"\") = %v, %v", empty, err)
	}
}

// TestContentHashIgnoresOrder: the ConfigMap's hash is of the content, so
// that an agent that received the same LSDB in another order (a takeover:
// ospfd's dump order against the old agent's arrival order) finds the
// ConfigMap up to date, while a change of content still moves it.
func TestContentHashIgnoresOrder(t *testing.T) {
	snap := parseSnapshot(t, mappingTopology)
	h := contentHash(snap)
	// The same content in the reverse order of keys and links.
	reversed := func(s *lsdb.Snapshot) *lsdb.Snapshot {
		v, err := lsdb.ViewFromSnapshot(s)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v.Areas {
			a := &v.Areas[i]
			for j := range a.Routers {
				a.Routers[j].LSAOrder = uint64(len(a.Routers) - j)
				for k := range a.Routers[j].Externals {
					a.Routers[j].Externals[k].Order = uint64(len(a.Routers[j].Externals) - k)
				}
			}
			for j := range a.Networks {
				a.Networks[j].Order = uint64(len(a.Networks) - j)
			}
		}
		return v.Snapshot()
	}
	other := reversed(snap)
	if string(other.AppendJSON(nil)) == string(snap.AppendJSON(nil)) {
		t.Fatal("the reordered snapshot writes the same bytes: the test does not reorder")
	}
	other.Updated = 999
	if got := contentHash(other); got != h {
		t.Errorf("content hash moved with the order or the stamp: %s, was %s", got, h)
	}
	snap.Areas["0.0.0.1"].Routers["10.0.0.3"].Links.Router[0].Metric = 8
	if contentHash(snap) == h {
		t.Error("a metric change does not move the content hash")
	}
}

func TestParseDigestErrors(t *testing.T) {
	for in, want := range map[string]string{
		"0.0.0.0": "is not AREA=HASH",
		"area0=" + strings.Repeat("a", digestHexLen): "is not AREA=HASH",
		"0.0.0.0=abc": "hash of 3 characters",
		"0.0.0.0=" + strings.Repeat("z", digestHexLen): "invalid byte",
	} {
		if _, err := ParseDigest(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseDigest(%q): error %v, want %q", in, err, want)
		}
	}
}
