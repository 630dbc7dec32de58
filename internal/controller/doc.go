// Package controller is the Kubernetes side of the agent: it translates the
// LSDB (an lsdb.DB and its change feed) into OSPFRouter and OSPFNetwork
// objects, a ConfigMap holding the whole snapshot, and Kubernetes Events for
// the changes.
//
// The translation is pure (DesiredState, ShortestPaths): the same LSDB view
// and router ID always give the same objects. Every object the agent
// writes has a controller-runtime reconciler, level-triggered: it compares
// the object in the cluster with the LSDB and writes, by server-side apply,
// only what differs. OSPFRouter and OSPFNetwork objects are one request per
// name in their controller's workqueue, so a failed write retries only its
// object and Options.Concurrency objects are written in parallel; the
// snapshot ConfigMap and the agent's own Lease are one request each. The
// LSDB enters them as sources that follow its change feed (paced: the
// ConfigMap at most every SnapshotInterval, the Lease every agreement
// Interval), the objects as watches, so that an object deleted or edited by
// hand is repaired within seconds. What changes without a change of
// topology (LS age, sequence numbers, checksums) is never stored, so an LSA
// refresh writes nothing. The Kubernetes Events of LSDB changes come from
// a runnable that follows the change feed, not from the reconcilers;
// nothing writes to the API server from a goroutine of its own.
//
// The Runner is one agent of the DaemonSet. Every agent publishes a
// digest of its LSDB, per area, on a Lease named after its pod. One agent,
// elected through the leader Lease, runs the Agent and the agreement check
// (a reconciler per agent Lease, which reports agents whose digest differs
// from its own for longer than a grace period, coming back with
// RequeueAfter when it ends) in a controller-runtime manager of its own,
// one per term, with the manager's leader election and
// LeaderElectionReleaseOnCancel: it campaigns only while synced with
// ospfd, and ends its term itself, writers stopped first and the Lease
// released after (the manager's stop order), when its session with ospfd
// has been down too long. A manager cannot be started twice, hence one per
// term; they share the process's rest.Config.
//
// It deliberately does not talk to ospfd: internal/mirror keeps the
// database in sync and says whether it is (RunnerConfig.Synced).
package controller
