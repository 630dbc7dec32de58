// Package schemavalidate checks snapshots and stream events against the
// published JSON Schemas of package api/schema, so that tests can assert that
// every document ospf-operator produces keeps to the output contract.
//
// Two variants exist. The seed variant is the published schemas unchanged:
// what a single-area LSDB must satisfy. The multi-area variant additionally
// allows the link kinds of summary and NSSA LSAs, named as BIRD's
// `show ospf state` names them: xnetwork (a Summary-LSA, id a prefix, with a
// metric), xrouter (an ASBR-Summary-LSA, id a router, with a metric) and
// nssa-ext (shaped like external). It is derived from the seed schemas when
// compiled rather than kept as a second copy, so the two cannot drift apart.
//
// The package is test support: it validates, it does not produce or repair
// documents.
package schemavalidate
