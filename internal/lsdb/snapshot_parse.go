package lsdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
)

// ParseSnapshot reads a snapshot in the seed's format, keeping the order
// of its keys (see Snapshot), so that AppendJSON writes a snapshot the
// seed wrote back byte for byte.
//
// "updated" is read in the seed's integer milliseconds and in the float
// seconds of the files this project wrote before it used the seed's
// bytes: a number below 1e11 (a date in 1973 in milliseconds, in the
// year 5138 in seconds) is seconds. It may be missing (BIRD-derived files
// such as the NYC Mesh one have none). Indented and one-line documents
// read the same. Keys that the format does not have are ignored; a key
// that appears twice takes the place of its first appearance and the
// value of its last, as Python's json.loads does.
func ParseSnapshot(data []byte) (*Snapshot, error) {
	if !json.Valid(data) {
		var x any
		err := json.Unmarshal(data, &x)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, fmt.Errorf("parse snapshot: %w", err)
	}
	p := scanner{b: data}
	s, err := p.snapshot()
	if err != nil {
		return nil, fmt.Errorf("parse snapshot: %w", err)
	}
	return s, nil
}

// scanner walks a document that json.Valid accepted, so it checks types,
// never syntax.
type scanner struct {
	b []byte
	i int
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *scanner) peek() byte {
	p.ws()
	return p.b[p.i]
}

// null consumes a null.
func (p *scanner) null() bool {
	if p.peek() == 'n' {
		p.i += 4
		return true
	}
	return false
}

// kind names the JSON type of the value ahead, for errors.
func (p *scanner) kind() string {
	switch p.peek() {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// object calls f with each key of the object ahead; f consumes the value.
func (p *scanner) object(f func(k string) error) error {
	if p.peek() != '{' {
		return fmt.Errorf("want an object, have %s", p.kind())
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		k := p.rawString()
		p.ws()
		p.i++ // ':'
		if err := f(k); err != nil {
			return err
		}
		p.ws()
		c := p.b[p.i]
		p.i++
		if c == '}' {
			return nil
		}
	}
}

// array calls f with the index of each element of the array ahead; f
// consumes the element.
func (p *scanner) array(f func(i int) error) error {
	if p.peek() != '[' {
		return fmt.Errorf("want an array, have %s", p.kind())
	}
	p.i++
	if p.peek() == ']' {
		p.i++
		return nil
	}
	for i := 0; ; i++ {
		if err := f(i); err != nil {
			return err
		}
		p.ws()
		c := p.b[p.i]
		p.i++
		if c == ']' {
			return nil
		}
	}
}

// rawString reads the string ahead.
func (p *scanner) rawString() string {
	p.ws()
	start := p.i + 1
	j, esc := start, false
	for p.b[j] != '"' {
		if p.b[j] == '\\' {
			esc = true
			j++
		}
		j++
	}
	p.i = j + 1
	if !esc {
		return string(p.b[start:j])
	}
	var s string
	_ = json.Unmarshal(p.b[start-1:j+1], &s) // valid: json.Valid said so
	return s
}

// str reads a string or null ("").
func (p *scanner) str() (string, error) {
	if p.null() {
		return "", nil
	}
	if p.peek() != '"' {
		return "", fmt.Errorf("want a string, have %s", p.kind())
	}
	return p.rawString(), nil
}

// number reads the number ahead as written.
func (p *scanner) number() ([]byte, error) {
	if c := p.peek(); c != '-' && (c < '0' || c > '9') {
		return nil, fmt.Errorf("want a number, have %s", p.kind())
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			p.i++
			continue
		}
		break
	}
	return p.b[start:p.i], nil
}

// uint32 reads a metric: a whole number from 0 to 2^32-1, or null (0).
func (p *scanner) uint32() (uint32, error) {
	if p.null() {
		return 0, nil
	}
	n, err := p.number()
	if err != nil {
		return 0, err
	}
	var v uint64
	for _, c := range n {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%s is not a whole number from 0 to %d", n, uint32(math.MaxUint32))
		}
		v = v*10 + uint64(c-'0')
		if v > math.MaxUint32 {
			return 0, fmt.Errorf("%s is not a whole number from 0 to %d", n, uint32(math.MaxUint32))
		}
	}
	return uint32(v), nil
}

