package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/svc/store"
	"github.com/svckit/svckit/svc/store/storetest"
)

// The store contract of svc/store, through the real client, against the
// real server.
func TestCollectorCAS(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		storetest.CAS(t, e.client(adminUser, adminPass))

		// Every revision is kept, with who wrote it and when.
		var revs struct {
			Data []server.Revision `json:"data"`
		}
		require.Equal(t, http.StatusOK, e.call("GET", "/services/spdsvc01/revisions", adminUser, adminPass, nil, &revs))
		require.Len(t, revs.Data, 3, "create, update, unconditional write; the refused writes left none")
		for i, r := range revs.Data {
			require.Equal(t, int64(3-i), r.Rev)
			require.Equal(t, adminUser, r.Author)
			require.NotEmpty(t, r.Created)
		}
		require.Equal(t, "OTHER", revs.Data[0].App, "svc_app comes from DEFAULT app")
		var one struct {
			Data []server.Revision `json:"data"`
		}
		require.Equal(t, http.StatusOK, e.call("GET", "/services/spdsvc01/revisions/1", adminUser, adminPass, nil, &one))
		require.Equal(t, "[DEFAULT]\napp = RIVER_SPD\nnodes = spd01 spd02\n", one.Data[0].EnvFile)
		require.Equal(t, http.StatusNotFound, e.call("GET", "/services/spdsvc01/revisions/9", adminUser, adminPass, nil, nil))
	})
}

// Two pushes based on the same revision: exactly one wins, on the server.
func TestConcurrentPush(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		c := e.client(adminUser, adminPass)
		ctx := context.Background()
		base, err := c.Put(ctx, "spdsvc01", []byte("[DEFAULT]\nnodes = spd01\n"), store.Absent)
		require.NoError(t, err)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cfg := []byte("[DEFAULT]\nnodes = spd01\ncomment = writer " + string(rune('a'+i)) + "\n")
				_, errs[i] = e.client(adminUser, adminPass).Put(ctx, "spdsvc01", cfg, base.Revision)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, store.ErrConflict)
		}
		require.Equal(t, 1, won, "exactly one of the pushes based on the same revision wins")
		revs, err := e.db.Revisions(ctx, "spdsvc01", 100)
		require.NoError(t, err)
		require.Len(t, revs, 2)

		// Two concurrent creates: one wins too.
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.client(adminUser, adminPass).Put(ctx, "newsvc", []byte("[DEFAULT]\nnodes = spd0"+string(rune('1'+i))+"\n"), store.Absent)
			}()
		}
		wg.Wait()
		won = 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				require.ErrorIs(t, err, store.ErrConflict)
			}
		}
		require.Equal(t, 1, won)
	})
}

