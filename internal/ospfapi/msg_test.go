package ospfapi_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ospf-operator/ospf-operator/internal/ospfapi"
)

// testLSA is a minimal valid-looking router LSA header plus 4 body bytes
// (the API does not check LSA checksums).
var testLSA = unhex("0001 0201 0a000001 0a000001 80000001 1234 0018 00000000")

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

var addr = netip.MustParseAddr

// Wire formats from the C structs of ospf_api.h (network byte order,
// four-byte aligned, pads zero).
var golden = []struct {
	name string
	msg  ospfapi.Message
	wire string
}{
	{"register event all", &ospfapi.RegisterEvent{Seq: 1, Filter: ospfapi.AllLSAs},
		"01 03 0004 00000001  ffff 02 00"},
	{"sync lsdb two areas", &ospfapi.SyncLSDB{Seq: 2, Filter: ospfapi.LSAFilter{TypeMask: 0x0003, Origin: ospfapi.NonSelfOriginated,
		Areas: []netip.Addr{addr("0.0.0.0"), addr("0.0.0.1")}}},
		"01 04 000c 00000002  0003 00 02 00000000 00000001"},
	{"sync router id", &ospfapi.SyncRequest{Kind: ospfapi.MsgSyncRouterID, Seq: 3},
		"01 13 0004 00000003  00000000"},
	{"sync reachable", &ospfapi.SyncRequest{Kind: ospfapi.MsgSyncReachable, Seq: 4},
		"01 07 0004 00000004  00000000"},
	{"register opaque type", &ospfapi.RegisterOpaqueType{Seq: 5, LSAType: 10, OpaqueType: 230},
		"01 01 0004 00000005  0a e6 0000"},
	{"unregister opaque type", &ospfapi.UnregisterOpaqueType{Seq: 6, LSAType: 9, OpaqueType: 1},
		"01 02 0004 00000006  09 01 0000"},
	{"originate request", &ospfapi.OriginateRequest{Seq: 7, IfAddr: addr("10.0.0.9"), Area: addr("0.0.0.1"), LSA: testLSA},
		"01 05 0020 00000007  0a000009 00000001" + hex.EncodeToString(testLSA)},
	{"delete request", &ospfapi.DeleteRequest{Seq: 8, Addr: addr("0.0.0.1"), LSAType: 10, OpaqueType: 230, Flags: 1, OpaqueID: 0x10203},
		"01 06 000c 00000008  00000001 0a e6 00 01 00010203"},
	{"reply ok", &ospfapi.Reply{Seq: 9}, "01 0a 0004 00000009  00 000000"},
	{"reply no such area", &ospfapi.Reply{Seq: 10, Code: ospfapi.CodeNoSuchArea}, "01 0a 0004 0000000a  fe 000000"},
	{"ready notify", &ospfapi.ReadyNotify{LSAType: 10, OpaqueType: 230, Addr: addr("0.0.0.1")},
		"01 0b 0008 00000000  0a e6 0000 00000001"},
	{"lsa update dump", &ospfapi.LSANotify{Seq: 2, Area: addr("0.0.0.0"), IfAddr: addr("0.0.0.0"), SelfOriginated: true, LSA: testLSA},
		"01 0c 0024 00000002  00000000 00000000 01 000000" + hex.EncodeToString(testLSA)},
	{"lsa delete live", &ospfapi.LSANotify{Delete: true, Area: addr("0.0.0.1"), IfAddr: addr("0.0.0.0"), LSA: testLSA},
		"01 0d 0024 00000000  00000000 00000001 00 000000" + hex.EncodeToString(testLSA)},
	{"new if", &ospfapi.NewIf{IfAddr: addr("10.0.0.1"), Area: addr("0.0.0.0")}, "01 0e 0008 00000000  0a000001 00000000"},
	{"del if", &ospfapi.DelIf{IfAddr: addr("10.0.0.1")}, "01 0f 0004 00000000  0a000001"},
	{"ism change", &ospfapi.ISMChange{IfAddr: addr("10.0.0.1"), Area: addr("0.0.0.0"), Status: 7},
		"01 10 000c 00000000  0a000001 00000000 07 000000"},
	{"nsm change", &ospfapi.NSMChange{IfAddr: addr("10.0.0.1"), NbrAddr: addr("10.0.0.2"), RouterID: addr("1.1.1.2"), Status: 9},
		"01 11 0010 00000000  0a000001 0a000002 01010102 09 000000"},
	{"reachable change", &ospfapi.ReachableChange{Added: []netip.Addr{addr("1.1.1.1"), addr("1.1.1.2")}, Removed: []netip.Addr{addr("1.1.1.3")}},
		"01 12 0010 00000000  0002 0001 01010101 01010102 01010103"},
	{"router id change", &ospfapi.RouterIDChange{Seq: 3, RouterID: addr("10.0.0.1")}, "01 14 0004 00000003  0a000001"},
	{"unknown type", &ospfapi.RawMessage{Type: 99, Seq: 7, Body: []byte{1, 2, 3}}, "01 63 0003 00000007  010203"},
}

