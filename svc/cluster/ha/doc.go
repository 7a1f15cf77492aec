// Package ha is flex high availability on etcd: the node daemons of a
// flex service keep a lease each, elect a primary, and move the pods of a
// lost node onto the survivors, each with its disk and its routes, so
// that a pod never runs on two nodes.
//
// One Agent runs per node and per flex service, embedded in the node
// daemon (NewAgent, Agent.Run); it needs only an etcd client (NewClient:
// --etcd endpoints, TLS, auth). An embedded etcd server for one machine
// is in svc/cluster/ha/etcdtest, which this package never imports.
//
// # What the agent does
//
//   - Lease: the node keeps a lease of LeaseTTL (ha_lease_ttl, default
//     10s), renewed every TTL/5; its key nodes/<node> lives with it. A
//     daemon restarted while its lease lives takes the same lease again
//     and keeps its pods.
//   - Placement: etcd holds, for each pod, the node that owns it and the
//     lease it owns it under. A node runs a pod only while that lease is
//     its own and valid; every change is a compare-and-swap transaction.
//   - Primary: elected with etcd's election among the live nodes;
//     flex_primary is preferred (the others campaign only while it is
//     not alive, and a primary that is not flex_primary hands the role
//     back when no move is in progress).
//   - Failover: when a pod's owning lease has expired, the primary waits
//     Grace, counted from the expiry that node published (each renewal
//     puts the agent's conservative expiry in expiry/<node>) plus
//     MaxClockSkew when that is earlier than when the primary saw the
//     lease gone (etcd revokes an expired lease up to half a second
//     late). The nodes' clocks must agree within MaxClockSkew (default
//     10ms, NTP in one site): a larger skew eats into the grace. It
//     picks the live node with the fewest pods (never a rejoined node,
//     never beyond MaxPerNode; below MinNodes, flex_min_nodes,
//     nothing moves and the status says why) and records a move, at most
//     Parallel at once. The destination executes it: its start attaches
//     the disk (disk.gce detaches it from the lost instance first: the
//     cloud-level fence), points the routes, starts the rest; then one
//     transaction, conditioned on its own lease and the move unchanged,
//     records the pod as its own and deletes the move. A move whose
//     destination dies or fails is re-targeted (MaxAttempts). A primary
//     that dies leaves the moves in etcd: the destinations go on, the
//     next primary re-targets those that need it and moves the rest.
//   - Self-fencing: a node whose lease may expire within FenceMargin
//     (default 2/5 of the TTL; its view of the expiry is conservative:
//     the send time of the last successful renewal plus the TTL) stops
//     its pods, cancelling the starts in progress, and starts none until
//     a renewal. The primary moves pods only after the expiry (the
//     published one, which is this conservative one) plus Grace,
//     so a partitioned node has stopped its pods FenceMargin+Grace before
//     another node starts them. Agent.Fences reports each fence's margin.
//   - Rejoin: a node that comes back with a new lease owns nothing (its
//     pods were placed under its old lease) and takes no pod until
//     RequestRelayout, which spreads the pods over the live nodes with the
//     fewest moves, each pod stopped on its node before it starts on the
//     other.
//   - Events: every decision is an Event with its reason (lease expired,
//     moving pod09 to spd01, pod09 up on spd01 after 3.1s), logged, passed
//     to Config.OnEvent, and kept in etcd (a ring per node) for the status.
//   - Status: ReadStatus reads every node (alive or lost, lease age and
//     time left, rejoined), the primary, the pods per node and their state,
//     the moves in progress and the last events; Render draws it, and it
//     marshals to JSON (svcmgr print status --cluster).
//
// # When etcd is unreachable
//
// A node cannot tell "etcd is down for everyone" from "I am cut off from
// a healthy etcd": in the second case the others take its pods once its
// lease expires, so it must stop them in time. Every node therefore
// fences when it cannot renew, including when etcd is down for all: the
// pods stop everywhere for the outage (no data moves, nothing runs
// twice). Nothing moves either: a move needs etcd. When etcd comes back
// the leases are still there (etcd's new leader extends every lease by
// its TTL), the nodes renew them and restart their own pods in place: no
// rejoin, no move, no operator. Losing a minority of the members changes
// nothing (the leases live on).
//
// # Limits
//
// A node whose daemon is dead but whose host still runs its pods is not
// fenced by itself: the cloud-level fence (the disk detached from its
// instance by the node that takes the pod over) is what protects the
// data. Pods are started through Pods; ServicePods runs them as the
// service's actions with the pod's tag.
package ha
