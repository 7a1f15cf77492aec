package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/svc/store"
)

// Empty, huge, malformed and malicious requests are refused with a
// reason and change nothing.
func TestHostileRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		post := func(path string, body []byte, header map[string]string) int {
			req, err := http.NewRequest("POST", e.api()+path, bytes.NewReader(body))
			require.NoError(t, err)
			req.SetBasicAuth(adminUser, adminPass)
			for k, v := range header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}
		for _, tc := range []struct {
			name, path string
			body       []byte
			header     map[string]string
			want       int
		}{
			{name: "empty body", path: "/services", body: nil, want: http.StatusBadRequest},
			{name: "not JSON", path: "/services", body: []byte("svc_name=x"), want: http.StatusBadRequest},
			{name: "no config", path: "/services", body: []byte(`{"svc_name":"x"}`), want: http.StatusBadRequest},
			{name: "path in name", path: "/services", body: []byte(`{"svc_name":"../etc/passwd","svc_envfile":"[DEFAULT]\n"}`), want: http.StatusBadRequest},
			{name: "bad node in config", path: "/services", body: []byte(`{"svc_name":"x","svc_envfile":"[DEFAULT]\nnodes = a b/c\n"}`), want: http.StatusBadRequest},
			{name: "huge config", path: "/services", body: []byte(`{"svc_name":"x","svc_envfile":"` + strings.Repeat("a", server.MaxConfigBody) + `"}`), want: http.StatusRequestEntityTooLarge},
			{name: "bad If-Match", path: "/services", body: []byte(`{"svc_name":"x","svc_envfile":"[DEFAULT]\n"}`), header: map[string]string{"If-Match": `"1"`}, want: http.StatusBadRequest},
			{name: "both conditions", path: "/services", body: []byte(`{"svc_name":"x","svc_envfile":"[DEFAULT]\n"}`), header: map[string]string{"If-Match": "*", "If-None-Match": "*"}, want: http.StatusBadRequest},
			{name: "stale If-Match on absent", path: "/services", body: []byte(`{"svc_name":"x","svc_envfile":"[DEFAULT]\n"}`), header: map[string]string{"If-Match": `"` + strings.Repeat("0", 64) + `"`}, want: http.StatusPreconditionFailed},
			{name: "export not JSON", path: "/compliance/import", body: []byte("{"), want: http.StatusBadRequest},
			{name: "export dangling reference", path: "/compliance/import", body: []byte(`{"modulesets":[{"modset_name":"m","rulesets":["nope"]}],"rulesets":[],"filtersets":[]}`), want: http.StatusBadRequest},
			{name: "export too deep", path: "/compliance/import", body: []byte(strings.Repeat("[", 100) + strings.Repeat("]", 100)), want: http.StatusBadRequest},
			{name: "attach nothing", path: "/compliance/nodes/spd01/modulesets", body: []byte(`{"modulesets":[]}`), want: http.StatusBadRequest},
			{name: "empty package name", path: "/nodes/spd01/packages", body: []byte(`{"packages":[{"pkg_name":""}]}`), want: http.StatusBadRequest},
			{name: "bad node name", path: "/nodes/SPD..01/asset", body: []byte(`{"node":{}}`), want: http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				require.Equal(t, tc.want, post(tc.path, tc.body, tc.header))
			})
		}
		_, err := e.db.GetService(context.Background(), "x")
		require.ErrorIs(t, err, server.ErrNotFound, "no refused write stored anything")
		ex, err := e.db.Export(context.Background())
		require.NoError(t, err)
		require.Empty(t, ex.Modulesets)
		require.Equal(t, http.StatusBadRequest, e.call("GET", "/services/x?props=svc_envfile,password", adminUser, adminPass, nil, nil))
		require.Equal(t, http.StatusUnauthorized, e.call("GET", "/services/x?props=svc_name", "", "", nil, nil))
	})
}

// No password, uuid or config value reaches the log, even on failures.
func TestNoSecretInLogs(t *testing.T) {
	e := newEnv(t, openSQLite, server.Options{})
	uuid := e.register("spd01")
	const dbPass = "MariaDbRootPw-42"
	cfg := "[DEFAULT]\nnodes = spd01\n[container#01]\nrun_args = -e MYSQL_ROOT_PASSWORD=" + dbPass + "\n"
	_, err := e.client("spd01", uuid).Put(context.Background(), "spdsvc01", []byte(cfg), store.Absent)
	require.NoError(t, err, "a node creates a service it is a node of")
	_, err = e.client(adminUser, adminPass).Put(context.Background(), "spdsvc01", []byte(cfg+"#\n"), store.AnyRevision)
	require.NoError(t, err)
	_, err = e.client("spd01", uuid).Put(context.Background(), "spdsvc01", []byte("[DEFAULT]\nnodes = spd02\n"), store.AnyRevision)
	require.ErrorContains(t, err, "403", "a node cannot give its service away")
	_, err = e.client("spd01", uuid).Get(context.Background(), "spdsvc01")
	require.NoError(t, err)
	_, err = e.client("spd01", uuid+"x").Get(context.Background(), "spdsvc01")
	require.Error(t, err)
	logs := e.log.String()
	require.Contains(t, logs, "path=/init/rest/api/services/spdsvc01")
	require.Contains(t, logs, "principal=spd01")
	for _, secret := range []string{adminPass, uuid, dbPass} {
		require.NotContains(t, logs, secret)
	}
}

