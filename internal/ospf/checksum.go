package ospf

import "encoding/binary"

// checksumOffset is where the checksum sits in the LSA header. The sums
// start after the 2-byte LS age, so within the summed bytes it is at 14.
const checksumOffset = 16

// fletcherBlock is how many bytes the uint64 running sums take before they
// are reduced modulo 255: far below overflow, and more than any LSA, so
// the modulo is taken once per LSA rather than once per byte.
const fletcherBlock = 1 << 16

// Checksum returns the value to store at bytes 16-17 of the LSA in lsa:
// the ISO 8473 Fletcher checksum (RFC 905 annex B) over everything but the
// LS age, as RFC 2328 12.1.7 specifies. The bytes currently at 16-17 are
// treated as zero, so a stored checksum does not influence the result.
// lsa must hold exactly the whole LSA; Checksum returns 0, a value it never
// otherwise produces, when lsa is shorter than a header.
func Checksum(lsa []byte) uint16 {
	if len(lsa) < HeaderLen {
		return 0
	}
	d := lsa[2:]
	l := uint64(len(d))
	c0, c1 := fletcherSums(d)
	// Take out the stored checksum octets, at 0-based positions 14 and 15
	// of the summed bytes; octet i is counted L-i times in C1.
	sx, sy := uint64(d[14]), uint64(d[15])
	c0 = (c0 + 2*255 - sx - sy) % 255
	c1 = (c1 + 2*255*255 - sx*((l-14)%255) - sy*((l-15)%255)) % 255

	// The octets X and Y must make both sums zero modulo 255:
	// X = (L-15)*C0 - C1 and Y = C1 - (L-14)*C0.
	x := (((l-15)%255)*c0 + 255 - c1) % 255
	y := (c1 + 255*255 - ((l-14)%255)*c0) % 255
	if x == 0 {
		x = 255
	}
	if y == 0 {
		y = 255
	}
	return uint16(x)<<8 | uint16(y)
}

// VerifyChecksum reports whether the LSA in lsa, which must hold exactly
// the whole LSA, carries a valid checksum: both Fletcher sums over bytes 2
// to the end, checksum included, are zero modulo 255.
func VerifyChecksum(lsa []byte) bool {
	if len(lsa) < HeaderLen {
		return false
	}
	c0, c1 := fletcherSums(lsa[2:])
	return c0 == 0 && c1 == 0
}

// Multipliers for fletcherSums: byte j of an 8-byte word (0 first) is
// counted 8-j times in C1. Loaded little-endian, the even bytes of a word
// sit in 16-bit lanes 0..3 and so do the odd ones; multiplying by these
// constants leaves the weighted sum of each half in the top lane, and no
// lane can carry into it: 255*(8+6+4+2+7+5+3+1) < 1<<16.
const (
	laneMask   = 0x00ff00ff00ff00ff
	laneOnes   = 0x0001000100010001 // sums all four lanes into the top one
	evenWeight = 8<<48 | 6<<32 | 4<<16 | 2
	oddWeight  = 7<<48 | 5<<32 | 3<<16 | 1
)

// fletcherSums returns the Fletcher sums C0 and C1 of b modulo 255. It
// adds eight bytes at a time: for a word of bytes d0..d7, C1 gains 8*C0
// plus d0*8 + d1*7 + ... + d7*1, and C0 gains the bytes' sum.
func fletcherSums(b []byte) (c0, c1 uint64) {
	for len(b) > 0 {
		blk := b
		if len(blk) > fletcherBlock {
			blk = blk[:fletcherBlock]
		}
		b = b[len(blk):]
		for len(blk) >= 8 {
			v := binary.LittleEndian.Uint64(blk)
			even, odd := v&laneMask, v>>8&laneMask
			c1 += 8*c0 + (even*evenWeight+odd*oddWeight)>>48
			c0 += (even + odd) * laneOnes >> 48
			blk = blk[8:]
		}
		for _, v := range blk {
			c0 += uint64(v)
			c1 += c0
		}
		c0 %= 255
		c1 %= 255
	}
	return c0, c1
}
