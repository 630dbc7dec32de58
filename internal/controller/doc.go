// Package controller is the Kubernetes side of the agent: it translates the
// LSDB (an lsdb.DB and its change feed) into OSPFRouter and OSPFNetwork
// objects, a ConfigMap holding the whole snapshot, and Kubernetes Events for
// the changes.
//
// The translation is pure (DesiredState, ShortestPaths): the same LSDB view
// and router ID always give the same objects. The Agent reconciles the
// cluster towards it, level-triggered: every run compares everything in the
// cluster with the LSDB and writes, by server-side apply, only what differs.
// What changes without a change of topology (LS age, sequence numbers,
// checksums) is never stored, so an LSA refresh writes nothing.
//
// The Runner is one agent of the DaemonSet. Every agent publishes a
// digest of its LSDB, per area, on a Lease named after its pod. One agent,
// elected through the leader Lease with client-go's leader election, runs
// the Agent and the agreement check (which reports agents whose digest
// differs from its own for longer than a grace period) in a manager of its
// own for the length of its term: it campaigns only while synced with
// ospfd, and ends its term itself, writers stopped first and the Lease
// released after, when its session with ospfd has been down too long.
// controller-runtime's own leader election is not used because it cannot
// give leadership up and take it again in the same process.
//
// It deliberately does not talk to ospfd: internal/mirror keeps the
// database in sync and says whether it is (RunnerConfig.Synced).
package controller