// Migrations run once; reopening is a no-op; a newer schema is refused.
func TestMigrations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		db := open(t)
		_, err := db.PutService(context.Background(), "svc1", "", "[DEFAULT]\nnodes = n1\n", store.Absent, "t")
		require.NoError(t, err)
	})
	dir := t.TempDir()
	ctx := context.Background()
	db, err := server.OpenDB(ctx, "", dir)
	require.NoError(t, err)
	_, err = db.PutService(ctx, "svc1", "", "[DEFAULT]\nnodes = n1\n", store.Absent, "t")
	require.NoError(t, err)
	require.NoError(t, db.Close())
	db, err = server.OpenDB(ctx, "sqlite:"+filepath.Join(dir, "collector.db"), "")
	require.NoError(t, err, "a second start migrates nothing and keeps the data")
	s, err := db.GetService(ctx, "svc1")
	require.NoError(t, err)
	require.Equal(t, int64(1), s.Rev)
	require.NoError(t, db.Close())

	_, err = server.OpenDB(ctx, "mysql://x", dir)
	require.ErrorContains(t, err, "expected postgres://")
	_, err = server.OpenDB(ctx, "ftp://u:pw-in-url@h/x", dir)
	require.NotContains(t, err.Error(), "pw-in-url")
	_, err = server.OpenDB(ctx, "postgres://u:pw-in-url@127.0.0.1:1/x?connect_timeout=2", dir)
	require.Error(t, err, "nothing listens on port 1")
	require.NotContains(t, err.Error(), "pw-in-url")
}

// Collectors starting together on one empty database: the migration
// runs once, every one of them starts.
func TestConcurrentMigrations(t *testing.T) {
	for _, tc := range []struct{ name, spec string }{{name: "sqlite"}, {name: "postgres"}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			spec := ""
			if tc.name == "postgres" {
				if spec = postgresURL(t); spec == "" {
					return
				}
			}
			const n = 4
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := server.OpenDB(context.Background(), spec, dir)
					if err == nil {
						_, err = db.Register(context.Background(), fmt.Sprintf("node%d", i), "", "t", false)
						db.Close()
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			db, err := server.OpenDB(context.Background(), spec, dir)
			require.NoError(t, err)
			defer db.Close()
			nodes, err := db.Nodes(context.Background())
			require.NoError(t, err)
			require.Len(t, nodes, n)
		})
	}
}

// Anonymous clients racing to register one name: one gets a uuid.
func TestConcurrentRegister(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{AnonymousRegister: true})
		const n = 6
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", e.api()+"/register", strings.NewReader(`{"nodename":"spd01"}`))
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					codes[i] = resp.StatusCode
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			default:
				require.Equal(t, http.StatusConflict, c)
			}
		}
		require.Equal(t, 1, ok)
	})
}

func TestUsersFile(t *testing.T) {
	for _, tc := range []struct{ name, data, err string }{
		{name: "plain password", data: "admin:hunter22\n", err: "users:1: user \"admin\": the password field is not a bcrypt hash"},
		{name: "no colon", data: "# c\n\nadmin\n", err: "users:3: expected name:bcrypt-hash"},
		{name: "twice", data: "a:$2a$04$Ts9cMQ8SGsO2.z8ZvnLVWuoIFnLnAGpsmMYVbL8tdxQ6MVkRy.m7a\na:$2a$04$Ts9cMQ8SGsO2.z8ZvnLVWuoIFnLnAGpsmMYVbL8tdxQ6MVkRy.m7a\n", err: "users:2: user \"a\" is defined twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := server.ParseUsers("users", []byte(tc.data))
			require.ErrorContains(t, err, tc.err)
			require.NotContains(t, err.Error(), "hunter22")
		})
	}
}

func TestServiceNodes(t *testing.T) {
	for _, tc := range []struct {
		name, cfg string
		want      []string
		err       string
	}{
		{name: "nodes and drpnodes", cfg: "[DEFAULT]\nnodes = spd01 spd02\ndrpnodes = drp01 spd01\n", want: []string{"spd01", "spd02", "drp01"}},
		{name: "other sections ignored", cfg: "[DEFAULT]\nnodes = a1\n[fs#1]\nnodes = evil\n", want: []string{"a1"}},
		{name: "repeated DEFAULT", cfg: "[fs#1]\ntype = ext4\n[DEFAULT]\nnodes = b1 # comment\n", want: []string{"b1"}},
		{name: "no DEFAULT", cfg: "[fs#1]\nnodes = x\n", want: nil},
		{name: "no trailing newline", cfg: "[DEFAULT]\nnodes = c1", want: []string{"c1"}},
		{name: "scope word", cfg: "[DEFAULT]\nnodes = nodes\n", err: "DEFAULT nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := server.ServiceNodes([]byte(tc.cfg))
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				require.ErrorIs(t, err, server.ErrBadInput)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
