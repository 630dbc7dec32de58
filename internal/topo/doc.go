// Package topo answers questions about the topology of an LSDB view: the
// graph of RFC 2328 section 16.1 over all areas (Build), shortest paths
// with their equal-cost alternatives in both directions, to routers and to
// prefixes across areas and to external routes (Graph.Path), what a
// router's or link's failure changes (Graph.WhatIf), and exports for other
// tools (NetJSON NetworkGraph, Graphviz DOT, GraphML). It reads the typed
// view of package lsdb and keeps no state of its own.
//
// Its shortest paths run over one graph of all areas in which a router is
// one vertex, so they may cross from one area to another through any
// router in both, where OSPF would route inter-area traffic through the
// backbone only. On networks whose areas meet only at backbone ABRs, as
// OSPF requires, the two agree; the FRR lab's end-to-end test (two areas,
// an ABR, a virtual link, ASBRs) checks every route against ospfd's. An
// ABR's ASBR-summary becomes an edge only to an ASBR whose own Router-LSA
// the view lacks (an agent in another area).
//
// Layout places the vertices on the live page's map, once, and later only
// the new ones.
package topo
