package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/compliancetest"
)

// The allow-list, word by word: what runs and with which arguments,
// and what is refused.
func TestAllowed(t *testing.T) {
	ok := []struct {
		argv []string
		svc  string
		want string
	}{
		{[]string{"svcmgr", "-s", "spdsvc01", "start"}, "", "svcmgr -s spdsvc01 start"},
		{[]string{"svcmgr", "-s", "spdsvc01", "print", "status", "--format", "json"}, "spdsvc01", "svcmgr -s spdsvc01 print status --format json"},
		{[]string{"svcmgr", "-s", "spdsvc01", "compliance", "fix", "--moduleset", "spdc.svc,spdc.x", "--dry-run"}, "", "svcmgr -s spdsvc01 compliance fix --moduleset spdc.svc,spdc.x --dry-run"},
		{[]string{"nodemgr", "compliance", "check", "--module", "spdc.kernel"}, "", "nodemgr compliance check --module spdc.kernel"},
		{[]string{"nodemgr", "pushasset"}, "", "nodemgr pushasset"},
		{[]string{"nodemgr", "pushpkg"}, "", "nodemgr pushpkg"},
	}
	for _, tc := range ok {
		prog, args, err := allowed(queuedAction{Argv: tc.argv, Service: tc.svc})
		require.NoError(t, err, tc.argv)
		require.Equal(t, tc.want, prog+" "+strings.Join(args, " "))
	}
	refused := []struct {
		argv   []string
		svc    string
		reason string
	}{
		{nil, "", "empty command"},
		{[]string{"sh", "-c", "id"}, "", `program "sh"`},
		{[]string{"/usr/bin/svcmgr", "-s", "a", "start"}, "", "expected svcmgr or nodemgr"},
		{[]string{"svcmgr", "-s", "a;rm -rf /", "start"}, "", "svcmgr -s"},
		{[]string{"svcmgr", "-s", "$(id)", "start"}, "", "svcmgr -s"},
		{[]string{"svcmgr", "start"}, "", "expected svcmgr -s SVC VERB"},
		{[]string{"svcmgr", "-s", "a", "unprovision"}, "", "not allowed"},
		{[]string{"svcmgr", "-s", "a", "docker", "run", "x"}, "", "not allowed"},
		{[]string{"svcmgr", "-s", "a", "start", "--rid", "fs#1"}, "", `option "--rid"`},
		{[]string{"svcmgr", "-s", "a", "start", "--root", "/"}, "", `option "--root"`},
		{[]string{"svcmgr", "-s", "a", "start"}, "b", "for service b"},
		{[]string{"svcmgr", "-s", "a", "compliance", "check", "--rules", "/etc/shadow"}, "", `option "--rules"`},
		{[]string{"svcmgr", "-s", "a", "compliance", "check", "--moduleset", "../x"}, "", "expected names"},
		{[]string{"svcmgr", "-s", "a", "compliance", "check", "--moduleset", "x`id`"}, "", "expected names"},
		{[]string{"svcmgr", "-s", "a", "compliance", "check", "--moduleset"}, "", "needs a value"},
		{[]string{"svcmgr", "-s", "a", "print", "status", "--format", "yaml"}, "", "expected text or json"},
		{[]string{"nodemgr", "set", "--param", "node.x", "--value", "y"}, "", "not allowed"},
		{[]string{"nodemgr", "dequeue", "actions"}, "", "not allowed"},
		{[]string{"nodemgr", "register", "--collector", "http://evil/"}, "", "not allowed"},
		{[]string{"nodemgr", "--root", "/", "pushasset"}, "", "not allowed"},
		{[]string{"nodemgr", "pushasset", "&&", "reboot"}, "", `option "&&"`},
		{[]string{"nodemgr", "pushasset"}, "svc1", "runs svcmgr"},
	}
	for _, tc := range refused {
		_, _, err := allowed(queuedAction{Argv: tc.argv, Service: tc.svc})
		require.Error(t, err, tc.argv)
		require.ErrorContains(t, err, tc.reason, tc.argv)
	}
}

func TestCappedBuffer(t *testing.T) {
	c := &cappedBuffer{max: 4}
	n, err := c.Write([]byte("abcdef"))
	require.NoError(t, err)
	require.Equal(t, 6, n, "the writer never fails the command")
	c.Write([]byte("gh"))
	require.Equal(t, "abcd\n[4 more bytes dropped]", c.String())
}

// goBuild builds a command of this repository into dir.
func goBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// admin does one JSON request to the collector as the admin user.
func admin(t *testing.T, api, method, path string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, api+path, rd)
	require.NoError(t, err)
	req.SetBasicAuth("admin", "Adm1n-pw")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out), string(raw))
	}
	return resp.StatusCode
}

