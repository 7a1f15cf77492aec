package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/examples/collector/server"
	"github.com/svckit/svckit/formtemplate"
	"github.com/svckit/svckit/svc/store"
)

const xss = `<script>alert("x")</script>`

// Every page as the admin, with hostile text wherever a client may put
// text: a service's app and config, a node's assets and packages, a
// compliance module's name and output, an action's words. The pages
// show it escaped, never as markup, and carry no script at all.
func TestPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		ctx := context.Background()
		uuid := e.register("spd01")
		admin := e.client(adminUser, adminPass)
		cfg1 := "[DEFAULT]\napp = " + xss + "\nnodes = spd01\n\n[container#01]\nrun_args = -e MYSQL_ROOT_PASSWORD=Old-Pw-1234\ncomment = " + xss + "\n"
		cur, err := admin.Put(ctx, "spdsvc01", []byte(cfg1), store.Absent)
		require.NoError(t, err)
		cfg2 := strings.Replace(cfg1, "Old-Pw-1234", "New-Pw-5678", 1) + "[fs#01]\nmnt = /x\n"
		_, err = e.client("spd01", uuid).Put(ctx, "spdsvc01", []byte(cfg2), cur.Revision)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, e.call("POST", "/nodes/self/asset", "spd01", uuid,
			map[string]any{"node": map[string]string{"os_name": xss, "db_password": "Asset-Pw-99"}, "packages": []map[string]string{{"pkg_name": xss, "pkg_version": "1"}, {"pkg_name": "systemd", "pkg_version": "252"}}}, nil))
		require.Equal(t, http.StatusOK, e.call("POST", "/compliance/nodes/self/status", "spd01", uuid,
			map[string]any{"modules": []map[string]string{{"module": xss, "status": "nok", "output": xss}, {"module": "sysctl", "status": "ok"}}}, nil))
		require.Equal(t, http.StatusOK, e.call("POST", "/actions", adminUser, adminPass, map[string]any{"nodename": "spd01", "argv": []string{"nodemgr", xss}}, nil))

		b := e.browser()
		b.login(adminUser, adminPass)
		for _, tc := range []struct {
			path string
			want []string
		}{
			{path: "/services", want: []string{`<a href="/services/spdsvc01">spdsvc01</a>`, "&lt;script&gt;", ">2<"}},
			{path: "/services/spdsvc01", want: []string{
				`<td class="author">spd01</td>`, `<td class="author">admin</td>`, "Changes in revision 2 (from 1)",
				`<div class="add">&#43;[fs#01]</div>`, `<div class="del">-run_args = -e MYSQL_ROOT_PASSWORD=xxxx</div>`,
				`<div class="add">&#43;run_args = -e MYSQL_ROOT_PASSWORD=xxxx</div>`,
				"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", `<a href="/services/spdsvc01/diff?from=1&amp;to=2">`}},
			{path: "/services/spdsvc01?rev=1", want: []string{"Config of revision 1", "MYSQL_ROOT_PASSWORD=xxxx"}},
			{path: "/services/spdsvc01/diff?from=1&to=2", want: []string{"Revision 1 to 2", `<div class="add">&#43;mnt = /x</div>`}},
			{path: "/nodes", want: []string{`<a href="/nodes/spd01">spd01</a>`, `<span class="ok">1 ok</span>, <span class="nok">1 nok</span>`}},
			{path: "/nodes/spd01", want: []string{"<td>os_name</td><td>&lt;script&gt;", "<td>db_password</td><td>xxxx</td>",
				"<code>systemd 252</code>", "<code>&lt;script&gt;", `<td class="nok">nok</td>`, `<a href="/services/spdsvc01">`, "nodemgr &lt;script&gt;"}},
			{path: "/forms", want: []string{`<a href="/forms/spd">RIVER SPD service configuration generator</a>`}},
			{path: "/forms/spd", want: []string{`name="csrf_token"`, `id="in-svcname"`, `type="password"`}},
		} {
			t.Run(strings.ReplaceAll(tc.path, "/", "_"), func(t *testing.T) {
				p := b.get(tc.path)
				require.Equal(t, http.StatusOK, p.status, p.body)
				for _, w := range tc.want {
					require.Contains(t, p.body, w)
				}
				require.NotContains(t, p.body, "<script")
				for _, pw := range []string{"Old-Pw-1234", "New-Pw-5678", "Asset-Pw-99"} {
					require.NotContains(t, p.body, pw)
				}
				require.Contains(t, p.header.Get("Content-Security-Policy"), "default-src 'none'")
				require.Equal(t, "no-store", p.header.Get("Cache-Control"))
			})
		}
		for _, path := range []string{"/services/nosuch", "/services/Bad_Name", "/nodes/nosuch", "/services/spdsvc01?rev=9", "/services/spdsvc01/diff?from=1&to=9"} {
			require.Equal(t, http.StatusNotFound, b.get(path).status, path)
		}
		require.Equal(t, http.StatusBadRequest, b.get("/services/spdsvc01/diff?from=x&to=2").status)
	})
}

