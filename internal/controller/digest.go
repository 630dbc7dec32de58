package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/ospf-operator/ospf-operator/internal/lsdb"
)

// contentHash is the SHA-256 of a snapshot's content: its canonical form
// (lsdb.Snapshot.AppendCanonicalJSON), with its "updated" stamp set to 0.
// The snapshot holds nothing that changes without a change of topology
// (LS age, sequence numbers, checksums), and the hash leaves out its order
// (the seed's, that of arrival): an agent that takes over received the
// same LSDB in ospfd's dump order, not in the order the ConfigMap's writer
// saw it arrive, and must not rewrite an unchanged ConfigMap for that.
func contentHash(snap *lsdb.Snapshot) string {
	norm := *snap
	norm.Updated = 0
	sum := sha256.Sum256(norm.AppendCanonicalJSON(nil))
	return hex.EncodeToString(sum[:])
}

// Digest is the content hash of an LSDB, per area: agents on routers of
// the same area hold the same LSDB for it, while an ABR also holds areas
// that an internal router does not, so agents compare the areas they have
// in common.
type Digest map[string]string // area ID -> the first 128 bits of its content hash, in hex

// digestHexLen is the length of a Digest's per-area hashes.
const digestHexLen = 32

// DigestOf returns the digest of a view: per area, the hash of the area's
// typed view, so that flags, tags and DR addresses count too, but not the
// order in which this agent received the LSAs (View.AppendContentJSON):
// agents that hold the same LSDB received it in different orders.
func DigestOf(v *lsdb.View) Digest {
	d := make(Digest, len(v.Areas))
	for _, a := range v.Areas {
		one := lsdb.View{Areas: []lsdb.AreaView{a}}
		sum := sha256.Sum256(one.AppendContentJSON(nil))
		d[a.ID.String()] = hex.EncodeToString(sum[:])[:digestHexLen]
	}
	return d
}

// String is the digest as the agent Lease's annotation holds it:
// AREA=HASH pairs, comma-separated, in area order.
func (d Digest) String() string {
	areas := make([]string, 0, len(d))
	for a := range d {
		areas = append(areas, a)
	}
	slices.SortFunc(areas, compareAreas)
	var b strings.Builder
	for i, a := range areas {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a)
		b.WriteByte('=')
		b.WriteString(d[a])
	}
	return b.String()
}

// compareAreas orders area IDs numerically (they are dotted quads).
func compareAreas(a, b string) int {
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	if errX != nil || errY != nil {
		return strings.Compare(a, b)
	}
	return x.Compare(y)
}

// ParseDigest reads a digest written by Digest.String.
func ParseDigest(s string) (Digest, error) {
	d := Digest{}
	if s == "" {
		return d, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		area, hash, ok := strings.Cut(part, "=")
		if _, err := netip.ParseAddr(area); !ok || err != nil {
			return nil, fmt.Errorf("digest %q: %q is not AREA=HASH", s, part)
		}
		if len(hash) != digestHexLen {
			return nil, fmt.Errorf("digest %q: area %s: hash of %d characters, want %d", s, area, len(hash), digestHexLen)
		}
		if _, err := hex.DecodeString(hash); err != nil {
			return nil, fmt.Errorf("digest %q: area %s: %w", s, area, err)
		}
		d[area] = hash
	}
	return d, nil
}
