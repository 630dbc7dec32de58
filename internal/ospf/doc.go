// Package ospf is the wire format of OSPFv2 LSAs (RFC 2328 appendix A.4,
// RFC 3101 for NSSA): their types and header, Decode and Marshal, the
// Fletcher checksum, Validate (the allocation-free check the database runs
// on every update) and Compare (which of two instances is newer, RFC 2328
// 13.1). It knows nothing of the database built from them (package lsdb),
// of FRR's API (package ospfapi) or of Kubernetes; the fake ospfd and the
// tests build LSAs with it.
package ospf