// cmpMsg compares messages: addresses by value, nil and empty slices alike.
// cmpMsg compares messages as encoded: the arrival time the decoder notes
// is not part of a message.
var cmpMsg = cmp.Options{cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{}),
	cmpopts.IgnoreFields(ospfapi.LSANotify{}, "Arrival")}

func TestMessageRoundTrip(t *testing.T) {
	for _, tt := range golden {
		t.Run(tt.name, func(t *testing.T) {
			want := unhex(tt.wire)
			got, err := ospfapi.MarshalMessage(tt.msg)
			if err != nil {
				t.Fatalf("MarshalMessage: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("MarshalMessage:\n got % x\nwant % x", got, want)
			}
			m, n, err := ospfapi.ParseMessage(want)
			if err != nil {
				t.Fatalf("ParseMessage: %v", err)
			}
			if n != len(want) {
				t.Errorf("ParseMessage took %d bytes, want %d", n, len(want))
			}
			if diff := cmp.Diff(tt.msg, m, cmpMsg); diff != "" {
				t.Errorf("ParseMessage (-want +got):\n%s", diff)
			}
			m2, err := ospfapi.ReadMessage(bufio.NewReader(bytes.NewReader(want)), nil)
			if err != nil {
				t.Fatalf("ReadMessage: %v", err)
			}
			if diff := cmp.Diff(tt.msg, m2, cmpMsg); diff != "" {
				t.Errorf("ReadMessage (-want +got):\n%s", diff)
			}
			m3, err := ospfapi.NewDecoder(bytes.NewReader(want)).Next()
			if err != nil {
				t.Fatalf("Decoder.Next: %v", err)
			}
			if diff := cmp.Diff(tt.msg, m3, cmpMsg); diff != "" {
				t.Errorf("Decoder.Next (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		wire   string
		eof    bool   // io.ErrUnexpectedEOF rather than a ProtocolError
		reason string // substring of the ProtocolError
	}{
		{name: "short header", wire: "01 0c 00", eof: true},
		{name: "body cut", wire: "01 0a 0004 00000001 00", eof: true},
		{name: "bad version", wire: "02 0a 0004 00000001 00000000", reason: "version 2, want 1"},
		{name: "http", wire: hex.EncodeToString([]byte("GET / HTTP/1.1\r\n")), reason: "not an OSPF API stream"},
		{name: "reply short", wire: "01 0a 0002 00000001 0000", reason: "body of 2 bytes shorter than 4"},
		{name: "notify without LSA", wire: "01 0c 000c 00000000 00000000 00000000 00000000", reason: "shorter than 32"},
		{name: "notify LSA length beyond body", wire: "01 0c 0020 00000000 00000000 00000000 00000000" +
			"0001 0201 0a000001 0a000001 80000001 1234 0030", reason: "LSA length 48 exceeds the 20 bytes"},
		{name: "notify LSA length below header", wire: "01 0c 0020 00000000 00000000 00000000 00000000" +
			"0001 0201 0a000001 0a000001 80000001 1234 0010", reason: "LSA length 16 shorter than its header"},
		{name: "filter areas beyond body", wire: "01 03 0008 00000001 ffff 02 02 00000000", reason: "filter with 2 areas"},
		{name: "reachable beyond body", wire: "01 12 0008 00000000 0002 0000 01010101", reason: "2 added and 0 removed"},
		{name: "router id short", wire: "01 14 0002 00000003 0a00", reason: "shorter than 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ospfapi.ParseMessage(unhex(tt.wire))
			check := func(what string, err error) {
				t.Helper()
				if tt.eof {
					if !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("%s: %v, want io.ErrUnexpectedEOF", what, err)
					}
					return
				}
				var pe *ospfapi.ProtocolError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: %v (%T), want *ProtocolError", what, err, err)
				}
				if !strings.Contains(pe.Error(), tt.reason) {
					t.Errorf("%s: %q does not say %q", what, pe.Error(), tt.reason)
				}
			}
			check("ParseMessage", err)
			_, err = ospfapi.ReadMessage(bytes.NewReader(unhex(tt.wire)), nil)
			check("ReadMessage", err)
			_, err = ospfapi.NewDecoder(bytes.NewReader(unhex(tt.wire))).Next()
			check("Decoder.Next", err)
		})
	}
}

func TestReadMessageEOF(t *testing.T) {
	if _, err := ospfapi.ReadMessage(bytes.NewReader(nil), nil); !errors.Is(err, io.EOF) {
		t.Errorf("ReadMessage of nothing: %v, want io.EOF", err)
	}
	if _, err := ospfapi.NewDecoder(bytes.NewReader(nil)).Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Decoder.Next of nothing: %v, want io.EOF", err)
	}
}

func TestMarshalErrors(t *testing.T) {
	areas := make([]netip.Addr, 256)
	for i := range areas {
		areas[i] = addr("0.0.0.1")
	}
	tests := []struct {
		name string
		msg  ospfapi.Message
		want string
	}{
		{"ipv6 area", &ospfapi.NewIf{IfAddr: addr("10.0.0.1"), Area: addr("::1")}, "area ::1 is not an IPv4 address"},
		{"256 areas", &ospfapi.RegisterEvent{Filter: ospfapi.LSAFilter{Areas: areas}}, "256 areas exceed"},
		{"short LSA", &ospfapi.LSANotify{LSA: []byte{1, 2, 3}}, "shorter than its 20-byte header"},
		{"sync of wrong kind", &ospfapi.SyncRequest{Kind: ospfapi.MsgReply}, "SyncRequest of type REPLY"},
		{"body too long", &ospfapi.RawMessage{Type: 99, Body: make([]byte, 70000)}, "exceeds 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("keep")
			b, err := ospfapi.AppendMessage(prefix, tt.msg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("AppendMessage: %v, want an error saying %q", err, tt.want)
			}
			if string(b) != "keep" {
				t.Errorf("AppendMessage changed b on error: %q", b)
			}
		})
	}
}