// The login: a page without a session goes to the login page, which
// comes back to it; a wrong password is refused the same way for a
// known and an unknown user; the cookie is HttpOnly and SameSite; a
// redirect never leaves the site; logout ends the session; a session
// expires.
func TestLogin(t *testing.T) {
	clk := newClock()
	e := newEnv(t, openSQLite, server.Options{Now: clk.Now, SessionTTL: time.Hour})
	b := e.browser()
	p := b.get("/services/spdsvc01")
	require.Equal(t, http.StatusSeeOther, p.status)
	require.Equal(t, "/login?next=%2Fservices%2Fspdsvc01", p.location)

	page := b.get("/login?next=/nodes")
	require.Contains(t, page.body, `name="next" value="/nodes"`)
	for _, user := range []string{adminUser, "nobody"} {
		page := b.get("/login")
		ans := b.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {user}, "password": {"wrong"}})
		require.Equal(t, http.StatusUnauthorized, ans.status)
		require.Contains(t, ans.body, "wrong user name or password")
	}
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		b = e.browser()
		page := b.get("/login")
		ans := b.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {adminUser}, "password": {adminPass}, "next": {next}})
		require.Equal(t, http.StatusSeeOther, ans.status)
		require.Equal(t, "/services", ans.location, next)
	}
	page = b.get("/login")
	require.Equal(t, http.StatusSeeOther, page.status, "a logged-in user skips the login page")

	fresh := e.browser()
	page = fresh.get("/login")
	ans := fresh.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {adminUser}, "password": {adminPass}, "next": {"/nodes"}})
	require.Equal(t, "/nodes", ans.location)
	cookie := ans.header.Get("Set-Cookie")
	for _, c := range ans.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "collector_session=") {
			cookie = c
		}
	}
	require.Contains(t, cookie, "HttpOnly")
	require.Contains(t, cookie, "SameSite=Lax")
	require.NotContains(t, cookie, "Secure", "plain HTTP here; TestCommand checks the TLS cookie")

	csrf := token(t, fresh.get("/nodes").body)
	ans = fresh.post("/logout", url.Values{"csrf_token": {csrf}})
	require.Equal(t, http.StatusSeeOther, ans.status)
	require.Equal(t, http.StatusSeeOther, fresh.get("/nodes").status, "logged out")

	require.Equal(t, http.StatusOK, b.get("/nodes").status)
	clk.Add(61 * time.Minute)
	require.Equal(t, http.StatusSeeOther, b.get("/nodes").status, "the session expired")

	// A password typed in the user field never reaches the log.
	page = b.get("/login")
	require.Equal(t, http.StatusUnauthorized, b.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {"Typed-Pw-In-User-1"}, "password": {""}}).status)
	require.Contains(t, e.log.String(), "(unknown user)")
	require.NotContains(t, e.log.String(), "Typed-Pw-In-User-1")
	require.NotContains(t, e.log.String(), adminPass)
}

