package ha

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultMaxClockSkew is Config.MaxClockSkew's default: NTP keeps the
// hosts of one site within a few milliseconds of each other.
const DefaultMaxClockSkew = 10 * time.Millisecond

// The published expiry of a node's lease: <prefix>/<svc>/expiry/<node>,
// a persistent key (it outlives the lease, so that the primary, or the
// next one, still reads it once the lease is gone). Its value is
// "<UnixNano, 20 digits> <lease, hex>": fixed width, so that the order
// of the values is the order of the expiries, which lets etcd compare
// them (a publication never moves the value back).
func (k keys) expiries() string       { return k.base + "/expiry/" }
func (k keys) expiry(n string) string { return k.expiries() + n }

// publishedExpiry is a node's last published lease expiry: the agent's
// conservative one (the send time of its last good renewal plus the TTL),
// in the node's wall clock.
type publishedExpiry struct {
	At    time.Time
	Lease int64
}

func expiryValue(at time.Time, lease clientv3.LeaseID) string {
	return fmt.Sprintf("%020d %x", at.UnixNano(), int64(lease))
}

func parseExpiry(v []byte) (publishedExpiry, bool) {
	ns, lease, ok := strings.Cut(string(v), " ")
	if !ok || len(ns) != 20 {
		return publishedExpiry{}, false
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil || n <= 0 {
		return publishedExpiry{}, false
	}
	l, err := strconv.ParseInt(lease, 16, 64)
	if err != nil || l == 0 {
		return publishedExpiry{}, false
	}
	return publishedExpiry{At: time.Unix(0, n), Lease: l}, true
}

// expiryOp publishes at as the expiry of lease, unless a later expiry is
// published already: a put whose answer was lost and that etcd applies
// after a later one cannot move the value back.
func (k keys) expiryOp(node string, at time.Time, lease clientv3.LeaseID) clientv3.Op {
	key, v := k.expiry(node), expiryValue(at, lease)
	put := clientv3.OpPut(key, v)
	return clientv3.OpTxn(
		[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)},
		[]clientv3.Op{put},
		[]clientv3.Op{clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "<", v)}, []clientv3.Op{put}, nil)},
	)
}

// publishExpiry records at as this node's lease expiry. Only once it
// succeeded may the agent count on at (validUntil): the published value
// is then at least the agent's own view of its expiry, which is what
// makes the primary's early grace safe (see graceStart).
func (a *Agent) publishExpiry(ctx context.Context, lease clientv3.LeaseID, at time.Time) error {
	_, err := a.cli.Txn(ctx).Then(a.k.expiryOp(a.cfg.Node, at, lease)).Commit()
	return err
}

// graceStart is when the grace of a pod owned by node under lease (now
// dead) starts: when the primary first saw the lease dead (observed), or
// earlier, at the expiry that node last published for that lease plus
// MaxClockSkew, whichever comes first.
//
// Why moving the pod at graceStart + Grace is safe: the node fences by
// validUntil - FenceMargin and its pods are stopped by validUntil (else
// it escalates: Config.Escalate); validUntil is the send time of its last
// good renewal plus the TTL, and the agent adopts a validUntil only once
// it published it, while etcd never moves the published value back
// (expiryOp): so published >= validUntil, the instant by which the node
// stopped its pods, in its clock. Read with the primary's clock, that
// instant is at most MaxClockSkew later: published + MaxClockSkew is
// after it, and Grace comes on top. The observed time is later still:
// etcd revokes a lease after its own expiry, which is after validUntil
// (etcd counts from the renewal's receipt, the agent from its send).
// The snapshot that shows the lease dead shows the last publication the
// agent counted on: that publication succeeded within 2*TTL/5 of the
// renewal's send (two calls bounded by TTL/5), so etcd applied it before
// it could revoke the lease (TTL after the renewal at the earliest).
// A node that published nothing for this lease (another lease is
// published, or none) leaves the grace at the observation, as before.
func graceStart(observed time.Time, node string, lease int64, pub map[string]publishedExpiry, skew time.Duration) (time.Time, bool) {
	pe, ok := pub[node]
	if !ok || lease == 0 || pe.Lease != lease {
		return observed, false
	}
	if s := pe.At.Add(skew); s.Before(observed) {
		return s, true
	}
	return observed, false
}

// PublishedExpiry reads the lease expiry node last published for the
// service (ok false when it published none): the agent's conservative
// expiry of that lease, which the primary counts the grace from.
func PublishedExpiry(ctx context.Context, cli *clientv3.Client, prefix, svcname, node string) (at time.Time, lease int64, ok bool, err error) {
	g, err := cli.Get(ctx, newKeys(prefix, svcname).expiry(node))
	if err != nil || len(g.Kvs) != 1 {
		return time.Time{}, 0, false, err
	}
	pe, ok := parseExpiry(g.Kvs[0].Value)
	return pe.At, pe.Lease, ok, nil
}
