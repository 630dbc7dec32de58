package ospf

// Validate checks the LSA at the start of b exactly as Decode does (length,
// checksum, and the structure of the known types) and returns its header,
// without decoding the body: it allocates nothing unless it fails. The
// database keeps LSAs as raw bytes and reads its view from them, so this is
// all it needs of an update.
func Validate(b []byte) (Header, error) {
	var h Header
	lsa, err := frame(b, &h)
	if err != nil {
		return Header{}, err
	}
	end := len(lsa)
	switch h.Type {
	case RouterLSAType:
		if end < HeaderLen+routerBodyFixed {
			return Header{}, truncated(&h, end, "router LSA body (%d of %d bytes)", end-HeaderLen, routerBodyFixed)
		}
		n := int(lsa[HeaderLen+2])<<8 | int(lsa[HeaderLen+3])
		off := HeaderLen + routerBodyFixed
		for i := range n {
			if end-off < RouterLinkLen {
				return Header{}, truncated(&h, end, "link %d of %d", i+1, n)
			}
			t := int(lsa[off+9])
			if end-off < RouterLinkLen+t*RouterTOSLen {
				return Header{}, truncated(&h, end, "TOS metrics of link %d of %d", i+1, n)
			}
			off += RouterLinkLen + t*RouterTOSLen
		}
		if off != end {
			return Header{}, malformed(&h, off, "%d bytes after the last of %d links", end-off, n)
		}
	case NetworkLSAType:
		if end < HeaderLen+networkBodyFixed {
			return Header{}, truncated(&h, end, "network mask")
		}
		if (end-HeaderLen)%4 != 0 {
			return Header{}, malformed(&h, end-(end-HeaderLen)%4, "network LSA body of %d bytes is not a multiple of 4", end-HeaderLen)
		}
	case SummaryLSAType, ASBRSummaryLSAType:
		if end < HeaderLen+summaryBodyFixed {
			return Header{}, truncated(&h, end, "summary LSA body (%d of %d bytes)", end-HeaderLen, summaryBodyFixed)
		}
		if off := HeaderLen + summaryBodyFixed; (end-off)%summaryTOSLen != 0 {
			return Header{}, truncated(&h, end, "TOS entry %d", (end-off)/summaryTOSLen+1)
		}
	case ASExternalLSAType, NSSAExternalLSAType:
		if end < HeaderLen+externalBodyFixed {
			return Header{}, truncated(&h, end, "external LSA body (%d of %d bytes)", end-HeaderLen, externalBodyFixed)
		}
		if off := HeaderLen + externalBodyFixed; (end-off)%externalTOSLen != 0 {
			return Header{}, truncated(&h, end, "TOS entry %d", (end-off)/externalTOSLen+1)
		}
	}
	return h, nil
}

// Known reports whether t is a type the graph view uses (1, 2, 3, 4, 5, 7).
func (t LSType) Known() bool {
	switch t {
	case RouterLSAType, NetworkLSAType, SummaryLSAType, ASBRSummaryLSAType, ASExternalLSAType, NSSAExternalLSAType:
		return true
	}
	return false
}
