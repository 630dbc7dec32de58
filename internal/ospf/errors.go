package ospf

import (
	"errors"
	"fmt"
	"io"
)

// Sentinel errors wrapped by DecodeError; test for them with errors.Is.
var (
	// ErrTruncated means the bytes ended before the LSA did. It wraps
	// io.ErrUnexpectedEOF, so errors.Is works with either.
	ErrTruncated = fmt.Errorf("LSA truncated: %w", io.ErrUnexpectedEOF)
	// ErrChecksum means the LSA's Fletcher checksum does not match its content.
	ErrChecksum = errors.New("LSA checksum mismatch")
	// ErrMalformed means the LSA's fields contradict each other or its
	// length, for example trailing bytes after the last router link.
	ErrMalformed = errors.New("malformed LSA")
)

// DecodeError reports an LSA that could not be decoded: which LSA, where in
// its bytes, and what was wrong.
type DecodeError struct {
	Key    Key    // zero when the header itself could not be read
	Offset int    // byte offset from the start of the LSA
	Reason string // what was wrong, e.g. "link 3 of 4 truncated"
	Err    error  // ErrTruncated, ErrChecksum or ErrMalformed
}

// Error reads like "router LSA 10.0.0.1 adv 10.0.0.1: link 3 of 4 truncated at byte 52".
func (e *DecodeError) Error() string {
	what := "LSA"
	if e.Key.LSID.IsValid() {
		what = e.Key.String()
	}
	reason := e.Reason
	if reason == "" && e.Err != nil {
		reason = e.Err.Error()
	}
	return fmt.Sprintf("%s: %s at byte %d", what, reason, e.Offset)
}

// Unwrap returns the sentinel the error wraps.
func (e *DecodeError) Unwrap() error { return e.Err }