// CSRF: every POST of the pages needs the session's token and a
// same-origin request; a refused one changes nothing.
func TestCSRFRefused(t *testing.T) {
	e := newEnv(t, openSQLite, server.Options{})
	b := e.browser()
	csrf := b.login(aliceUser, adminPass)
	answers := spdAnswers(csrf, "spdsvc01", "RIVER_SPD", 2, "Csrf-Pw-1234")
	noToken := spdAnswers("", "spdsvc01", "RIVER_SPD", 2, "Csrf-Pw-1234")
	noToken.Del("csrf_token")
	for _, tc := range []struct {
		name   string
		path   string
		form   url.Values
		header map[string]string
		status int
	}{
		{name: "form without token", path: "/forms/spd", form: noToken, status: http.StatusForbidden},
		{name: "form with another token", path: "/forms/spd", form: spdAnswers("x"+csrf[1:], "spdsvc01", "RIVER_SPD", 2, "pw"), status: http.StatusForbidden},
		{name: "form from another site", path: "/forms/spd", form: answers, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: http.StatusForbidden},
		{name: "form from another origin", path: "/forms/spd", form: answers, header: map[string]string{"Origin": "https://evil.example"}, status: http.StatusForbidden},
		{name: "logout without token", path: "/logout", form: url.Values{}, status: http.StatusForbidden},
		{name: "JSON with a wrong header token", path: "/forms/spd", header: map[string]string{"X-CSRF-Token": "nope", "Content-Type": "application/json"}, status: http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ans := b.do("POST", tc.path, tc.form, tc.header)
			require.Equal(t, tc.status, ans.status, ans.body)
			require.NotContains(t, ans.body, "Csrf-Pw-1234")
		})
	}
	_, err := e.db.GetService(context.Background(), "spdsvc01")
	require.ErrorIs(t, err, server.ErrNotFound, "no refused POST stored anything")
	require.Equal(t, http.StatusOK, b.get("/services").status, "no refused logout ended the session")

	// The login form: its token is a cookie of its own.
	other := e.browser()
	ans := other.post("/login", url.Values{"csrf_token": {"forged"}, "username": {adminUser}, "password": {adminPass}})
	require.Equal(t, http.StatusForbidden, ans.status)
	// Without a session a POST is refused, not redirected.
	require.Equal(t, http.StatusUnauthorized, other.post("/forms/spd", answers).status)

	// The same POST with the token goes through.
	ans = b.post("/forms/spd", answers)
	require.Equal(t, http.StatusOK, ans.status, ans.body)
}

// The seed's form stores its config as a revision of the service,
// written by the user, and the service page shows what the second
// submission changed. A limited user cannot store a service of another
// app, nor overwrite one.
func TestFormStoresRevision(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{})
		ctx := context.Background()
		b := e.browser()
		csrf := b.login(aliceUser, adminPass)
		const pw = "Form-Root-Pw-42"
		ans := b.post("/forms/spd", spdAnswers(csrf, "spdsvc01", "RIVER_SPD", 2, pw))
		require.Equal(t, http.StatusOK, ans.status, ans.body)
		require.Contains(t, ans.body, `<code id="stored-location">/services/spdsvc01</code>`)
		require.Contains(t, ans.body, `<code id="stored-revision">1</code>`)
		require.NotContains(t, ans.body, pw)
		ans = b.post("/forms/spd", spdAnswers(csrf, "spdsvc01", "RIVER_SPD", 3, pw))
		require.Equal(t, http.StatusOK, ans.status, ans.body)
		require.Contains(t, ans.body, `<code id="stored-revision">2</code>`)

		cur, err := e.db.GetService(ctx, "spdsvc01")
		require.NoError(t, err)
		require.Equal(t, aliceUser, cur.Author)
		require.Equal(t, "RIVER_SPD", cur.App)
		require.Contains(t, cur.EnvFile, "MYSQL_ROOT_PASSWORD="+pw, "the stored config has the password; pages never show it")
		page := b.get("/services/spdsvc01")
		require.Equal(t, http.StatusOK, page.status)
		require.Contains(t, page.body, "Changes in revision 2 (from 1)")
		require.Contains(t, page.body, `<div class="add">&#43;[disk#03]</div>`)
		require.NotContains(t, page.body, pw)

		// A bad answer comes back beside its input; nothing stored.
		ans = b.post("/forms/spd", spdAnswers(csrf, "Bad_Name", "RIVER_SPD", 2, pw))
		require.Equal(t, http.StatusUnprocessableEntity, ans.status)
		require.Contains(t, ans.body, `id="err-svcname"`)
		require.NotContains(t, ans.body, pw)

		// Alice's scope: no service of another app, no overwriting bob's.
		ans = b.post("/forms/spd", spdAnswers(csrf, "spdsvc02", "OTHER", 2, pw))
		require.Equal(t, http.StatusUnprocessableEntity, ans.status)
		require.Contains(t, ans.body, "is not among your apps (RIVER_SPD)")
		_, err = e.client(bobUser, adminPass).Put(ctx, "bobsvc", []byte("[DEFAULT]\napp = OTHER\nnodes = spd09\n"), store.Absent)
		require.NoError(t, err)
		ans = b.post("/forms/spd", spdAnswers(csrf, "bobsvc", "RIVER_SPD", 2, pw))
		require.Equal(t, http.StatusUnprocessableEntity, ans.status)
		require.Contains(t, ans.body, "taken by a service outside your apps")
		bobs, err := e.db.GetService(ctx, "bobsvc")
		require.NoError(t, err)
		require.Equal(t, int64(1), bobs.Rev)
	})
}