// optUint32 reads a metric that may be missing: null is none.
func (p *scanner) optUint32() (*uint32, error) {
	if p.null() {
		return nil, nil
	}
	v, err := p.uint32()
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// skip consumes the value ahead, whatever it is.
func (p *scanner) skip() {
	switch p.peek() {
	case '{':
		_ = p.object(func(string) error { p.skip(); return nil })
	case '[':
		_ = p.array(func(int) error { p.skip(); return nil })
	case '"':
		p.rawString()
	case 't', 'n':
		p.i += 4
	case 'f':
		p.i += 5
	default:
		_, _ = p.number()
	}
}

// noteKey notes k in order unless it is a repeat.
func noteKey[V any](m map[string]V, order *[]string, k string) {
	if _, ok := m[k]; !ok {
		*order = append(*order, k)
	}
}

func (p *scanner) snapshot() (*Snapshot, error) {
	s := &Snapshot{}
	hasAreas := false
	err := p.object(func(k string) error {
		switch k {
		case "areas":
			if p.null() {
				s.Areas, hasAreas = nil, false
				return nil
			}
			hasAreas = true
			s.Areas = map[string]*AreaSnapshot{}
			s.areaOrder = s.areaOrder[:0]
			return p.object(func(aid string) error {
				if _, err := netip.ParseAddr(aid); err != nil {
					return fmt.Errorf("area %q: %w", aid, err)
				}
				if p.null() {
					return fmt.Errorf("area %s is null", aid)
				}
				a, err := p.area()
				if err != nil {
					return fmt.Errorf("area %s: %w", aid, err)
				}
				noteKey(s.Areas, &s.areaOrder, aid)
				s.Areas[aid] = a
				return nil
			})
		case "updated":
			ms, err := p.updated()
			if err != nil {
				return fmt.Errorf("updated: %w", err)
			}
			s.Updated = ms
			return nil
		}
		p.skip()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !hasAreas {
		return nil, errors.New(`no "areas"`)
	}
	return s, nil
}

// updated reads "updated": integer milliseconds (the seed's) or float
// seconds (this project's files before), told apart by size.
func (p *scanner) updated() (int64, error) {
	if p.null() {
		return 0, nil
	}
	n, err := p.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return 0, err
	}
	switch {
	case v < 0 || math.IsInf(v, 0):
		return 0, fmt.Errorf("%s is not a time", n)
	case v >= 1e11: // milliseconds
		if ms, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return ms, nil
		}
		if v >= math.MaxInt64 {
			return 0, fmt.Errorf("%s is not a time", n)
		}
		return int64(math.Round(v)), nil
	}
	return int64(math.Round(v * 1000)), nil
}

func (p *scanner) area() (*AreaSnapshot, error) {
	a := &AreaSnapshot{Routers: map[string]*RouterSnapshot{}, Networks: map[string]*NetworkSnapshot{}}
	err := p.object(func(k string) error {
		switch k {
		case "routers":
			return keyed(p, a.Routers, &a.routerOrder, "router", p.router)
		case "networks":
			return keyed(p, a.Networks, &a.networkOrder, "network", p.network)
		}
		p.skip()
		return nil
	})
	return a, err
}

// keyed reads an object of what read reads, or null (none), into m and
// order in place of what they held; what names an entry in errors.
func keyed[V any](p *scanner, m map[string]V, order *[]string, what string, read func() (V, error)) error {
	clear(m)
	*order = (*order)[:0]
	if p.null() {
		return nil
	}
	return p.object(func(k string) error {
		v, err := read()
		if err != nil {
			return fmt.Errorf("%s %s: %w", what, k, err)
		}
		noteKey(m, order, k)
		m[k] = v
		return nil
	})
}

func (p *scanner) router() (*RouterSnapshot, error) {
	if p.null() {
		return nil, nil
	}
	r := &RouterSnapshot{}
	err := p.object(func(k string) error {
		if k != "links" {
			p.skip()
			return nil
		}
		r.Links = Links{}
		if p.null() {
			return nil
		}
		L := &r.Links
		return p.object(func(kind string) error {
			k, ok := parseKind(kind)
			if !ok {
				p.skip()
				return nil
			}
			var err error
			switch k {
			case KindRouter:
				L.Router, err = p.links()
			case KindNetwork:
				L.Network, err = p.links()
			case KindStubnet:
				L.Stubnet, err = p.links()
			case KindXNetwork:
				L.XNetwork, err = p.links()
			case KindXRouter:
				L.XRouter, err = p.links()
			case KindExternal:
				L.External, err = p.externals()
			case KindNSSAExt:
				L.NSSAExt, err = p.externals()
			}
			if err != nil {
				return fmt.Errorf("links: %s: %w", kind, err)
			}
			L.kinds.add(k)
			return nil
		})
	})
	return r, err
}

// records reads an array of objects, or null (none); null elements stay
// zero, and field reads the value of key k into its element.
func records[T any](p *scanner, field func(e *T, k string) error) ([]T, error) {
	if p.null() {
		return nil, nil
	}
	var out []T
	err := p.array(func(i int) error {
		var zero T
		out = append(out, zero)
		e := &out[len(out)-1]
		if p.null() {
			return nil
		}
		err := p.object(func(k string) error {
			if err := field(e, k); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("%d: %w", i, err)
		}
		return nil
	})
	return out, err
}

func (p *scanner) links() ([]SnapshotLink, error) {
	return records(p, func(l *SnapshotLink, k string) (err error) {
		switch k {
		case "id":
			l.ID, err = p.str()
		case "metric":
			l.Metric, err = p.uint32()
		default:
			p.skip()
		}
		return err
	})
}

func (p *scanner) externals() ([]SnapshotExternal, error) {
	return records(p, func(x *SnapshotExternal, k string) (err error) {
		switch k {
		case "id":
			x.ID, err = p.str()
		case "via":
			x.Via, err = p.str()
		case "metric":
			x.Metric, err = p.optUint32()
		case "metric2":
			x.Metric2, err = p.optUint32()
		default:
			p.skip()
		}
		return err
	})
}

func (p *scanner) network() (*NetworkSnapshot, error) {
	if p.null() {
		return nil, nil
	}
	n := &NetworkSnapshot{}
	err := p.object(func(k string) error {
		switch k {
		case "dr":
			dr, err := p.str()
			if err != nil {
				return fmt.Errorf("dr: %w", err)
			}
			n.DR = dr
			return nil
		case "routers":
			n.Routers = nil
			if p.null() {
				return nil
			}
			return p.array(func(i int) error {
				r, err := p.str()
				if err != nil {
					return fmt.Errorf("routers: %d: %w", i, err)
				}
				n.Routers = append(n.Routers, r)
				return nil
			})
		}
		p.skip()
		return nil
	})
	return n, err
}
