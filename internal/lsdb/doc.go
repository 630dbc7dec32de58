// Package lsdb holds an exact copy of an OSPFv2 link-state database,
// decodes and encodes LSAs, derives the graph view (routers, networks,
// links) and diffs successive views into the seed's events; it knows
// nothing of sockets or Kubernetes.
package lsdb
