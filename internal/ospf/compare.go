package ospf

// Compare tells which of two instances of the same LSA is more recent, by
// the rules of RFC 2328 section 13.1. It returns a positive number when a
// is newer, a negative one when b is newer, and 0 when they are the same
// instance. In order:
//
//   - the larger LS sequence number, compared as signed 32-bit integers
//     (0x80000001 is the oldest, 0x7fffffff the newest), is newer;
//   - else the larger checksum, compared as unsigned 16-bit integers;
//   - else, if exactly one has LS age MaxAge, that one;
//   - else, if the ages differ by more than MaxAgeDiff, the younger one;
//   - else they are the same instance.
//
// Ages are compared without the DoNotAge bit (Header.EffectiveAge).
func Compare(a, b *Header) int {
	if a.SeqNum != b.SeqNum {
		if a.SeqNum > b.SeqNum {
			return 1
		}
		return -1
	}
	if a.Checksum != b.Checksum {
		if a.Checksum > b.Checksum {
			return 1
		}
		return -1
	}
	aAge, bAge := int(a.EffectiveAge()), int(b.EffectiveAge())
	if aMax, bMax := aAge == MaxAge, bAge == MaxAge; aMax != bMax {
		if aMax {
			return 1
		}
		return -1
	}
	switch d := aAge - bAge; {
	case d > MaxAgeDiff:
		return -1
	case d < -MaxAgeDiff:
		return 1
	}
	return 0
}
