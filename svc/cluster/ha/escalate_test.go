package ha_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/cluster/ha"
	"github.com/svckit/svckit/svc/cluster/ha/etcdtest"
	"github.com/svckit/svckit/svc/cluster/ha/hatest"
)

// A fence that cannot stop a pod before the lease can expire escalates
// (the daemon maps it to monitor_action), naming the pod.
func TestFenceEscalates(t *testing.T) {
	ctx := context.Background()
	e, err := etcdtest.Start(ctx, t.TempDir(), 1)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	p, err := etcdtest.NewProxy(e.Endpoints()[0])
	require.NoError(t, err)
	t.Cleanup(p.Close)
	cli, err := ha.NewClient(ha.ClientOptions{Endpoints: []string{p.URL()}, LeaseTTL: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	pods := &hatest.Pods{Hang: map[string]bool{"pod02": true}, Release: make(chan struct{})}
	escalated := make(chan string, 1)
	a, err := ha.NewAgent(ha.Config{Service: "svc1", Node: "n1", Nodes: []string{"n1"}, Layout: map[string]string{"pod01": "n1", "pod02": "n1"},
		LeaseTTL: 2 * time.Second, Escalate: func(reason string) { escalated <- reason }}, cli, pods)
	require.NoError(t, err)
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Run(actx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for range 200 {
		if len(a.Local()) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, []string{"pod01", "pod02"}, a.Local())

	p.Cut()
	var reason string
	select {
	case reason = <-escalated:
	case <-time.After(10 * time.Second):
		t.Fatal("no escalation")
	}
	close(pods.Release)
	require.Contains(t, reason, "self-fence of n1 failed: pod02 still up")
	require.NotContains(t, reason, "pod01")
	fences := a.Fences()
	require.NotEmpty(t, fences)
	require.Equal(t, 2, fences[0].Pods)
	require.True(t, a.Fenced())
}
