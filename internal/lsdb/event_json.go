package lsdb

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"

	"github.com/ospf-operator/ospf-operator/internal/ospf"
)

// The JSON forms of events and state records, both ways:
//
//   - the seed's event (stream_event.schema.json): AppendJSON, ParseEvent;
//   - the envelope of /v1/stream, which carries an event with what the
//     seed's format leaves out (sequence number, area, the network's DR),
//     or a state record: AppendEnvelope, ParseEnvelope:
//
//	{"seq":7,"area":"0.0.0.0","event":{…seed event…}}
//	{"seq":8,"area":"0.0.0.0","dr":"10.0.0.1","event":{…network event…}}
//	{"seq":9,"area":"0.0.0.0","timestamp":1700000000000,"router":"10.0.0.1","state":{…RouterView…}}
//	{"seq":10,"area":"0.0.0.0","timestamp":1700000000000,"network":"10.0.0.0/24","state":null}
//	{"seq":11,"area":"0.0.0.0","timestamp":1700000000000,"router":"10.0.0.1","route":{"type":5,"prefix":"198.51.100.0/24"},"state":{…RouterView with that route…}}
//
// A decoder reads what its encoder writes and refuses anything else with an
// error that says what was wrong; it never panics (FuzzParseEnvelope).

// AppendJSON appends the event in the seed's format (stream_event.schema.json),
// byte for byte as the Python client writes it (json.dumps with its default
// separators), without a trailing newline.
func (e *Event) AppendJSON(b []byte) []byte {
	b = append(b, `{"timestamp": `...)
	b = strconv.AppendInt(b, e.Time, 10)
	b = append(b, `, "entity": {"type": "`...)
	b = append(b, e.Entity.String()...)
	b = append(b, `", "id": "`...)
	if e.Entity == EntityNetwork {
		b = e.Network.AppendTo(b)
	} else {
		b = e.Router.AppendTo(b)
	}
	if e.Added {
		b = append(b, `"}, "added": {`...)
	} else {
		b = append(b, `"}, "removed": {`...)
	}
	if e.Entity == EntityNetwork {
		b = append(b, `"router": "`...)
		b = e.Member.AppendTo(b)
		return append(b, `"}}`...)
	}
	b = append(b, `"link": {"`...)
	b = append(b, e.Link.Kind.String()...)
	b = append(b, `": `...)
	b = e.Link.appendJSON(b)
	return append(b, "}}}"...)
}

// appendJSON writes the link object ({"id": ..., "metric": ...}).
func (l *Link) appendJSON(b []byte) []byte {
	b = append(b, `{"id": "`...)
	if l.Kind == KindRouter || l.Kind == KindXRouter {
		b = addrOf(l.id).AppendTo(b)
	} else {
		b = l.ID().AppendTo(b)
	}
	if l.Type2 {
		b = append(b, `", "metric2": `...)
	} else {
		b = append(b, `", "metric": `...)
	}
	b = strconv.AppendUint(b, uint64(l.Metric), 10)
	if l.via != 0 {
		b = append(b, `, "via": "`...)
		b = addrOf(l.via).AppendTo(b)
		b = append(b, '"')
	}
	return append(b, '}')
}

// MarshalJSON implements json.Marshaler with AppendJSON.
func (e Event) MarshalJSON() ([]byte, error) { return e.AppendJSON(nil), nil }

// ParseEvent reads an event in the seed's format (stream_event.schema.json).
// The result has no Seq, Area or DR: the seed's format has none.
func ParseEvent(p []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(p, &w); err != nil {
		return Event{}, fmt.Errorf("event: %w", err)
	}
	var ev Event
	if w.Timestamp == nil {
		return ev, errors.New("event: no timestamp")
	}
	ev.Time = *w.Timestamp
	if (w.Added == nil) == (w.Removed == nil) {
		return ev, errors.New(`event: want exactly one of "added" and "removed"`)
	}
	ch := w.Added
	ev.Added = true
	if ch == nil {
		ch, ev.Added = w.Removed, false
	}
	var err error
	switch w.Entity.Type {
	case "router":
		ev.Entity = EntityRouter
		if ev.Router, err = parseAddr(w.Entity.ID); err != nil {
			return ev, fmt.Errorf("event: router id: %w", err)
		}
		if len(ch.Link) != 1 {
			return ev, fmt.Errorf("event: router %s: want one link, have %d", ev.Router, len(ch.Link))
		}
		for kind, wl := range ch.Link {
			k, ok := parseKind(kind)
			if !ok {
				return ev, fmt.Errorf("event: router %s: unknown link kind %q", ev.Router, kind)
			}
			if wl == nil {
				return ev, fmt.Errorf("event: router %s: %s link is null", ev.Router, k)
			}
			if ev.Link, err = wl.link(k); err != nil {
				return ev, fmt.Errorf("event: router %s: %w", ev.Router, err)
			}
		}
	case "network":
		ev.Entity = EntityNetwork
		if ev.Network, err = parsePrefix(w.Entity.ID); err != nil {
			return ev, fmt.Errorf("event: network id: %w", err)
		}
		if ch.Router == nil {
			return ev, fmt.Errorf("event: network %s: no router", ev.Network)
		}
		if ev.Member, err = parseAddr(*ch.Router); err != nil {
			return ev, fmt.Errorf("event: network %s: router: %w", ev.Network, err)
		}
	default:
		return ev, fmt.Errorf("event: entity type %q is neither router nor network", w.Entity.Type)
	}
	return ev, nil
}