type reportedAction struct {
	ID       int64    `json:"id"`
	Argv     []string `json:"argv"`
	Status   string   `json:"status"`
	ExitCode *int     `json:"exit_code"`
	Output   string   `json:"output"`
	Reason   string   `json:"reason"`
}

// The node against a real collector, every part a real process on
// loopback: register, pushasset, pushpkg, then actions enqueued by a
// user, the notification on the node's socket, nodemgr dequeue actions
// started as a socket unit would (the connection's bytes on stdin),
// the allowed action run and the others refused, all reported.
func TestCollectorEndToEnd(t *testing.T) {
	bin := t.TempDir()
	collector := goBuild(t, bin, "collector", "github.com/svckit/svckit/examples/collector")
	nodemgrBin := goBuild(t, bin, "nodemgr", "github.com/svckit/svckit/examples/nodemgr")
	goBuild(t, bin, "svcmgr", "github.com/svckit/svckit/examples/svcmgr")

	dir := t.TempDir()
	pw := filepath.Join(dir, "admin.pw")
	require.NoError(t, os.WriteFile(pw, []byte("Adm1n-pw\n"), 0o600))
	cmd := exec.Command(collector, "passwd", "admin")
	cmd.Stdin = strings.NewReader("Adm1n-pw\n")
	line, err := cmd.Output()
	require.NoError(t, err)
	users := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(users, line, 0o600))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	var logs bytes.Buffer
	srv := exec.Command(collector, "-addr", addr, "-data", filepath.Join(dir, "data"), "-users", users)
	srv.Stderr = &logs
	require.NoError(t, srv.Start())
	t.Cleanup(func() { srv.Process.Signal(os.Interrupt); srv.Wait() })
	api := "http://" + addr + "/init/rest/api"
	require.Eventually(t, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 20*time.Second, 50*time.Millisecond)

	// The node's "socket unit": the collector's notifications land here.
	sock, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer sock.Close()

	root := compliancetest.DebianRoot(t, "[node]\nteam_responsible = OpenSVC\n")
	require.NoError(t, os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"),
		[]byte("Package: systemd\nStatus: install ok installed\nVersion: 252.30-1\nArchitecture: amd64\n\n"), 0o644))
	node := func(stdin io.Reader, args ...string) (int, string) {
		t.Helper()
		c := exec.Command(nodemgrBin, append([]string{"--root", root, "--node", "spd01"}, args...)...)
		c.Stdin = stdin
		out, err := c.CombinedOutput()
		var ee *exec.ExitError
		if err != nil {
			require.ErrorAs(t, err, &ee, string(out))
			return ee.ExitCode(), string(out)
		}
		return 0, string(out)
	}

	code, out := node(nil, "register", "--collector", "http://"+addr, "--app", "RIVER_SPD", "--user", "admin", "--password-file", pw, "--notify-addr", sock.Addr().String())
	require.Equal(t, 0, code, out)
	conf, err := os.ReadFile(filepath.Join(root, "etc/node.conf"))
	require.NoError(t, err)
	require.Regexp(t, `dbopensvc\s+= `+regexp.QuoteMeta(api)+"\n", string(conf))
	require.Regexp(t, `uuid\s+= [0-9a-f-]{36}`, string(conf))
	require.NotContains(t, string(conf), "Adm1n-pw")
	code, out = node(nil, "print", "config")
	require.Equal(t, 0, code, out)
	require.Regexp(t, `uuid\s+= xxxx\n`, out, "the uuid is the node's password")
	require.NotRegexp(t, `[0-9a-f]{8}-[0-9a-f]{4}`, out)
	code, out = node(nil, "get", "--param", "node.uuid")
	require.Equal(t, 0, code, out)
	require.Equal(t, "xxxx\n", out)

	code, out = node(nil, "pushasset")
	require.Equal(t, 0, code, out)
	code, out = node(nil, "pushpkg")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "packages of spd01 sent: 1")
	var facts struct {
		Data struct {
			Node     map[string]string `json:"node"`
			Packages []struct {
				Name string `json:"pkg_name"`
			} `json:"packages"`
		} `json:"data"`
	}
	require.Equal(t, http.StatusOK, admin(t, api, "GET", "/nodes/spd01/facts", nil, &facts))
	require.Equal(t, "Debian", facts.Data.Node["os_vendor"])
	require.Equal(t, "OpenSVC", facts.Data.Node["team_responsible"])
	require.NotContains(t, facts.Data.Node, "uuid", "the uuid is never pushed as an asset")
	require.Len(t, facts.Data.Packages, 1)
	require.Equal(t, "systemd", facts.Data.Packages[0].Name)

	// The node's effective rules come from the collector (--rules URL):
	// the seed's node export imported, a moduleset attached, and the
	// filtersets evaluated on what the node pushed (systemd, no SunOS).
	export, err := os.ReadFile("../../compliance/testdata/spdc-node.json")
	require.NoError(t, err)
	var exportDoc any
	require.NoError(t, json.Unmarshal(export, &exportDoc))
	require.Equal(t, http.StatusOK, admin(t, api, "POST", "/compliance/import", exportDoc, nil))
	const listener = "com.opensvc.sys.opensvc.dequeue-actions-listener"
	require.Equal(t, http.StatusOK, admin(t, api, "POST", "/compliance/nodes/spd01/modulesets", map[string]any{"modulesets": []string{listener}}, nil))
	code, out = node(nil, "compliance", "show", "--rules", api+"/compliance/nodes/self/rules", "--format", "json")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, listener)
	require.Contains(t, out, listener+".systemd", "servers with systemd: spd01 pushed systemd")
	require.NotContains(t, out, listener+".smf", "the Solaris filterset does not hold spd01")
	// Another node's rules are not this node's to read.
	code, out = node(nil, "compliance", "show", "--rules", api+"/compliance/nodes/spd02/rules")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "403")
	// A rules URL on another server never gets the node's uuid.
	var gotAuth []string
	var authMu sync.Mutex
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authMu.Lock()
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		authMu.Unlock()
		w.Write(export)
	}))
	defer elsewhere.Close()
	code, out = node(nil, "compliance", "show", "--rules", elsewhere.URL+"/rules.json")
	require.Equal(t, 0, code, out)
	authMu.Lock()
	require.Equal(t, []string{""}, gotAuth, "no credentials sent to another origin")
	authMu.Unlock()
	// Bad rules URLs are errors naming the URL, never its password.
	code, out = node(nil, "compliance", "show", "--rules", "http://u:S3cret-x@127.0.0.1:1/rules")
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "S3cret-x")
	code, out = node(nil, "compliance", "show", "--rules", api+"/services/none")
	require.Equal(t, 1, code, out)

	// Enqueue: one allowed (it pushes the asset again, through the
	// collector), one allowed that fails, three refused.
	argvs := [][]string{
		{"nodemgr", "pushpkg"},
		{"svcmgr", "-s", "nosuchsvc", "print", "status"},
		{"sh", "-c", "touch " + filepath.Join(dir, "pwned")},
		{"svcmgr", "-s", "x;touch " + filepath.Join(dir, "pwned"), "start"},
		{"nodemgr", "set", "--param", "node.dbopensvc", "--value", "http://evil/"},
	}
	for _, a := range argvs {
		require.Equal(t, http.StatusOK, admin(t, api, "POST", "/actions", map[string]any{"nodename": "spd01", "argv": a}, nil))
	}
	// The notification arrives; the "socket unit" starts the dequeue
	// with the connection as stdin (its bytes are ignored).
	require.NoError(t, sock.(*net.TCPListener).SetDeadline(time.Now().Add(10*time.Second)))
	conn, err := sock.Accept()
	require.NoError(t, err)
	conn.Close()
	code, out = node(strings.NewReader("nodemgr set --param node.uuid --value x\n"), "dequeue", "actions", "--timeout", "1m")
	require.Equal(t, 0, code, out)
	for i := range argvs {
		require.Contains(t, out, fmt.Sprintf("action %d ", i+1))
	}

	var list struct {
		Data []reportedAction `json:"data"`
	}
	require.Equal(t, http.StatusOK, admin(t, api, "GET", "/actions?node=spd01", nil, &list))
	require.Len(t, list.Data, len(argvs))
	byID := map[int64]reportedAction{}
	for _, a := range list.Data {
		require.NotNil(t, a.ExitCode, a)
		byID[a.ID] = a
	}
	require.Equal(t, "done", byID[1].Status)
	require.Equal(t, 0, *byID[1].ExitCode, byID[1].Output)
	require.Contains(t, byID[1].Output, "packages of spd01 sent: 1")
	require.Equal(t, "done", byID[2].Status)
	require.NotEqual(t, 0, *byID[2].ExitCode, "svcmgr ran and failed: no such service")
	for _, id := range []int64{3, 4, 5} {
		require.Equal(t, "refused", byID[id].Status, byID[id])
		require.Equal(t, exitRefused, *byID[id].ExitCode)
		require.NotEmpty(t, byID[id].Reason)
	}
	require.NoFileExists(t, filepath.Join(dir, "pwned"))
	conf2, err := os.ReadFile(filepath.Join(root, "etc/node.conf"))
	require.NoError(t, err)
	require.Equal(t, string(conf), string(conf2), "stdin and the refused set changed nothing")

	// Nothing left: a second run claims nothing.
	code, out = node(nil, "dequeue", "actions")
	require.Equal(t, 0, code, out)
	require.Empty(t, strings.TrimSpace(out))
	require.NotContains(t, logs.String(), "Adm1n-pw")

	// Two notifications start two dequeues at once: each action runs
	// once, in one of them.
	const n = 6
	for range n {
		require.Equal(t, http.StatusOK, admin(t, api, "POST", "/actions", map[string]any{"nodename": "spd01", "argv": []string{"nodemgr", "pushasset"}}, nil))
	}
	outs := make([]string, 2)
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := exec.Command(nodemgrBin, "--root", root, "--node", "spd01", "dequeue", "actions")
			b, err := c.CombinedOutput()
			outs[i] = string(b)
			if err != nil {
				codes[i] = 1
			}
		}()
	}
	wg.Wait()
	require.Equal(t, []int{0, 0}, codes, outs)
	all := outs[0] + outs[1]
	for id := len(argvs) + 1; id <= len(argvs)+n; id++ {
		require.Equal(t, 1, strings.Count(all, fmt.Sprintf("action %d (nodemgr pushasset): done, exit 0", id)), all)
	}
}

