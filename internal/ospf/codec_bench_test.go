package ospf_test

import (
	"net/netip"
	"strconv"
	"testing"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// benchRouterLSA is a typical router LSA: five links, no TOS, 84 bytes.
func benchRouterLSA() *ospf.RouterLSA {
	return &ospf.RouterLSA{
		Header: ospf.Header{Age: 100, Options: 0x22, Type: ospf.RouterLSAType, LSID: codecIP("10.69.7.31"),
			AdvRouter: codecIP("10.69.7.31"), SeqNum: ospf.InitialSeqNum + 100},
		Flags: ospf.RouterFlagE,
		Links: []ospf.RouterLink{
			{ID: codecIP("10.68.29.50"), Data: codecIP("10.69.7.31"), Type: ospf.LinkPointToPoint, Metric: 10},
			{ID: codecIP("10.68.73.125"), Data: codecIP("10.69.7.31"), Type: ospf.LinkPointToPoint, Metric: 30},
			{ID: codecIP("10.70.76.1"), Data: codecIP("10.70.76.31"), Type: ospf.LinkTransit, Metric: 10},
			{ID: codecIP("10.69.7.31"), Data: codecIP("255.255.255.255"), Type: ospf.LinkStub, Metric: 0},
			{ID: codecIP("10.68.7.0"), Data: codecIP("255.255.255.0"), Type: ospf.LinkStub, Metric: 10},
		},
	}
}

func benchLSAs() map[string]ospf.LSA {
	return map[string]ospf.LSA{
		"RouterLSA": benchRouterLSA(),
		"NetworkLSA": &ospf.NetworkLSA{
			Header: ospf.Header{Type: ospf.NetworkLSAType, LSID: codecIP("10.70.76.1"), AdvRouter: codecIP("10.70.76.1")},
			Mask:   codecIP("255.255.255.0"),
			Attached: []netip.Addr{codecIP("10.70.76.1"), codecIP("10.69.7.31"), codecIP("10.10.10.10"),
				codecIP("10.68.29.50")},
		},
		"SummaryLSA": &ospf.SummaryLSA{
			Header: ospf.Header{Type: ospf.SummaryLSAType, LSID: codecIP("10.2.0.0"), AdvRouter: codecIP("10.0.0.3")},
			Mask:   codecIP("255.255.0.0"), Metric: 20,
		},
		"ExternalLSA": &ospf.ExternalLSA{
			Header: ospf.Header{Type: ospf.ASExternalLSAType, LSID: codecIP("10.70.174.0"), AdvRouter: codecIP("10.68.29.50")},
			Mask:   codecIP("255.255.255.0"), Type2: true, Metric: 20, Forward: codecIP("0.0.0.0"),
		},
	}
}

func benchBytes(b *testing.B, name string) []byte {
	out, err := ospf.Marshal(benchLSAs()[name])
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func benchmarkDecode(b *testing.B, name string) {
	buf := benchBytes(b, name)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ospf.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRouterLSA(b *testing.B)   { benchmarkDecode(b, "RouterLSA") }
func BenchmarkDecodeNetworkLSA(b *testing.B)  { benchmarkDecode(b, "NetworkLSA") }
func BenchmarkDecodeSummaryLSA(b *testing.B)  { benchmarkDecode(b, "SummaryLSA") }
func BenchmarkDecodeExternalLSA(b *testing.B) { benchmarkDecode(b, "ExternalLSA") }

func BenchmarkDecodeHeader(b *testing.B) {
	buf := benchBytes(b, "RouterLSA")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ospf.DecodeHeader(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendRouterLSA(b *testing.B) {
	l := benchRouterLSA()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = ospf.AppendLSA(buf[:0], l); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkChecksum(b *testing.B) {
	for _, n := range []int{36, 100, 1500} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		b.Run(strconv.Itoa(n)+"B", func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				ospf.Checksum(buf)
			}
		})
	}
}

func BenchmarkVerifyChecksum(b *testing.B) {
	buf := make([]byte, 100)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		ospf.VerifyChecksum(buf)
	}
}

// TestValidateAllocatesNothing: the database validates every update with
// Validate because it allocates nothing for a valid LSA.
func TestValidateAllocatesNothing(t *testing.T) {
	for name, l := range benchLSAs() {
		buf, err := ospf.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() {
			if _, err := ospf.Validate(buf); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("Validate of a %s: %v allocations, want 0", name, n)
		}
	}
}