// Nodes register, authenticate by uuid and see only their own things.
func TestRegisterAndScoping(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		ctx := context.Background()
		// Anonymous register is off by default.
		require.Equal(t, http.StatusUnauthorized, e.call("POST", "/register", "", "", map[string]string{"nodename": "spd01"}, nil))
		uuidA := e.register("spd01")
		uuidB := e.register("spd02")
		require.NotEqual(t, uuidA, uuidB)
		require.Equal(t, http.StatusBadRequest, e.call("POST", "/register", adminUser, adminPass, map[string]string{"nodename": "nodes"}, nil), "a scope word is no node name")
		require.Equal(t, http.StatusBadRequest, e.call("POST", "/register", adminUser, adminPass, map[string]string{"nodename": "../x"}, nil))
		require.Equal(t, http.StatusConflict, e.call("POST", "/register", adminUser, adminPass, map[string]string{"nodename": adminUser}, nil), "a node named like a user could never authenticate")
		require.Equal(t, http.StatusForbidden, e.call("POST", "/register", "spd01", uuidA, map[string]string{"nodename": "spd09"}, nil))

		admin := e.client(adminUser, adminPass)
		_, err := admin.Put(ctx, "svca", []byte("[DEFAULT]\napp = A\nnodes = spd01 spd03\n"), store.Absent)
		require.NoError(t, err)

		a := e.client("spd01", uuidA)
		got, err := a.Get(ctx, "svca")
		require.NoError(t, err, "a node reads its service's config")
		require.Contains(t, string(got.Data), "nodes = spd01 spd03")
		// The flex primary pushes a new version: CAS as a node, its name
		// as the author.
		_, err = a.Put(ctx, "svca", []byte("[DEFAULT]\napp = A\nnodes = spd01 spd03\nx = 1\n"), got.Revision)
		require.NoError(t, err)
		revs, err := e.db.Revisions(ctx, "svca", 10)
		require.NoError(t, err)
		require.Equal(t, "spd01", revs[0].Author)

		b := e.client("spd02", uuidB)
		_, err = b.Get(ctx, "svca")
		require.ErrorIs(t, err, store.ErrNotFound, "node B cannot read a service it is not a node of")
		_, err = b.Put(ctx, "svca", []byte("[DEFAULT]\nnodes = spd02\n"), store.AnyRevision)
		require.ErrorContains(t, err, "403")
		_, err = a.Put(ctx, "svcb", []byte("[DEFAULT]\nnodes = spd02\n"), store.Absent)
		require.ErrorContains(t, err, "403", "a node cannot create a service for other nodes")
		require.Equal(t, http.StatusNotFound, e.call("GET", "/services/svca/revisions", "spd02", uuidB, nil, nil))

		// Wrong uuid, uuid of another node, re-register.
		_, err = e.client("spd01", uuidB).Get(ctx, "svca")
		require.ErrorContains(t, err, "401")
		_, err = e.client("spd01", "").Get(ctx, "svca")
		require.ErrorContains(t, err, "401")
		_, err = e.client(adminUser, "wrong").Get(ctx, "svca")
		require.ErrorContains(t, err, "401")

		// Node A cannot read node B's rules, nor push B's inventory, nor
		// use the user endpoints.
		require.Equal(t, http.StatusForbidden, e.call("GET", "/compliance/nodes/spd02/rules", "spd01", uuidA, nil, nil))
		require.Equal(t, http.StatusOK, e.call("GET", "/compliance/nodes/self/rules", "spd01", uuidA, nil, nil))
		require.Equal(t, http.StatusForbidden, e.call("POST", "/nodes/spd02/packages", "spd01", uuidA, map[string]any{"packages": []any{}}, nil))
		require.Equal(t, http.StatusForbidden, e.call("POST", "/compliance/import", "spd01", uuidA, seedExport(t, "spdc-node.json"), nil))
		require.Equal(t, http.StatusForbidden, e.call("GET", "/compliance/export", "spd01", uuidA, nil, nil))
		require.Equal(t, http.StatusForbidden, e.call("GET", "/filtersets/x/nodes", "spd01", uuidA, nil, nil))

		// A user re-registers a node: the old uuid stops working.
		uuidA2 := e.register("spd01")
		_, err = e.client("spd01", uuidA).Get(ctx, "svca")
		require.ErrorContains(t, err, "401")
		_, err = e.client("spd01", uuidA2).Get(ctx, "svca")
		require.NoError(t, err)
	})
}

func TestAnonymousRegister(t *testing.T) {
	e := newEnv(t, openSQLite, server.Options{AnonymousRegister: true})
	var ans struct {
		Data struct {
			UUID string `json:"uuid"`
		} `json:"data"`
	}
	require.Equal(t, http.StatusOK, e.call("POST", "/register", "", "", map[string]string{"nodename": "spd01", "app": "A"}, &ans))
	require.NotEmpty(t, ans.Data.UUID)
	require.Equal(t, http.StatusConflict, e.call("POST", "/register", "", "", map[string]string{"nodename": "spd01"}, nil),
		"nobody takes a registered node over by registering its name again")
	ok, err := e.db.CheckNode(context.Background(), "spd01", ans.Data.UUID)
	require.NoError(t, err)
	require.True(t, ok)
}

