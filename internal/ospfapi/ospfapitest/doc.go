// Package ospfapitest is a fake ospfd OSPF API server over real TCP, for
// tests and benchmarks of OSPF API clients.
//
// It follows ospfd's side of the protocol: it accepts the synchronous
// connection, connects back to the client's port plus one, answers
// REGISTER_EVENT, SYNC_LSDB (the dump on the asynchronous channel with the
// request's sequence number, in ospfd's order, NSSA-LSAs left out) and
// SYNC_ROUTER_ID (ROUTER_ID_CHANGE queued after the dump) like ospfd, and
// models ospfd's output FIFOs, including FRR 8.1+'s loss of queued
// messages around a message over 1,500 bytes (OversizeFRR84).
//
// Its database comes from a snapshot-format LSDB (FromSnapshot encodes it
// into LSAs with valid checksums), optionally cloned N times into disjoint
// address space for scale (Clone); NYC loads the NYC Mesh LSDB of
// testdata/ (Fixture) and Start runs a Server for the length of a test.
// Scripted changes (Install, Change,
// SetLinkMetric, AddExternal, WithdrawExternal, Flush, PurgeMaxAge,
// Remove, RefreshAll) notify connected clients as ospfd would; DropClients,
// Stop, Restart and SendRaw make ospfd fail in the ways clients must
// survive. It does not implement opaque LSA origination, interfaces or
// neighbours.
package ospfapitest