func TestDecoderStream(t *testing.T) {
	var stream []byte
	for _, tt := range golden {
		stream = append(stream, unhex(tt.wire)...)
	}
	d := ospfapi.NewDecoder(bytes.NewReader(stream))
	for _, tt := range golden {
		m, err := d.Next()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.msg, m, cmpMsg); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if _, err := d.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last message: %v, want io.EOF", err)
	}
	if d.Bytes() != int64(len(stream)) || d.Count() != int64(len(golden)) {
		t.Errorf("Bytes, Count = %d, %d, want %d, %d", d.Bytes(), d.Count(), len(stream), len(golden))
	}
}

// The hot path: decoding an LSA notification allocates nothing.
func TestDecoderNoAllocs(t *testing.T) {
	msg := unhex("01 0c 0024 00000002  00000000 00000000 01 000000" + hex.EncodeToString(testLSA))
	stream := bytes.Repeat(msg, 2000)
	r := bytes.NewReader(stream)
	d := ospfapi.NewDecoder(r)
	allocs := testing.AllocsPerRun(1000, func() {
		m, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		if n, ok := m.(*ospfapi.LSANotify); !ok || len(n.LSA) != len(testLSA) {
			t.Fatalf("got %#v", m)
		}
	})
	if allocs != 0 {
		t.Errorf("Decoder.Next allocates %v times per LSA notification, want 0", allocs)
	}
}

// chunkReader hands out one chunk per Read, waiting for its turn.
type chunkReader struct {
	chunks [][]byte
	before func(i int) // called before chunk i is returned
	i      int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.i == len(r.chunks) {
		return 0, io.EOF
	}
	r.before(r.i)
	n := copy(p, r.chunks[r.i])
	r.i++
	return n, nil
}

