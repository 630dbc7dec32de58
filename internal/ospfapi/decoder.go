package ospfapi

import (
	"bufio"
	"errors"
	"io"
	"time"
)

// decoderBufSize holds the largest possible message, so that every message
// can be decoded in place in the read buffer.
const decoderBufSize = 1 << 17

// Decoder reads a stream of messages without copying them and, for LSA
// notifications, without allocating: what Next returns aliases the
// decoder's buffer and stays valid only until the next call. Callers that
// keep an LSA copy its bytes.
type Decoder struct {
	r     *bufio.Reader
	src   stampReader
	lsa   LSANotify
	bytes int64
	count int64
}

// NewDecoder returns a decoder reading from r.
func NewDecoder(r io.Reader) *Decoder {
	return NewDecoderClock(r, time.Now)
}

// NewDecoderClock returns a decoder reading from r that stamps arrivals
// with now.
func NewDecoderClock(r io.Reader, now func() time.Time) *Decoder {
	d := &Decoder{src: stampReader{r: r, now: now}}
	d.r = bufio.NewReaderSize(&d.src, decoderBufSize)
	return d
}

// stampReader notes when its last read returned data. The decoder reads
// only when it needs more bytes to complete a message, so when a message
// is complete, that read is the one that brought its last byte: the time
// the message arrived, taken once per read rather than once per message.
type stampReader struct {
	r    io.Reader
	now  func() time.Time
	last time.Time
}

func (s *stampReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.last = s.now()
	}
	return n, err
}

// Next reads the next message. It returns io.EOF when the stream ends
// between messages, io.ErrUnexpectedEOF when it ends inside one, a
// *ProtocolError for a bad header or body, and the reader's error
// otherwise.
func (d *Decoder) Next() (Message, error) {
	hb, err := d.r.Peek(HeaderLen)
	if err != nil {
		return nil, eofInside(len(hb), err)
	}
	h, err := ParseHeader(hb)
	if err != nil {
		return nil, err
	}
	n := HeaderLen + int(h.Len)
	b, err := d.r.Peek(n)
	if err != nil {
		return nil, eofInside(len(b), err)
	}
	// Discard cannot fail: the bytes are buffered.
	_, _ = d.r.Discard(n)
	d.bytes += int64(n)
	d.count++
	body := b[HeaderLen:]
	if h.Type == MsgLSAUpdateNotify || h.Type == MsgLSADeleteNotify {
		m := &d.lsa
		*m = LSANotify{Seq: h.Seq, Delete: h.Type == MsgLSADeleteNotify, Arrival: d.src.last}
		if err := m.parseBody(body); err != nil {
			return nil, &ProtocolError{Type: h.Type, Seq: h.Seq, Reason: err.Error()}
		}
		return m, nil
	}
	return parseBody(h, body)
}

// Bytes is the number of bytes of the messages read so far.
func (d *Decoder) Bytes() int64 { return d.bytes }

// Count is the number of messages read so far.
func (d *Decoder) Count() int64 { return d.count }

// Buffered is the number of bytes read from the stream but not yet decoded.
func (d *Decoder) Buffered() int { return d.r.Buffered() }

// eofInside turns io.EOF after some bytes of a message into
// io.ErrUnexpectedEOF.
func eofInside(got int, err error) error {
	if errors.Is(err, io.EOF) && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}