// Scoping: a user limited to apps sees and changes the services and
// nodes of those apps only, on the pages and in the API, and what is out
// of scope answers as missing.
func TestScoping(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{NotifyPort: -1})
		ctx := context.Background()
		admin := e.client(adminUser, adminPass)
		_, err := admin.Put(ctx, "alicesvc", []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = anode\n"), store.Absent)
		require.NoError(t, err)
		_, err = admin.Put(ctx, "bobsvc", []byte("[DEFAULT]\napp = OTHER\nnodes = bnode\n"), store.Absent)
		require.NoError(t, err)
		register := func(user, node, app string) int {
			return e.call("POST", "/register", user, adminPass, map[string]string{"nodename": node, "app": app}, nil)
		}
		require.Equal(t, http.StatusOK, register(aliceUser, "anode", "RIVER_SPD"))
		require.Equal(t, http.StatusOK, register(bobUser, "bnode", "OTHER"))
		require.Equal(t, http.StatusForbidden, register(aliceUser, "cnode", "OTHER"), "alice registers nodes of her apps only")
		require.Equal(t, http.StatusForbidden, register(aliceUser, "bnode", "RIVER_SPD"), "nor takes bob's node over")
		require.Equal(t, http.StatusOK, e.call("POST", "/nodes/bnode/asset", bobUser, adminPass, map[string]any{"node": map[string]string{"os_name": "bob-os"}}, nil))

		// The API as alice.
		alice := e.client(aliceUser, adminPass)
		_, err = alice.Get(ctx, "alicesvc")
		require.NoError(t, err)
		_, err = alice.Get(ctx, "bobsvc")
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = alice.Put(ctx, "bobsvc", []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = anode\n"), store.AnyRevision)
		require.ErrorContains(t, err, "403")
		_, err = alice.Put(ctx, "newsvc", []byte("[DEFAULT]\napp = OTHER\nnodes = anode\n"), store.Absent)
		require.ErrorContains(t, err, "403", "no service of another app")
		_, err = alice.Put(ctx, "alicesvc", []byte("[DEFAULT]\napp = OTHER\nnodes = anode\n"), store.AnyRevision)
		require.ErrorContains(t, err, "403", "nor moves hers to another app")
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
		}{
			{"GET", "/services/bobsvc/revisions", nil, http.StatusNotFound},
			{"GET", "/services/bobsvc/revisions/1", nil, http.StatusNotFound},
			{"GET", "/nodes/bnode/facts", nil, http.StatusNotFound},
			{"GET", "/nodes/anode/facts", nil, http.StatusOK},
			{"POST", "/nodes/bnode/asset", map[string]any{"node": map[string]string{}}, http.StatusNotFound},
			{"GET", "/compliance/nodes/bnode/rules", nil, http.StatusNotFound},
			{"GET", "/compliance/services/alicesvc/rules?node=bnode", nil, http.StatusNotFound},
			{"POST", "/actions", map[string]any{"nodename": "bnode", "argv": []string{"nodemgr", "pushasset"}}, http.StatusNotFound},
			{"GET", "/actions?node=bnode", nil, http.StatusNotFound},
			{"POST", "/compliance/import", seedExport(t, "spdc-node.json"), http.StatusForbidden},
			{"GET", "/compliance/export", nil, http.StatusForbidden},
			{"POST", "/compliance/nodes/anode/modulesets", map[string]any{"modulesets": []string{"x"}}, http.StatusForbidden},
			{"GET", "/filtersets/x/nodes", nil, http.StatusForbidden},
		} {
			require.Equal(t, tc.status, e.call(tc.method, tc.path, aliceUser, adminPass, tc.body, nil), "%s %s", tc.method, tc.path)
		}
		var bobAction actionAnswer
		require.Equal(t, http.StatusOK, e.call("POST", "/actions", bobUser, adminPass, map[string]any{"nodename": "bnode", "argv": []string{"nodemgr", "pushasset"}}, &bobAction))
		require.Equal(t, http.StatusNotFound, e.call("GET", "/actions/"+strconv.FormatInt(bobAction.Data.ID, 10), aliceUser, adminPass, nil, nil))
		var list actionsAnswer
		require.Equal(t, http.StatusOK, e.call("GET", "/actions", aliceUser, adminPass, nil, &list))
		require.Empty(t, list.Data, "alice lists the actions of her nodes only")
		require.Equal(t, http.StatusOK, e.call("GET", "/actions", bobUser, adminPass, nil, &list))
		require.Len(t, list.Data, 1)

		// The pages as alice.
		b := e.browser()
		b.login(aliceUser, adminPass)
		p := b.get("/services")
		require.Contains(t, p.body, "alicesvc")
		require.NotContains(t, p.body, "bobsvc")
		p = b.get("/nodes")
		require.Contains(t, p.body, "anode")
		require.NotContains(t, p.body, "bnode")
		for _, path := range []string{"/services/bobsvc", "/services/bobsvc?rev=1", "/services/bobsvc/diff?from=1&to=1", "/nodes/bnode"} {
			p := b.get(path)
			require.Equal(t, http.StatusNotFound, p.status, path)
			require.NotContains(t, p.body, "bob-os")
		}
		require.Contains(t, b.get("/").location, "/services")
		require.Contains(t, b.get("/services/alicesvc").body, "alice (apps RIVER_SPD)")
	})
}

