package ospfapi

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// lsaHeaderLen is the length of an LSA header; the API carries whole LSAs
// but reads no more of them than their length field.
const lsaHeaderLen = 20

// lsaAt returns the LSA starting at b[0]: as many bytes as its length
// field says, which must cover a header and fit in b. Bytes after it are
// ignored.
func lsaAt(b []byte) ([]byte, error) {
	if len(b) < lsaHeaderLen {
		return nil, fmt.Errorf("LSA of %d bytes shorter than its %d-byte header", len(b), lsaHeaderLen)
	}
	n := int(binary.BigEndian.Uint16(b[18:20]))
	if n < lsaHeaderLen {
		return nil, fmt.Errorf("LSA length %d shorter than its header", n)
	}
	if n > len(b) {
		return nil, fmt.Errorf("LSA length %d exceeds the %d bytes left in the message", n, len(b))
	}
	return b[:n:n], nil
}

// LSAFilter selects LSAs for REGISTER_EVENT and SYNC_LSDB (struct
// lsa_filter_type): by type (TypeMask, bit t-1 for LS type t), by origin,
// and by area (none: all areas; AS-scoped LSAs ignore the areas).
type LSAFilter struct {
	TypeMask uint16
	Origin   Origin
	Areas    []netip.Addr
}

// AllLSAs is the filter for every LSA of every area, whoever originated it.
var AllLSAs = LSAFilter{TypeMask: AllLSATypes, Origin: AnyOrigin}

func (f *LSAFilter) append(e *encoder) {
	if len(f.Areas) > 0xff {
		e.fail("%d areas exceed the filter's 255", len(f.Areas))
	}
	e.u16(f.TypeMask)
	e.u8(uint8(f.Origin))
	e.u8(uint8(len(f.Areas)))
	for _, a := range f.Areas {
		e.addr("area", a)
	}
}

func (f *LSAFilter) parse(b []byte) error {
	if err := needLen(b, 4); err != nil {
		return err
	}
	n := int(b[3])
	if err := needLen(b, 4+4*n); err != nil {
		return fmt.Errorf("filter with %d areas: %w", n, err)
	}
	f.TypeMask = binary.BigEndian.Uint16(b[0:2])
	f.Origin = Origin(b[2])
	f.Areas = nil
	if n > 0 {
		f.Areas = make([]netip.Addr, n)
		for i := range f.Areas {
			f.Areas[i] = addr4(b[4+4*i:])
		}
	}
	return nil
}
