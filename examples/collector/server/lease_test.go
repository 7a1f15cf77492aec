package server_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/examples/collector/server"
)

// A node that dequeues and dies: past the lease the action is back in
// the queue, claimed again with the next claim number; the dead claim's
// late report is refused; after MaxAttempts claims it expires. A node
// that reports in time, or renews its lease, keeps it.
func TestActionLease(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		clk := newClock()
		e := newEnv(t, open, server.Options{Now: clk.Now, ActionLease: time.Minute, MaxAttempts: 2, NotifyPort: -1})
		uuid := e.register("spd01")
		var q actionAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions", adminUser, adminPass, map[string]any{"nodename": "spd01", "argv": []string{"nodemgr", "pushasset"}}, &q))
		id := strconv.FormatInt(q.Data.ID, 10)
		dequeue := func() []server.Action {
			var ans actionsAnswer
			require.Equal(t, http.StatusOK, e.call("POST", "/actions/dequeue", "spd01", uuid, nil, &ans))
			return ans.Data
		}
		report := func(attempt int64) int {
			return e.call("POST", "/actions/"+id+"/result", "spd01", uuid, map[string]any{"status": "done", "exit_code": 0, "output": "ok", "attempt": attempt}, nil)
		}
		status := func() server.Action {
			var a actionAnswer
			require.Equal(t, http.StatusOK, e.call("GET", "/actions/"+id, adminUser, adminPass, nil, &a))
			return a.Data
		}

		got := dequeue()
		require.Len(t, got, 1)
		require.Equal(t, int64(1), got[0].Attempt)
		require.Equal(t, clk.Now().Add(time.Minute).Format(time.RFC3339Nano), got[0].LeaseUntil)
		clk.Add(59 * time.Second)
		require.Empty(t, dequeue(), "within the lease nobody else claims it")

		// The claimer dies; the lease runs out; the next dequeue claims
		// it again.
		clk.Add(2 * time.Second)
		got = dequeue()
		require.Len(t, got, 1)
		require.Equal(t, int64(2), got[0].Attempt)
		require.Equal(t, http.StatusConflict, report(1), "the dead claim's late report")

		// Claim 2 renews before its lease runs out, and keeps it.
		clk.Add(50 * time.Second)
		require.Equal(t, http.StatusConflict, e.call("POST", "/actions/"+id+"/lease", "spd01", uuid, map[string]any{"attempt": 1}, nil))
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/"+id+"/lease", "spd01", uuid, map[string]any{"attempt": 2}, nil))
		clk.Add(50 * time.Second)
		require.Empty(t, dequeue(), "renewed: still claim 2's")
		require.Equal(t, server.StatusRunning, status().Status)

		// Claim 2 dies too: MaxAttempts is 2, the action expires.
		clk.Add(2 * time.Minute)
		require.Empty(t, dequeue())
		a := status()
		require.Equal(t, server.StatusExpired, a.Status)
		require.Contains(t, a.Reason, "claimed 2 times")
		require.Equal(t, http.StatusConflict, report(2), "an expired action takes no report")

		// Another action, reported in time by its claim: done.
		require.Equal(t, http.StatusOK, e.call("POST", "/actions", adminUser, adminPass, map[string]any{"nodename": "spd01", "argv": []string{"nodemgr", "pushpkg"}}, &q))
		id = strconv.FormatInt(q.Data.ID, 10)
		got = dequeue()
		require.Len(t, got, 1)
		require.Equal(t, http.StatusOK, report(got[0].Attempt))
		a = status()
		require.Equal(t, server.StatusDone, a.Status)
		require.Empty(t, a.LeaseUntil)
		clk.Add(time.Hour)
		require.Empty(t, dequeue(), "a reported action never returns")
		require.Equal(t, server.StatusDone, status().Status)
	})
}

// The sweeper returns a dead claim's action to the queue and tells the
// node, without waiting for the node's next dequeue.
func TestLeaseSweep(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		clk := newClock()
		e := newEnv(t, open, server.Options{Now: clk.Now, ActionLease: time.Minute})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		require.NoError(t, ln.(*net.TCPListener).SetDeadline(time.Now().Add(20*time.Second)))
		accept := func() {
			c, err := ln.Accept()
			require.NoError(t, err)
			c.Close()
		}
		uuid := e.registerAt("spd01", ln.Addr().String())
		var q actionAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions", adminUser, adminPass, map[string]any{"nodename": "spd01", "argv": []string{"nodemgr", "pushasset"}}, &q))
		accept()
		var got actionsAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/dequeue", "spd01", uuid, nil, &got))
		require.Len(t, got.Data, 1)

		ctx := context.Background()
		notified, err := e.coll.SweepLeases(ctx)
		require.NoError(t, err)
		require.Empty(t, notified, "the lease holds")
		clk.Add(61 * time.Second)
		notified, err = e.coll.SweepLeases(ctx)
		require.NoError(t, err)
		require.Equal(t, []string{"spd01"}, notified)
		accept()
		e.coll.WaitNotify()
		a, err := e.db.Action(ctx, q.Data.ID, "")
		require.NoError(t, err)
		require.Equal(t, server.StatusQueued, a.Status)
		require.Equal(t, int64(1), a.Attempt)
	})
}
