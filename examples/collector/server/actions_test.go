package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/examples/collector/server"
)

type actionAnswer struct {
	Data server.Action `json:"data"`
}

type actionsAnswer struct {
	Data []server.Action `json:"data"`
}

// registerAt registers node with the address the collector notifies it
// at, and returns its uuid.
func (e *env) registerAt(node, addr string) string {
	e.t.Helper()
	var ans struct {
		Data struct {
			UUID string `json:"uuid"`
		} `json:"data"`
	}
	require.Equal(e.t, http.StatusOK, e.call("POST", "/register", adminUser, adminPass, map[string]string{"nodename": node, "notify_addr": addr}, &ans))
	return ans.Data.UUID
}

// The queue end to end over HTTP: a user enqueues, the node is notified
// by a bare connection, it dequeues its own action once, reports; the
// other node sees and touches none of it.
func TestActionQueue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		uuidA := e.registerAt("spd01", ln.Addr().String())
		uuidB := e.register("spd02")

		var q actionAnswer
		argv := []string{"svcmgr", "-s", "spdsvc01", "start"}
		require.Equal(t, http.StatusOK, e.call("POST", "/actions", adminUser, adminPass, map[string]any{"nodename": "spd01", "argv": argv}, &q))
		require.Equal(t, server.StatusQueued, q.Data.Status)
		require.Equal(t, adminUser, q.Data.CreatedBy)

		// The notification: a connection that carries nothing.
		require.NoError(t, ln.(*net.TCPListener).SetDeadline(time.Now().Add(10*time.Second)))
		c, err := ln.Accept()
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		got, err := io.ReadAll(c)
		require.NoError(t, err)
		require.Empty(t, got, "the connection carries no command")
		c.Close()

		// Node B: an empty queue, and A's action is not found for it.
		var dq actionsAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/dequeue", "spd02", uuidB, nil, &dq))
		require.Empty(t, dq.Data)
		id := strconv.FormatInt(q.Data.ID, 10)
		require.Equal(t, http.StatusNotFound, e.call("GET", "/actions/"+id, "spd02", uuidB, nil, nil))
		require.Equal(t, http.StatusForbidden, e.call("GET", "/actions?node=spd01", "spd02", uuidB, nil, nil))

		// Node A claims it once.
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/dequeue", "spd01", uuidA, nil, &dq))
		require.Len(t, dq.Data, 1)
		require.Equal(t, argv, dq.Data[0].Argv)
		require.Equal(t, server.StatusRunning, dq.Data[0].Status)
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/dequeue", "spd01", uuidA, nil, &dq))
		require.Empty(t, dq.Data, "a claimed action is not handed out twice")

		// B cannot report A's action; A reports, once; secrets masked.
		res := map[string]any{"status": "done", "exit_code": 0, "output": "started\ndb_password=hunter22\n"}
		require.Equal(t, http.StatusNotFound, e.call("POST", "/actions/"+id+"/result", "spd02", uuidB, res, nil))
		require.Equal(t, http.StatusForbidden, e.call("POST", "/actions/"+id+"/result", adminUser, adminPass, res, nil))
		var done actionAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/"+id+"/result", "spd01", uuidA, res, &done))
		require.Equal(t, server.StatusDone, done.Data.Status)
		require.NotNil(t, done.Data.ExitCode)
		require.Equal(t, int64(0), *done.Data.ExitCode)
		require.NotContains(t, done.Data.Output, "hunter22")
		require.Contains(t, done.Data.Output, "started")
		require.Equal(t, http.StatusConflict, e.call("POST", "/actions/"+id+"/result", "spd01", uuidA, res, nil))

		var list actionsAnswer
		require.Equal(t, http.StatusOK, e.call("GET", "/actions?node=spd01", adminUser, adminPass, nil, &list))
		require.Len(t, list.Data, 1)
		require.Equal(t, server.StatusDone, list.Data[0].Status)
		require.Equal(t, http.StatusOK, e.call("GET", "/actions", "spd02", uuidB, nil, &list))
		require.Empty(t, list.Data)
	})
}

