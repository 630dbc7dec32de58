package lsdb

// Snapshot is the whole LSDB as a graph, in the seed's format
// (db_snapshot.schema.json: BIRD's `show ospf state`, parsed).
// Map keys are dotted-quad area IDs, router IDs and prefixes.
//
// A snapshot remembers the order of its keys: a snapshot taken from a
// view (View.Snapshot) is in the order the seed's snapshot has for the
// same LSDB (see View), and one parsed (ParseSnapshot) is in the order of
// its document, so that writing it back gives the same bytes. Keys added
// to its maps afterwards are written after those, in numeric order; keys
// of a snapshot built by hand, in numeric order.
type Snapshot struct {
	Areas map[string]*AreaSnapshot `json:"areas"`
	// Updated is the time of the snapshot in milliseconds since the epoch,
	// as the seed writes it.
	Updated int64 `json:"updated"`

	areaOrder []string // Areas' keys in order
}

// AreaSnapshot is one area of a snapshot.
type AreaSnapshot struct {
	Routers  map[string]*RouterSnapshot  `json:"routers"`
	Networks map[string]*NetworkSnapshot `json:"networks"`

	// Routers' and Networks' keys in the order they are written in.
	routerOrder, networkOrder []string
}

// RouterSnapshot is one router of an area.
type RouterSnapshot struct {
	Links Links `json:"links"`
}

// Links are a router's links by kind. A kind with no links is omitted. The
// last three kinds exist only in multi-area and NSSA networks; they are named
// as BIRD's `show ospf state` names them.
type Links struct {
	Router   []SnapshotLink     `json:"router,omitempty"`
	Network  []SnapshotLink     `json:"network,omitempty"`
	Stubnet  []SnapshotLink     `json:"stubnet,omitempty"`
	External []SnapshotExternal `json:"external,omitempty"`
	XNetwork []SnapshotLink     `json:"xnetwork,omitempty"` // type 3 summary-LSAs this ABR originates into the area
	XRouter  []SnapshotLink     `json:"xrouter,omitempty"`  // type 4 ASBR-summary-LSAs
	NSSAExt  []SnapshotExternal `json:"nssa-ext,omitempty"` // type 7 NSSA-LSAs

	// kinds is the order the kinds are written in, as the seed's
	// snapshot or the parsed document has it; kinds not in it (all of
	// them when it is empty) follow in the order of the fields above.
	kinds kindOrder
}

// kindOrder is a sequence of distinct link kinds, 0-terminated.
type kindOrder [7]LinkKind

// add appends k unless it is there already.
func (o *kindOrder) add(k LinkKind) {
	for i, x := range o {
		if x == k {
			return
		}
		if x == 0 {
			o[i] = k
			return
		}
	}
}

// SnapshotLink is a router, network, stubnet, xnetwork or xrouter link. ID is a
// router ID or a prefix.
type SnapshotLink struct {
	ID     string `json:"id"`
	Metric uint32 `json:"metric"`
}

// SnapshotExternal is an AS-external or NSSA route: exactly one of Metric (type 1)
// and Metric2 (type 2) is set; Via is the forwarding address when not 0.0.0.0.
type SnapshotExternal struct {
	ID      string  `json:"id"`
	Metric  *uint32 `json:"metric,omitempty"`
	Metric2 *uint32 `json:"metric2,omitempty"`
	Via     string  `json:"via,omitempty"`
}

// NetworkSnapshot is a transit network: DR is the router ID of its
// designated router; Routers are the attached routers in LSA order.
type NetworkSnapshot struct {
	DR      string   `json:"dr"`
	Routers []string `json:"routers"`
}
