package lsdb

// checksumOffset is where the checksum sits in the LSA header; the sums
// start after the 2-byte LS age, so within the summed bytes it is at 14.
const checksumOffset = 16

// fletcherBlock is the most bytes the running sums can take in uint32
// before one of them could overflow (starting from values below 255), so
// the modulo is taken once per block instead of once per byte.
const fletcherBlock = 5802

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
	// Sum as if the checksum field were zero: the bytes before and after it.
	c0, c1 := fletcherSums(lsa[2:checksumOffset], 0, 0)
	c1 = (c1 + 2*c0) % 255 // two zero bytes: c0 unchanged, c1 += 2*c0
	c0, c1 = fletcherSums(lsa[checksumOffset+2:], c0, c1)

	// With the checksum octets at 1-based position n of the L summed
	// bytes, the stored X and Y must make both sums zero modulo 255:
	// X = (L-n)*C0 - C1 and Y = C1 - (L-n+1)*C0.
	l := uint32(len(lsa) - 2)
	n := uint32(checksumOffset - 2 + 1)
	w := (l - n) % 255
	x := (w*c0 + 255 - c1) % 255
	y := (c1 + 255*2 - (w+1)%255*c0%255) % 255
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
	c0, c1 := fletcherSums(lsa[2:], 0, 0)
	return c0 == 0 && c1 == 0
}

// fletcherSums adds b to the running Fletcher sums c0 and c1 (each below
// 255) and returns them reduced modulo 255.
func fletcherSums(b []byte, c0, c1 uint32) (uint32, uint32) {
	for len(b) > 0 {
		blk := b
		if len(blk) > fletcherBlock {
			blk = blk[:fletcherBlock]
		}
		b = b[len(blk):]
		// Four bytes at a time: c1 gains 4*c0 plus the bytes weighted
		// 4, 3, 2, 1, which breaks the byte-by-byte dependency chain.
		for len(blk) >= 4 {
			b0, b1, b2, b3 := uint32(blk[0]), uint32(blk[1]), uint32(blk[2]), uint32(blk[3])
			c1 += 4*c0 + 4*b0 + 3*b1 + 2*b2 + b3
			c0 += b0 + b1 + b2 + b3
			blk = blk[4:]
		}
		for _, v := range blk {
			c0 += uint32(v)
			c1 += c0
		}
		c0 %= 255
		c1 %= 255
	}
	return c0, c1
}