// What the queue refuses: nodes enqueueing, users dequeueing, unknown
// nodes, unbounded or empty commands, bad reports.
func TestActionQueueHostile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{NotifyPort: -1})
		uuidA := e.register("spd01")
		ok := map[string]any{"nodename": "spd01", "argv": []string{"nodemgr", "pushasset"}}
		require.Equal(t, http.StatusForbidden, e.call("POST", "/actions", "spd01", uuidA, ok, nil), "a node does not enqueue")
		require.Equal(t, http.StatusUnauthorized, e.call("POST", "/actions", "", "", ok, nil))
		require.Equal(t, http.StatusForbidden, e.call("POST", "/actions/dequeue", adminUser, adminPass, nil, nil), "only a node dequeues")
		for name, body := range map[string]map[string]any{
			"unknown node": {"nodename": "nosuchnode", "argv": []string{"x"}},
			"bad node":     {"nodename": "../etc", "argv": []string{"x"}},
			"no argv":      {"nodename": "spd01"},
			"huge argv":    {"nodename": "spd01", "argv": make([]string, server.MaxActionArgs+1)},
			"huge word":    {"nodename": "spd01", "argv": []string{strings.Repeat("a", server.MaxActionArg+1)}},
			"NUL":          {"nodename": "spd01", "argv": []string{"svcmgr\x00rm"}},
			"not a node":   {"nodename": "spd01", "svc_name": "spdsvc01", "argv": []string{"svcmgr", "-s", "spdsvc01", "start"}},
			"bad svc":      {"nodename": "spd01", "svc_name": "a b", "argv": []string{"x"}},
		} {
			code := e.call("POST", "/actions", adminUser, adminPass, body, nil)
			require.Contains(t, []int{http.StatusBadRequest, http.StatusNotFound}, code, name)
		}
		var q actionAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions", adminUser, adminPass, ok, &q))
		id := strconv.FormatInt(q.Data.ID, 10)
		res := map[string]any{"status": "done", "exit_code": 0}
		require.Equal(t, http.StatusConflict, e.call("POST", "/actions/"+id+"/result", "spd01", uuidA, res, nil), "report before dequeue")
		var dq actionsAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/dequeue", "spd01", uuidA, nil, &dq))
		require.Len(t, dq.Data, 1)
		require.Equal(t, http.StatusBadRequest, e.call("POST", "/actions/"+id+"/result", "spd01", uuidA, map[string]any{"status": "done"}, nil), "no exit code")
		require.Equal(t, http.StatusBadRequest, e.call("POST", "/actions/"+id+"/result", "spd01", uuidA, map[string]any{"status": "queued", "exit_code": 0}, nil))
		require.Equal(t, http.StatusBadRequest, e.call("POST", "/actions/x/result", "spd01", uuidA, res, nil))
		big := map[string]any{"status": "refused", "exit_code": 126, "output": strings.Repeat("é", server.MaxActionOutput), "reason": "not allowed"}
		var done actionAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions/"+id+"/result", "spd01", uuidA, big, &done))
		require.Equal(t, server.StatusRefused, done.Data.Status)
		require.LessOrEqual(t, len(done.Data.Output), server.MaxActionOutput+64)
		require.Contains(t, done.Data.Output, "[output truncated]")
		require.Equal(t, "not allowed", done.Data.Reason)
	})
}

// Dequeues racing on one node's queue: every action is claimed by
// exactly one of them.
func TestConcurrentDequeue(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		db := open(t)
		ctx := context.Background()
		_, err := db.Register(ctx, "spd01", "", "t", false)
		require.NoError(t, err)
		const n = 30
		for i := range n {
			_, err := db.Enqueue(ctx, "spd01", "", []string{"nodemgr", "pushasset", strconv.Itoa(i)}, "t")
			require.NoError(t, err)
		}
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				as, err := db.Dequeue(ctx, "spd01", server.MaxDequeue, server.Lease{})
				require.NoError(t, err)
				mu.Lock()
				defer mu.Unlock()
				for _, a := range as {
					seen[a.ID]++
				}
			}()
		}
		wg.Wait()
		require.Len(t, seen, n)
		for id, c := range seen {
			require.Equal(t, 1, c, "action %d claimed %d times", id, c)
		}
		as, err := db.Dequeue(ctx, "spd01", server.MaxDequeue, server.Lease{})
		require.NoError(t, err)
		require.Empty(t, as)
	})
}

// A node that cannot be reached: the failure is logged, the action
// stays queued.
func TestNotifyFailure(t *testing.T) {
	e := newEnv(t, openSQLite, server.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	uuid := e.registerAt("spd01", addr)
	require.Equal(t, http.StatusBadRequest, e.call("POST", "/register", adminUser, adminPass, map[string]string{"nodename": "spd03", "notify_addr": "nohost"}, nil))
	require.Equal(t, http.StatusOK, e.call("POST", "/actions", adminUser, adminPass, map[string]any{"nodename": "spd01", "argv": []string{"nodemgr", "pushasset"}}, nil))
	require.Eventually(t, func() bool { return strings.Contains(e.log.String(), "notify failed") }, 10*time.Second, 20*time.Millisecond)
	var dq actionsAnswer
	require.Equal(t, http.StatusOK, e.call("POST", "/actions/dequeue", "spd01", uuid, nil, &dq))
	require.Len(t, dq.Data, 1)
}

// Only a user chooses where the collector connects: an anonymous
// register cannot point the notification at another host.
func TestAnonymousNotifyAddr(t *testing.T) {
	e := newEnv(t, openSQLite, server.Options{AnonymousRegister: true})
	require.Equal(t, http.StatusForbidden, e.call("POST", "/register", "", "", map[string]string{"nodename": "spd05", "notify_addr": "10.0.0.1:22"}, nil))
	require.Equal(t, http.StatusOK, e.call("POST", "/register", "", "", map[string]string{"nodename": "spd05"}, nil))
	addr, err := e.db.NotifyAddr(context.Background(), "spd05", server.DefaultNotifyPort)
	require.NoError(t, err)
	require.Equal(t, "spd05:1214", addr)
}
