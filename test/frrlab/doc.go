// Package frrlab runs a small OSPF network of real FRR routers in Linux
// network namespaces, for end-to-end tests, benchmarks and `make demo`.
//
// Up builds a fixed five-router topology (see Topology): r1-r2 and r2-r3
// point-to-point links, a broadcast LAN of r2, r3 and r4 on a Linux bridge
// with r3 as the designated router, r4 redistributing static routes, and r3
// an area border router into area 0.0.0.1 with r5 behind it, so that router,
// network, summary, ASBR-summary and AS-external LSAs all exist. r4 and r5
// tag their redistributed routes (RouteTag); unless area 0.0.0.1 is an NSSA,
// a virtual link through it joins r5 to the backbone, which makes r5 an ABR
// and sets bit V in both ends' Router-LSAs there. Each router
// runs zebra, staticd and ospfd (with the OSPF API server on TCP 2607 inside
// its namespace) as the frr user, with 1 s hello and 4 s dead intervals. Up
// returns once every adjacency is Full and every router holds the LSAs the
// topology implies.
//
// Everything a lab creates lives in its own namespaces and its own directory,
// named after Options.Prefix, so labs with different prefixes run side by
// side and Down (or Teardown by prefix, after a crash) removes all of it.
// Start wraps Up for tests: it skips when the prerequisites (root, FRR, ip)
// are missing, fails instead when CI=true, and tears the lab down in
// t.Cleanup.
//
// The package drives FRR only through its command line tools and vtysh; it
// knows nothing of the OSPF API wire format, which is internal/ospfapi's job.
package frrlab
