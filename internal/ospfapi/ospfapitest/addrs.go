package ospfapitest

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// assignAddrs gives each member (router ID strings, in order, repeats
// ignored) an interface address inside p.
func assignAddrs(p netip.Prefix, members []string) (map[netip.Addr]netip.Addr, error) {
	out := map[netip.Addr]netip.Addr{}
	used := map[netip.Addr]bool{}
	var rest []netip.Addr
	for _, s := range members {
		r, err := netip.ParseAddr(s)
		if err != nil || !r.Is4() {
			return nil, fmt.Errorf("router %q is not an IPv4 router ID", s)
		}
		if _, ok := out[r]; ok || slices.Contains(rest, r) {
			continue
		}
		if p.Contains(r) && usableHost(p, r) && !used[r] {
			out[r] = r
			used[r] = true
			continue
		}
		rest = append(rest, r)
	}
	next := p.Addr()
	for _, r := range rest {
		for {
			if !p.Contains(next) {
				return nil, fmt.Errorf("no free address for router %s", r)
			}
			if usableHost(p, next) && !used[next] {
				break
			}
			next = next.Next()
		}
		out[r] = next
		used[next] = true
		next = next.Next()
	}
	return out, nil
}

// usableHost reports whether a may be a host address in p: not the
// network or broadcast address of a prefix of /30 or shorter.
func usableHost(p netip.Prefix, a netip.Addr) bool {
	if p.Bits() >= 31 {
		return true
	}
	last := lastAddr(p)
	return a != p.Addr() && a != last
}

func lastAddr(p netip.Prefix) netip.Addr {
	v := u32(p.Addr()) | ^u32(maskOf(p.Bits()))
	return addrOf(v)
}

type prefixKey struct {
	key string
	p   netip.Prefix
}

func sortedPrefixKeys[V any](m map[string]V) ([]prefixKey, error) {
	out := make([]prefixKey, 0, len(m))
	for k := range m {
		p, err := parsePrefix(k)
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		out = append(out, prefixKey{key: k, p: p})
	}
	slices.SortFunc(out, func(a, b prefixKey) int {
		return cmp.Or(a.p.Addr().Compare(b.p.Addr()), cmp.Compare(a.p.Bits(), b.p.Bits()))
	})
	return out, nil
}

func sortedAddrKeys[V any](m map[string]V, what string) ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(m))
	for k := range m {
		a, err := netip.ParseAddr(k)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("%s %q is not a dotted-quad IPv4 address", what, k)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return out, nil
}

// findKey returns the key of m that parses as a.
func findKey[V any](m map[string]V, a netip.Addr) string {
	if _, ok := m[a.String()]; ok {
		return a.String()
	}
	for k := range m {
		if b, err := netip.ParseAddr(k); err == nil && b == a {
			return k
		}
	}
	return a.String()
}

// parsePrefix parses "a.b.c.d/n" or a bare address (a /32), masked.
func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 prefix", s)
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 prefix", s)
	}
	return p.Masked(), nil
}

// parseAddrOrHost parses an address or a /32 prefix.
func parseAddrOrHost(s string) (netip.Addr, error) {
	p, err := parsePrefix(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return p.Addr(), nil
}

func maskOf(bits int) netip.Addr {
	var v uint32
	if bits > 0 {
		v = ^uint32(0) << (32 - bits)
	}
	return addrOf(v)
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addrOf(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