// A users file with a plain password, a bad scope or garbage is refused
// with the file and line, never echoing the password.
func TestBadUsersFile(t *testing.T) {
	h := "$2a$04$Ts9cMQ8SGsO2.z8ZvnLVWuoIFnLnAGpsmMYVbL8tdxQ6MVkRy.m7a"
	dir := t.TempDir()
	for _, tc := range []struct{ name, data, err string }{
		{name: "plain password", data: "# users\nadmin:" + h + "\nalice:hunter22\n", err: "users:3: user \"alice\": the password field is not a bcrypt hash"},
		{name: "plain password with scope", data: "alice:hunter22:apps=A\n", err: "users:1: user \"alice\": the password field is not a bcrypt hash"},
		{name: "bad scope", data: "alice:" + h + ":root\n", err: "users:1: user \"alice\": scope \"root\": expected admin or apps=A,B"},
		{name: "empty app", data: "alice:" + h + ":apps=A,,B\n", err: "users:1: user \"alice\": scope \"apps=A,,B\""},
		{name: "no hash", data: "alice\n", err: "users:1: expected name:bcrypt-hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "users")
			require.NoError(t, os.WriteFile(path, []byte(tc.data), 0o600))
			_, err := server.LoadUsers(path)
			require.ErrorContains(t, err, strings.Replace(tc.err, "users:", path+":", 1))
			require.NotContains(t, err.Error(), "hunter22")
		})
	}
	u, err := server.ParseUsers("users", []byte("a:"+h+"\nb:"+h+":admin\nc:"+h+":apps=X, Y,X\n"))
	require.NoError(t, err)
	require.True(t, u.Principal("a").Admin())
	require.True(t, u.Principal("b").Admin())
	require.Equal(t, []string{"X", "Y"}, u.Principal("c").Apps)
}

// The spd form of the seed's YAML (formtemplate/testdata/seed-form.yaml)
// is served as it is: its Mangle output gets the spd generator.
func TestSeedYAMLForm(t *testing.T) {
	form, err := formtemplate.LoadYAMLFile(filepath.Join("..", "..", "..", "formtemplate", "testdata", "seed-form.yaml"))
	require.NoError(t, err)
	e := newEnv(t, openSQLite, server.Options{Forms: []server.NamedForm{{Name: "spd", Form: form}}})
	b := e.browser()
	csrf := b.login(adminUser, adminPass)
	ans := b.post("/forms/spd", spdAnswers(csrf, "spdsvc01", "RIVER_SPD", 2, "Yaml-Pw-1234"))
	require.Equal(t, http.StatusOK, ans.status, ans.body)
	cur, err := e.db.GetService(context.Background(), "spdsvc01")
	require.NoError(t, err)
	require.Contains(t, cur.EnvFile, "names = spdsvc01-pod2")
}