// Inventory pushed by nodes; filtersets evaluated on it by the server;
// each node's effective rules follow.
func TestInventoryFiltersetsRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		uuids := map[string]string{}
		for _, n := range []string{"spd01", "spd02", "spd03"} {
			uuids[n] = e.register(n)
		}
		// The seed's two exports load.
		require.Equal(t, http.StatusOK, e.call("POST", "/compliance/import", adminUser, adminPass, seedExport(t, "spdc-node.json"), nil))
		require.Equal(t, http.StatusOK, e.call("POST", "/compliance/import", adminUser, adminPass, seedExport(t, "spdc-svc.json"), nil))

		pkgs := map[string][]map[string]string{
			"spd01": {{"pkg_name": "systemd", "pkg_version": "252"}, {"pkg_name": "bash", "pkg_version": "5.2"}},
			"spd02": {{"pkg_name": "xinetd", "pkg_version": "2.3"}},
			"spd03": {{"pkg_name": "systemd-timesyncd", "pkg_version": "252"}},
		}
		for n, p := range pkgs {
			require.Equal(t, http.StatusOK, e.call("POST", "/nodes/self/asset", n, uuids[n], map[string]any{"node": map[string]string{"os_name": "Linux", "os_vendor": "debian", "team_responsible": "OpenSVC"}}, nil))
			require.Equal(t, http.StatusOK, e.call("POST", "/nodes/"+n+"/packages", n, uuids[n], map[string]any{"packages": p}, nil))
		}
		var fs struct {
			Data []string `json:"data"`
		}
		require.Equal(t, http.StatusOK, e.call("GET", "/filtersets/servers%20with%20systemd/nodes", adminUser, adminPass, nil, &fs))
		require.Equal(t, []string{"spd01"}, fs.Data, "exactly the nodes whose pushed packages include systemd")
		require.Equal(t, http.StatusOK, e.call("GET", "/filtersets/servers%20with%20xinetd/nodes", adminUser, adminPass, nil, &fs))
		require.Equal(t, []string{"spd02"}, fs.Data)
		require.Equal(t, http.StatusOK, e.call("GET", "/filtersets/opensvc%20solaris%20servers/nodes", adminUser, adminPass, nil, &fs))
		require.Empty(t, fs.Data)
		require.Equal(t, http.StatusNotFound, e.call("GET", "/filtersets/nope/nodes", adminUser, adminPass, nil, nil))

		// Attach the seed's node modulesets to every node, the service
		// one to a service.
		all, err := e.db.Export(context.Background())
		require.NoError(t, err)
		var nodeSets []string
		for _, n := range all.ModulesetNames() {
			if !strings.HasPrefix(n, "spdc.svc") {
				nodeSets = append(nodeSets, n)
			}
		}
		for n := range uuids {
			require.Equal(t, http.StatusOK, e.call("POST", "/compliance/nodes/"+n+"/modulesets", adminUser, adminPass, map[string]any{"modulesets": nodeSets}, nil))
		}
		require.Equal(t, http.StatusNotFound, e.call("POST", "/compliance/nodes/spd01/modulesets", adminUser, adminPass, map[string]any{"modulesets": []string{"nope"}}, nil))

		rules := func(n string) *compliance.Export {
			raw := e.get("/compliance/nodes/self/rules", n, uuids[n])
			ex, err := compliance.ParseExport(n+" rules", raw)
			require.NoError(t, err, "the answer is an export nodemgr compliance --rules reads")
			return ex
		}
		r1, r2 := rules("spd01"), rules("spd02")
		const listener = "com.opensvc.sys.opensvc.dequeue-actions-listener"
		_, ok := r1.Ruleset(listener + ".systemd")
		require.True(t, ok, "spd01 has systemd: it gets the systemd listener rules")
		_, ok = r1.Ruleset(listener + ".xinetd")
		require.False(t, ok)
		_, ok = r2.Ruleset(listener + ".xinetd")
		require.True(t, ok)
		_, ok = r2.Ruleset(listener + ".systemd")
		require.False(t, ok)
		r3 := rules("spd03")
		for _, suffix := range []string{".systemd", ".xinetd", ".smf"} {
			_, ok = r3.Ruleset(listener + suffix)
			require.False(t, ok, "spd03's systemd-timesyncd is not systemd: no contextual listener rules")
		}
		_, ok = r3.Ruleset(listener)
		require.True(t, ok, "the explicit ruleset stays")
		_, ok = r1.Moduleset("spdc.svc")
		require.False(t, ok, "no service moduleset in node rules")
		require.ElementsMatch(t, nodeSets, r1.ModulesetNames())

		// Service modulesets, for a node of the service only.
		_, err = e.client(adminUser, adminPass).Put(context.Background(), "spdsvc01", []byte("[DEFAULT]\nnodes = spd01 spd02\n"), store.Absent)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, e.call("POST", "/compliance/services/spdsvc01/modulesets", adminUser, adminPass, map[string]any{"modulesets": []string{"spdc.svc"}}, nil))
		sr, err := compliance.ParseExport("svc rules", e.get("/compliance/services/spdsvc01/rules", "spd01", uuids["spd01"]))
		require.NoError(t, err)
		_, ok = sr.Moduleset("spdc.svc")
		require.True(t, ok)
		require.Equal(t, http.StatusNotFound, e.call("GET", "/compliance/services/spdsvc01/rules", "spd03", uuids["spd03"], nil, nil))
		require.Equal(t, http.StatusBadRequest, e.call("GET", "/compliance/services/spdsvc01/rules", adminUser, adminPass, nil, nil), "a user names the node")
		require.Equal(t, http.StatusOK, e.call("GET", "/compliance/services/spdsvc01/rules?node=spd02", adminUser, adminPass, nil, nil))

		var facts struct {
			Data compliance.Facts `json:"data"`
		}
		require.Equal(t, http.StatusOK, e.call("GET", "/nodes/self/facts", "spd01", uuids["spd01"], nil, &facts))
		require.Equal(t, "spd01", facts.Data.Nodename())
		require.Len(t, facts.Data.Packages, 2)
	})
}

func (e *env) get(path, user, password string) []byte {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.api()+path, nil)
	require.NoError(e.t, err)
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	require.Equal(e.t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return b
}