type wireEvent struct {
	Timestamp *int64 `json:"timestamp"`
	Entity    struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"entity"`
	Added   *wireChange `json:"added"`
	Removed *wireChange `json:"removed"`
}

type wireChange struct {
	Link   map[string]*wireLink `json:"link"`
	Router *string              `json:"router"`
}

// wireLink is a link object of the seed's events and snapshots.
type wireLink struct {
	ID      string  `json:"id"`
	Metric  *uint32 `json:"metric"`
	Metric2 *uint32 `json:"metric2"`
	Via     string  `json:"via"`
}

func (w *wireLink) link(k LinkKind) (Link, error) {
	id, err := parseLinkID(k, w.ID)
	if err != nil {
		return Link{}, err
	}
	if (w.Metric == nil) == (w.Metric2 == nil) {
		return Link{}, fmt.Errorf("%s link %s: want exactly one of metric and metric2", k, w.ID)
	}
	metric, type2 := w.Metric, false
	if metric == nil {
		if !k.isRoute() {
			return Link{}, fmt.Errorf("%s link %s: metric2 on a link that is not a route", k, w.ID)
		}
		metric, type2 = w.Metric2, true
	}
	via, err := parseVia(k, w.ID, w.Via)
	if err != nil {
		return Link{}, err
	}
	return NewLink(k, id, *metric, type2, via), nil
}

func (k LinkKind) isRoute() bool { return k == KindExternal || k == KindNSSAExt }

func parseKind(name string) (LinkKind, bool) {
	for k := KindRouter; k <= KindNSSAExt; k++ {
		if k.String() == name {
			return k, true
		}
	}
	return 0, false
}

// parseLinkID reads a link's far end: a router ID for KindRouter and
// KindXRouter, a prefix for the others.
func parseLinkID(k LinkKind, s string) (netip.Prefix, error) {
	if k == KindRouter || k == KindXRouter {
		a, err := parseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%s link: id: %w", k, err)
		}
		return netip.PrefixFrom(a, 32), nil
	}
	p, err := parsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%s link: id: %w", k, err)
	}
	return p, nil
}

// parseVia reads a route's forwarding address; "" and 0.0.0.0 are none.
func parseVia(k LinkKind, id, s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	if !k.isRoute() {
		return netip.Addr{}, fmt.Errorf("%s link %s: via on a link that is not a route", k, id)
	}
	v, err := parseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s link %s: via: %w", k, id, err)
	}
	if v.IsUnspecified() {
		return netip.Addr{}, nil
	}
	return v, nil
}

// parseAddr reads a dotted quad.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%.40q is not a dotted quad", s)
	}
	return a, nil
}

// parsePrefix reads an IPv4 prefix, masked.
func parsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%.40q is not an IPv4 prefix", s)
	}
	return p.Masked(), nil
}

// AppendEnvelope appends the event or state record as /v1/stream carries
// it (see the top of this file), without a trailing newline.
func (e *Event) AppendEnvelope(b []byte) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, e.Seq, 10)
	if e.Area.IsValid() {
		b = appendField(b, "area", e.Area)
	}
	switch e.Entity {
	case EntityRouterState, EntityRouteState:
		b = append(b, `,"timestamp":`...)
		b = strconv.AppendInt(b, e.Time, 10)
		b = appendField(b, "router", e.Router)
		if e.Entity == EntityRouteState {
			b = append(b, `,"route":{"type":`...)
			b = strconv.AppendUint(b, uint64(e.RouteID.Type), 10)
			b = appendField(b, "prefix", e.RouteID.Prefix)
			b = append(b, '}')
		}
		b = append(b, `,"state":`...)
		if e.RouterState == nil {
			b = append(b, "null"...)
		} else {
			b = e.RouterState.appendJSON(b, true)
		}
		return append(b, '}')
	case EntityNetworkState:
		b = append(b, `,"timestamp":`...)
		b = strconv.AppendInt(b, e.Time, 10)
		b = appendField(b, "network", e.Network)
		b = append(b, `,"state":`...)
		if e.NetworkState == nil {
			b = append(b, "null"...)
		} else {
			b = e.NetworkState.appendJSON(b, true)
		}
		return append(b, '}')
	case EntityNetwork:
		if e.DR.IsValid() {
			b = appendField(b, "dr", e.DR)
		}
	}
	b = append(b, `,"event":`...)
	b = e.AppendJSON(b)
	return append(b, '}')
}

// appendField appends ,"name":"v" for an address or prefix.
func appendField[T interface{ AppendTo([]byte) []byte }](b []byte, name string, v T) []byte {
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":"`...)
	b = v.AppendTo(b)
	return append(b, '"')
}

