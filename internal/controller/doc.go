// Package controller is the Kubernetes side of the agent: it translates the
// LSDB (an lsdb.DB and its change feed) into OSPFRouter and OSPFNetwork
// objects, a ConfigMap holding the whole snapshot, and Kubernetes Events for
// the changes.
//
// The translation is pure (DesiredState, ShortestPaths): the same snapshot
// and router ID always give the same objects. The Agent reconciles the
// cluster towards it, level-triggered: every run compares everything in the
// cluster with the LSDB and writes, by server-side apply, only what differs.
// What changes without a change of topology (LS age, sequence numbers,
// checksums) is never stored, so an LSA refresh writes nothing.
//
// It deliberately does not elect a leader, talk to ospfd or compare agents:
// the manager's leader election gates every writer here (they all need
// leader election), internal/mirror keeps the database in sync.
package controller
