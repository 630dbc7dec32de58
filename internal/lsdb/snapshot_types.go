package lsdb

// Snapshot is the whole LSDB as a graph, in the seed's format
// (db_snapshot.schema.json: BIRD's `show ospf state`, parsed).
// Map keys are dotted-quad area IDs, router IDs and prefixes; MarshalJSON
// writes them in numeric order so that output is deterministic.
type Snapshot struct {
	Areas map[string]*AreaSnapshot `json:"areas"`
	// Updated is the time of the snapshot in seconds since the epoch.
	Updated float64 `json:"updated"`

	areaOrder []string // Areas' keys in order, as DB.Snapshot made them
}

// AreaSnapshot is one area of a snapshot.
type AreaSnapshot struct {
	Routers  map[string]*RouterSnapshot  `json:"routers"`
	Networks map[string]*NetworkSnapshot `json:"networks"`

	// Routers' and Networks' keys in order, as DB.Snapshot made them:
	// writing uses them, rather than parsing and sorting every key, for
	// as long as they are still the maps' keys.
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