// Without registration the collector commands say what to do.
func TestCollectorCommandsUnregistered(t *testing.T) {
	root := t.TempDir()
	for _, args := range [][]string{{"pushasset"}, {"pushpkg"}, {"dequeue", "actions"}} {
		code, _, stderr := nodemgr(append([]string{"--root", root, "--node", "spd01"}, args...)...)
		require.Equal(t, 1, code, args)
		require.Contains(t, stderr, "nodemgr register --collector URL")
	}
	code, _, stderr := nodemgr("--root", root, "--node", "spd01", "register")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "--collector URL is required")
	code, _, stderr = nodemgr("--root", root, "--node", "spd01", "register", "--collector", "ftp://x")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "expected http(s)://")
	code, _, stderr = nodemgr("--root", root, "--node", "spd01", "register", "--collector", "http://127.0.0.1:1", "--user", "u")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "go together")
	code, _, stderr = nodemgr("--root", root, "--node", "spd01", "dequeue")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "expected dequeue actions")
}

// An allowed action that hangs is killed at --timeout; one that floods
// its output is cut at maxOutput; neither reads stdin.
func TestRunActionBounds(t *testing.T) {
	dir := t.TempDir()
	hang := filepath.Join(dir, "hang")
	require.NoError(t, os.WriteFile(hang, []byte("#!/bin/sh\nsleep 30\n"), 0o755))
	flood := filepath.Join(dir, "flood")
	require.NoError(t, os.WriteFile(flood, []byte("#!/bin/sh\nread x && echo read-stdin\nhead -c 300000 /dev/zero | tr '\\0' a\nexit 3\n"), 0o755))
	g := &globals{root: dir, node: "spd01"}
	a := queuedAction{ID: 1, Argv: []string{"nodemgr", "pushasset"}}

	start := time.Now()
	res := g.runAction(t.Context(), a, map[string]string{"nodemgr": hang}, 300*time.Millisecond)
	require.Equal(t, exitTimeout, res["exit_code"])
	require.Contains(t, res["reason"], "killed after --timeout")
	t.Logf("hung action reported after %v", time.Since(start))

	res = g.runAction(t.Context(), a, map[string]string{"nodemgr": flood}, time.Minute)
	require.Equal(t, 3, res["exit_code"])
	out := res["output"].(string)
	require.NotContains(t, out, "read-stdin")
	require.LessOrEqual(t, len(out), maxOutput+64)
	require.Contains(t, out, "more bytes dropped")

	res = g.runAction(t.Context(), a, map[string]string{"nodemgr": filepath.Join(dir, "missing")}, time.Minute)
	require.Equal(t, exitNotFound, res["exit_code"])
}

// The uuid register stores is the node's password: compliance modules
// never get it in their environment.
func TestUUIDNotInModuleEnv(t *testing.T) {
	root := compliancetest.DebianRoot(t, "[node]\nuuid = 0e705209-7467-48c5-9c30-818bcfc84bc3\nteam_responsible = OpenSVC\n")
	code, out, stderr := nodemgr("--root", root, "--node", "spd01", "compliance", "show", "--rules", rules, "--moduleset", "spdc.node", "--format", "json")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, out, "OSVC_COMP_NODES_TEAM_RESPONSIBLE")
	require.NotContains(t, out, "0e705209")
}