type wireEnvelope struct {
	Seq       *uint64         `json:"seq"`
	Area      *string         `json:"area"`
	DR        *string         `json:"dr"`
	Timestamp *int64          `json:"timestamp"`
	Router    *string         `json:"router"`
	Network   *string         `json:"network"`
	Route     *wireRouteID    `json:"route"`
	State     json.RawMessage `json:"state"`
	Event     json.RawMessage `json:"event"`
}

type wireRouteID struct {
	Type   *uint8  `json:"type"`
	Prefix *string `json:"prefix"`
}

// ParseEnvelope reads a /v1/stream message back into the event or state
// record it carries. An envelope without an area is of the backbone.
func ParseEnvelope(p []byte) (Event, error) {
	var w wireEnvelope
	if err := json.Unmarshal(p, &w); err != nil {
		return Event{}, fmt.Errorf("envelope: %w", err)
	}
	if w.Seq == nil || *w.Seq == 0 {
		return Event{}, errors.New("envelope: no seq, or seq 0")
	}
	seq := *w.Seq
	fail := func(format string, args ...any) (Event, error) {
		return Event{}, fmt.Errorf("envelope seq %d: "+format, append([]any{seq}, args...)...)
	}
	area := netip.IPv4Unspecified()
	if w.Area != nil {
		a, err := parseAddr(*w.Area)
		if err != nil {
			return fail("area: %w", err)
		}
		area = a
	}
	kinds := 0
	for _, present := range []bool{len(w.Event) > 0, w.Router != nil, w.Network != nil} {
		if present {
			kinds++
		}
	}
	if kinds != 1 {
		return fail(`want exactly one of "event", "router" and "network"`)
	}
	if len(w.Event) > 0 {
		if w.State != nil || w.Timestamp != nil {
			return fail(`an event envelope has no "state" or "timestamp"`)
		}
		ev, err := ParseEvent(w.Event)
		if err != nil {
			return fail("%w", err)
		}
		ev.Seq, ev.Area = seq, area
		if w.DR != nil {
			if ev.Entity != EntityNetwork {
				return fail("dr on a router event")
			}
			if ev.DR, err = parseAddr(*w.DR); err != nil {
				return fail("dr: %w", err)
			}
		}
		return ev, nil
	}
	if w.DR != nil {
		return fail("dr on a state record")
	}
	if w.Timestamp == nil {
		return fail("state record without a timestamp")
	}
	if len(w.State) == 0 {
		return fail(`state record without "state"`)
	}
	ev := Event{Seq: seq, Time: *w.Timestamp, Area: area}
	null := string(w.State) == "null"
	var err error
	if w.Route != nil && w.Router == nil {
		return fail(`"route" without "router"`)
	}
	if w.Router != nil {
		ev.Entity = EntityRouterState
		if ev.Router, err = parseAddr(*w.Router); err != nil {
			return fail("router: %w", err)
		}
		if w.Route != nil {
			ev.Entity = EntityRouteState
			if w.Route.Type == nil || w.Route.Prefix == nil {
				return fail("router %s: route without type or prefix", ev.Router)
			}
			switch t := ospf.LSType(*w.Route.Type); t {
			case ospf.SummaryLSAType, ospf.ASBRSummaryLSAType, ospf.ASExternalLSAType, ospf.NSSAExternalLSAType:
				ev.RouteID.Type = t
			default:
				return fail("router %s: route of LS type %d", ev.Router, *w.Route.Type)
			}
			if ev.RouteID.Prefix, err = parsePrefix(*w.Route.Prefix); err != nil {
				return fail("router %s: route: %w", ev.Router, err)
			}
		}
		if !null {
			var wr wireRouter
			if err := json.Unmarshal(w.State, &wr); err != nil {
				return fail("router %s: %w", ev.Router, err)
			}
			rv, err := wr.view()
			if err != nil {
				return fail("%w", err)
			}
			if rv.ID != ev.Router {
				return fail("router %s: state of router %s", ev.Router, rv.ID)
			}
			ev.RouterState = &rv
		}
		return ev, nil
	}
	ev.Entity = EntityNetworkState
	if ev.Network, err = parsePrefix(*w.Network); err != nil {
		return fail("network: %w", err)
	}
	if !null {
		var wn wireNetwork
		if err := json.Unmarshal(w.State, &wn); err != nil {
			return fail("network %s: %w", ev.Network, err)
		}
		nv, err := wn.view()
		if err != nil {
			return fail("%w", err)
		}
		if nv.Prefix != ev.Network {
			return fail("network %s: state of network %s", ev.Network, nv.Prefix)
		}
		ev.NetworkState = &nv
	}
	return ev, nil
}