// Hostile requests to the pages: forged or oversized cookies and
// bodies, a user name with markup, basic auth (the pages take a session
// only), the JSON variant of the form with the token in a header.
func TestPagesHostile(t *testing.T) {
	e := newEnv(t, openSQLite, server.Options{})
	b := e.browser()
	// A forged session cookie is no session.
	u, err := url.Parse(e.srv.URL)
	require.NoError(t, err)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "collector_session", Value: "forged"}})
	require.Equal(t, http.StatusSeeOther, b.get("/services").status)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "collector_session", Value: strings.Repeat("A", 4000)}})
	require.Equal(t, http.StatusSeeOther, b.get("/services").status)
	// Basic auth opens the API, not the pages.
	req, err := http.NewRequest("GET", e.srv.URL+"/services", nil)
	require.NoError(t, err)
	req.SetBasicAuth(adminUser, adminPass)
	resp, err := b.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	// Markup as a user name comes back escaped.
	page := b.get("/login")
	ans := b.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {xss}, "password": {"x"}})
	require.Equal(t, http.StatusUnauthorized, ans.status)
	require.NotContains(t, ans.body, "<script")
	require.Contains(t, ans.body, `value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"`)
	// An oversized login body.
	page = b.get("/login")
	ans = b.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {adminUser}, "password": {strings.Repeat("p", 20<<10)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, ans.status)

	csrf := b.login(adminUser, adminPass)
	// An oversized form body.
	big := spdAnswers(csrf, "spdsvc01", "RIVER_SPD", 2, "pw")
	big.Set("nodes", strings.Repeat("spd01 ", 20000))
	ans = b.post("/forms/spd", big)
	require.Equal(t, http.StatusRequestEntityTooLarge, ans.status)
	// A program posts JSON answers with the token in a header.
	body := `{"svcname": "spdsvc01", "app": "RIVER_SPD", "npods": 2, "nodes": ["spd01", "spd02"], "myrootpwd": "Json-Pw-123"}`
	req, err = http.NewRequest("POST", e.srv.URL+"/forms/spd", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err = b.hc.Do(req)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	require.Contains(t, string(raw), `"location": "/services/spdsvc01"`)
	require.NotContains(t, string(raw), "Json-Pw-123")
	// The API with a browser's cached basic credentials, posted from
	// another site: refused, nothing queued.
	e.register("spd01")
	req, err = http.NewRequest("POST", e.api()+"/actions", strings.NewReader(`{"nodename":"spd01","argv":["nodemgr","pushasset"],"x":"="}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.SetBasicAuth(adminUser, adminPass)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	queued, err := e.db.Actions(context.Background(), "spd01", nil, 10)
	require.NoError(t, err)
	require.Empty(t, queued)
	// HEAD of a page: headers, no body.
	ans = b.do("HEAD", "/services", nil, nil)
	require.Equal(t, http.StatusOK, ans.status)
	require.Empty(t, ans.body)
}

// A user queues a command from a node's page: split into words, the
// node notified; out of scope, malformed or without the token, nothing
// is queued.
func TestEnqueueFromPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *server.DB) {
		e := newEnv(t, open, server.Options{NotifyPort: -1})
		ctx := context.Background()
		require.Equal(t, http.StatusOK, e.call("POST", "/register", aliceUser, adminPass, map[string]string{"nodename": "anode", "app": "RIVER_SPD"}, nil))
		require.Equal(t, http.StatusOK, e.call("POST", "/register", bobUser, adminPass, map[string]string{"nodename": "bnode", "app": "OTHER"}, nil))
		_, err := e.client(aliceUser, adminPass).Put(ctx, "alicesvc", []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = anode\n"), store.Absent)
		require.NoError(t, err)
		b := e.browser()
		b.login(aliceUser, adminPass)
		page := b.get("/nodes/anode")
		require.Contains(t, page.body, `<option value="alicesvc">alicesvc</option>`)
		csrf := token(t, page.body)
		ans := b.post("/nodes/anode/actions", url.Values{"csrf_token": {csrf}, "command": {`svcmgr -s alicesvc print status --format 'json'`}, "service": {"alicesvc"}})
		require.Equal(t, http.StatusSeeOther, ans.status, ans.body)
		as, err := e.db.Actions(ctx, "anode", nil, 10)
		require.NoError(t, err)
		require.Len(t, as, 1)
		require.Equal(t, []string{"svcmgr", "-s", "alicesvc", "print", "status", "--format", "json"}, as[0].Argv)
		require.Equal(t, "alicesvc", as[0].Service)
		require.Equal(t, aliceUser, as[0].CreatedBy)
		require.Equal(t, "/nodes/anode#action-"+strconv.FormatInt(as[0].ID, 10), ans.location)
		require.Contains(t, b.get("/nodes/anode").body, `<code>svcmgr -s alicesvc print status --format json </code>`)

		for _, tc := range []struct {
			name, node, command, service string
			status                       int
		}{
			{name: "another app's node", node: "bnode", command: "nodemgr pushasset", status: http.StatusNotFound},
			{name: "no such node", node: "cnode", command: "nodemgr pushasset", status: http.StatusNotFound},
			{name: "unbalanced quote", node: "anode", command: "nodemgr 'pushasset", status: http.StatusBadRequest},
			{name: "empty command", node: "anode", command: "  ", status: http.StatusBadRequest},
			{name: "not its service", node: "anode", command: "svcmgr -s x start", service: "bobsvc", status: http.StatusBadRequest},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ans := b.post("/nodes/"+tc.node+"/actions", url.Values{"csrf_token": {csrf}, "command": {tc.command}, "service": {tc.service}})
				require.Equal(t, tc.status, ans.status, ans.body)
			})
		}
		ans = b.post("/nodes/anode/actions", url.Values{"command": {"nodemgr pushasset"}})
		require.Equal(t, http.StatusForbidden, ans.status, "no token")
		as, err = e.db.Actions(ctx, "", nil, 10)
		require.NoError(t, err)
		require.Len(t, as, 1, "nothing else was queued")
	})
}

// Guessing a password: after MaxLoginFailures failures the login is
// refused, the right password too, until the failures age out.
func TestLoginThrottle(t *testing.T) {
	clk := newClock()
	e := newEnv(t, openSQLite, server.Options{Now: clk.Now})
	b := e.browser()
	try := func(pw string) int {
		page := b.get("/login")
		require.Equal(t, http.StatusOK, page.status)
		return b.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {aliceUser}, "password": {pw}}).status
	}
	for range server.MaxLoginFailures {
		require.Equal(t, http.StatusUnauthorized, try("guess"))
		clk.Add(time.Minute)
	}
	require.Equal(t, http.StatusTooManyRequests, try(adminPass))
	require.Equal(t, http.StatusSeeOther, func() int {
		other := e.browser()
		page := other.get("/login")
		return other.post("/login", url.Values{"csrf_token": {token(t, page.body)}, "username": {bobUser}, "password": {adminPass}}).status
	}(), "another user is not blocked")
	clk.Add(server.LoginFailureWindow - 4*time.Minute)
	require.Equal(t, http.StatusSeeOther, try(adminPass), "the oldest failures left the window")
}

// Forms the collector cannot serve: a bad or repeated name is skipped,
// a form without the service inputs answers why; the others work.
func TestBrokenForms(t *testing.T) {
	noSvc := &formtemplate.Form{Label: "no service", Inputs: []formtemplate.Input{{ID: "x", Type: formtemplate.String}},
		Outputs: []formtemplate.Output{{Name: "o", Template: "{{.x}}"}}}
	e := newEnv(t, openSQLite, server.Options{Forms: []server.NamedForm{
		server.SpdForm(), server.SpdForm(), {Name: "a b", Form: noSvc}, {Name: "{x}", Form: noSvc}, {Name: "nosvc", Form: noSvc},
	}})
	b := e.browser()
	b.login(adminUser, adminPass)
	require.Equal(t, http.StatusOK, b.get("/forms/spd").status)
	p := b.get("/forms/nosvc")
	require.Equal(t, http.StatusInternalServerError, p.status)
	require.Contains(t, p.body, "it needs the inputs svcname and app")
	list := b.get("/forms").body
	require.Equal(t, 1, strings.Count(list, `href="/forms/spd"`))
	require.NotContains(t, list, "a b")
	require.Contains(t, e.log.String(), "form not served")
}
