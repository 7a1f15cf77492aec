package ha

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svckit/svckit/svc/cluster/ha/etcdtest"
)

func TestExpiryValue(t *testing.T) {
	t0 := time.Unix(0, 1_700_000_000_123_456_789)
	for _, tc := range []struct {
		name string
		v    string
		want publishedExpiry
		ok   bool
	}{
		{name: "round trip", v: expiryValue(t0, 0x694d9a2b1c3e4f01), want: publishedExpiry{At: t0, Lease: 0x694d9a2b1c3e4f01}, ok: true},
		{name: "empty", v: ""},
		{name: "no lease", v: "01700000000123456789"},
		{name: "lease zero", v: "01700000000123456789 0"},
		{name: "short time", v: "1700000000123456789 1f"},
		{name: "not a number", v: "0170000000012345678x 1f"},
		{name: "negative", v: "-1700000000123456789 1f"},
		{name: "bad lease", v: "01700000000123456789 zz"},
		{name: "json", v: `{"at":1,"lease":2}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseExpiry([]byte(tc.v))
			require.Equal(t, tc.ok, ok)
			if tc.ok {
				require.True(t, tc.want.At.Equal(got.At))
				require.Equal(t, tc.want.Lease, got.Lease)
			}
		})
	}
	// The values order as the expiries do, whatever the lease: etcd's
	// comparison keeps the latest.
	for _, d := range []time.Duration{time.Nanosecond, time.Millisecond, time.Second, 10 * 365 * 24 * time.Hour} {
		require.Less(t, expiryValue(t0, 0x7fffffffffffffff), expiryValue(t0.Add(d), 1), d)
	}
}

func TestGraceStart(t *testing.T) {
	obs := time.Unix(1_700_000_000, 0)
	skew := 10 * time.Millisecond
	pub := map[string]publishedExpiry{
		"spd02": {At: obs.Add(-400 * time.Millisecond), Lease: 0x2a},
		"spd03": {At: obs.Add(time.Second), Lease: 0x3a},           // revoked before its expiry (a daemon's exit)
		"spd04": {At: obs.Add(-5 * time.Millisecond), Lease: 0x4a}, // within the skew
	}
	for _, tc := range []struct {
		name  string
		node  string
		lease int64
		want  time.Time
		early bool
	}{
		{name: "published before the observation", node: "spd02", lease: 0x2a, want: obs.Add(-390 * time.Millisecond), early: true},
		{name: "another lease published", node: "spd02", lease: 0x2b, want: obs},
		{name: "initial layout", node: "spd02", lease: 0, want: obs},
		{name: "nothing published", node: "spd01", lease: 0x1a, want: obs},
		{name: "published after the observation", node: "spd03", lease: 0x3a, want: obs},
		{name: "skew reaches the observation", node: "spd04", lease: 0x4a, want: obs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, early := graceStart(obs, tc.node, tc.lease, pub, skew)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.early, early)
			require.False(t, got.After(obs), "never later than the observation")
		})
	}
}

// A publication never moves the published expiry back, and one on a
// missing key creates it.
func TestPublishExpiryMonotonic(t *testing.T) {
	ctx := context.Background()
	e, err := etcdtest.Start(ctx, t.TempDir(), 1)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: e.Endpoints(), DialTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	k := newKeys("", "svc")
	t0 := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		name  string
		at    time.Time
		lease clientv3.LeaseID
		want  publishedExpiry
	}{
		{name: "first", at: t0, lease: 0x1, want: publishedExpiry{At: t0, Lease: 0x1}},
		{name: "later", at: t0.Add(2 * time.Second), lease: 0x1, want: publishedExpiry{At: t0.Add(2 * time.Second), Lease: 0x1}},
		{name: "stale put applied late", at: t0.Add(time.Second), lease: 0x1, want: publishedExpiry{At: t0.Add(2 * time.Second), Lease: 0x1}},
		{name: "same again", at: t0.Add(2 * time.Second), lease: 0x1, want: publishedExpiry{At: t0.Add(2 * time.Second), Lease: 0x1}},
		{name: "new lease", at: t0.Add(20 * time.Second), lease: 0x2, want: publishedExpiry{At: t0.Add(20 * time.Second), Lease: 0x2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cli.Txn(ctx).Then(k.expiryOp("spd01", tc.at, tc.lease)).Commit()
			require.NoError(t, err)
			snap, err := read(ctx, cli, k)
			require.NoError(t, err)
			got := snap.expiry["spd01"]
			require.True(t, tc.want.At.Equal(got.At), "%s != %s", got.At, tc.want.At)
			require.Equal(t, tc.want.Lease, got.Lease)
		})
	}
}