// An LSA notification's Arrival is when the read that brought its last
// byte returned: not when its first bytes came, nor when Next was called.
// The clock moves a second before each read and half a second before
// each call to Next, so that each of these moments has its own time.
func TestDecoderArrival(t *testing.T) {
	msg := unhex("01 0c 0024 00000002  00000000 00000000 01 000000" + hex.EncodeToString(testLSA))
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var readAt []time.Time
	r := &chunkReader{
		// message 1 whole and the first 10 bytes of message 2; the rest of
		// message 2 later, with message 3
		chunks: [][]byte{append(slices.Clip(msg), msg[:10]...), append(slices.Clip(msg[10:]), msg...)},
		before: func(int) {
			now = now.Add(time.Second)
			readAt = append(readAt, now)
		},
	}
	d := ospfapi.NewDecoderClock(r, clock)
	var got []time.Time
	for range 3 {
		now = now.Add(500 * time.Millisecond) // a slow handler must not move the next message's arrival
		m, err := d.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.(*ospfapi.LSANotify).Arrival)
	}
	if len(readAt) != 2 {
		t.Fatalf("%d reads, want 2", len(readAt))
	}
	for i, want := range []time.Time{readAt[0], readAt[1], readAt[1]} {
		if !got[i].Equal(want) {
			t.Errorf("message %d: Arrival %v, want %v (the time of the read that completed it)", i+1, got[i].Format(time.StampMilli), want.Format(time.StampMilli))
		}
	}
}

func TestAPIError(t *testing.T) {
	r := &ospfapi.Reply{Seq: 2, Code: ospfapi.CodeNoSuchArea}
	err := r.Err(ospfapi.MsgSyncLSDB)
	if !errors.Is(err, ospfapi.ErrNoSuchArea) {
		t.Errorf("errors.Is(%v, ErrNoSuchArea) = false", err)
	}
	if errors.Is(err, ospfapi.ErrNoSuchLSA) {
		t.Errorf("errors.Is(%v, ErrNoSuchLSA) = true", err)
	}
	var ae *ospfapi.APIError
	if !errors.As(err, &ae) || ae.Code != -2 || ae.Request != ospfapi.MsgSyncLSDB {
		t.Errorf("errors.As: %#v", ae)
	}
	if got, want := err.Error(), "ospfd replied NOSUCHAREA (-2) to SYNC_LSDB"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if (&ospfapi.Reply{}).Err(ospfapi.MsgSyncLSDB) != nil {
		t.Error("CodeOK is an error")
	}
	names := map[int8]string{0: "OK", -1: "NOSUCHINTERFACE", -3: "NOSUCHLSA", -4: "ILLEGALLSATYPE",
		-5: "OPAQUETYPEINUSE", -6: "OPAQUETYPENOTREGISTERED", -7: "NOTREADY", -8: "NOMEMORY",
		-9: "ERROR", -10: "UNDEF", -11: "code -11"}
	for code, want := range names {
		if got := ospfapi.CodeName(code); got != want {
			t.Errorf("CodeName(%d) = %q, want %q", code, got, want)
		}
	}
	wrapped := &ospfapi.OpError{Op: "sync lsdb", Addr: "127.0.0.1:2607", Err: err}
	if !errors.Is(wrapped, ospfapi.ErrNoSuchArea) {
		t.Error("OpError does not unwrap to the APIError")
	}
	if got, want := wrapped.Error(), "ospfapi: sync lsdb 127.0.0.1:2607: ospfd replied NOSUCHAREA (-2) to SYNC_LSDB"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestMsgTypeString(t *testing.T) {
	tests := map[ospfapi.MsgType]string{1: "REGISTER_OPAQUETYPE", 4: "SYNC_LSDB", 10: "REPLY", 12: "LSA_UPDATE_NOTIFY",
		19: "SYNC_ROUTER_ID", 20: "ROUTER_ID_CHANGE", 0: "type-0", 21: "type-21", 255: "type-255"}
	for typ, want := range tests {
		if got := typ.String(); got != want {
			t.Errorf("MsgType(%d).String() = %q, want %q", uint8(typ), got, want)
		}
	}
}

func TestTypeBit(t *testing.T) {
	tests := map[uint8]uint16{0: 0, 1: 0x0001, 2: 0x0002, 5: 0x0010, 7: 0x0040, 16: 0x8000, 17: 0}
	for typ, want := range tests {
		if got := ospfapi.TypeBit(typ); got != want {
			t.Errorf("TypeBit(%d) = %#x, want %#x", typ, got, want)
		}
	}
}
