package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
)

const nodeConf = `# node configuration, kept by nodemgr set
[node]
; where modules come from
repo = https://old.example.com/
db_password = hunter2pass

[compliance]
schedule = 00:00-06:00@60
`

func confRoot(t *testing.T) (string, string) {
	t.Helper()
	root := t.TempDir()
	path := filepath.Join(root, "etc/node.conf")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(nodeConf), 0o640))
	return root, path
}

func TestNodeConfSetGetUnset(t *testing.T) {
	root, path := confRoot(t)
	code, out, errs := nodemgr("--root", root, "set", "--param", "node.repocomp", "--value", "https://repo.opensvc.com/compliance/")
	require.Equal(t, 0, code, errs)
	require.Empty(t, out)
	code, out, errs = nodemgr("--root", root, "get", "--param", "node.repocomp")
	require.Equal(t, 0, code, errs)
	require.Equal(t, "https://repo.opensvc.com/compliance/\n", out)

	// Comments, order, other keys and the mode are kept.
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(b)
	for _, want := range []string{"# node configuration, kept by nodemgr set\n[node]\n; where modules come from\nrepo", "hunter2pass", "[compliance]", "00:00-06:00@60"} {
		require.Contains(t, s, want)
	}
	require.Less(t, strings.Index(s, "repo "), strings.Index(s, "repocomp"))
	require.Less(t, strings.Index(s, "repocomp"), strings.Index(s, "[compliance]"))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())

	// A value with an inline-comment look-alike survives.
	code, _, errs = nodemgr("--root", root, "set", "--param", "stats.note", "--value", "a #b ;c")
	require.Equal(t, 0, code, errs)
	_, out, _ = nodemgr("--root", root, "get", "--param", "stats.note")
	require.Equal(t, "a #b ;c\n", out)

	// The nodeconf checker (through the facts) reads what set wrote.
	facts, err := compliance.GatherFacts(context.Background(), compliance.FactsOptions{Root: root, Nodename: "spd01"})
	require.NoError(t, err)
	require.Equal(t, "https://repo.opensvc.com/compliance/", facts.Node["repocomp"])

	code, _, errs = nodemgr("--root", root, "unset", "--param", "node.repo")
	require.Equal(t, 0, code, errs)
	code, _, errs = nodemgr("--root", root, "get", "--param", "node.repo")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "node.repo is not set in "+path)
	code, _, errs = nodemgr("--root", root, "unset", "--param", "node.repo")
	require.Equal(t, 0, code, "unsetting an unset key: %s", errs)
	code, _, errs = nodemgr("--root", root, "unset", "--param", "nosection.key")
	require.Equal(t, 0, code, errs)
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(b), "nosection")
	require.NotContains(t, string(b), "old.example.com")
}

func TestNodeConfNewFile(t *testing.T) {
	root := t.TempDir()
	code, _, errs := nodemgr("--root", root, "set", "--param", "node.repocomp", "--value", "https://r/")
	require.Equal(t, 0, code, errs)
	fi, err := os.Stat(filepath.Join(root, "etc/node.conf"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a new node.conf may hold credentials")
	code, out, _ := nodemgr("--root", root, "print", "config")
	require.Equal(t, 0, code)
	require.Equal(t, "[node]\nrepocomp = https://r/\n", out)
}

func TestNodeConfUsage(t *testing.T) {
	root, path := confRoot(t)
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"set", "--param", "repocomp", "--value", "x"}, `--param: key "repocomp", expected section.option like node.repocomp`},
		{[]string{"set", "--param", "node.", "--value", "x"}, "expected section.option"},
		{[]string{"set", "--param", ".x", "--value", "x"}, "expected section.option"},
		{[]string{"set", "--param", "node.a b", "--value", "x"}, "expected section.option"},
		{[]string{"set", "--param", "node.x\n[evil]", "--value", "x"}, "expected section.option"},
		{[]string{"set", "--value", "x"}, "--param is required: SECTION.KEY"},
		{[]string{"set", "--param", "node.x"}, "--value is required"},
		{[]string{"set", "--param", "node.x", "--value", "a\n[evil]\nk = v"}, "control character"},
		{[]string{"set", "--param", "node.x", "--value", " padded "}, "would not read back the same"},
		{[]string{"get", "--param", "node"}, "expected section.option"},
		{[]string{"unset", "--param", "x"}, "expected section.option"},
		{[]string{"get", "--param", "node.repo", "extra"}, "unexpected argument"},
		{[]string{"print"}, "expected print config"},
		{[]string{"print", "status"}, `unknown object "status"`},
		{[]string{"print", "config", "--format", "yaml"}, `--format "yaml"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errs := nodemgr(append([]string{"--root", root}, tt.args...)...)
			require.Equal(t, 2, code, errs)
			require.Contains(t, errs, tt.msg)
		})
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, nodeConf, string(b), "a refused command changes nothing")
}

func TestNodeConfPrintRedacts(t *testing.T) {
	root, _ := confRoot(t)
	code, _, errs := nodemgr("--root", root, "set", "--param", "credentials.api_token", "--value", "tok-ABCDEF-123")
	require.Equal(t, 0, code, errs)
	code, out, errs := nodemgr("--root", root, "print", "config")
	require.Equal(t, 0, code, errs)
	require.NotContains(t, out, "hunter2pass")
	require.NotContains(t, out, "tok-ABCDEF-123")
	require.Contains(t, out, "db_password = xxxx")
	require.Contains(t, out, "; where modules come from")
	require.Contains(t, out, "schedule = 00:00-06:00@60")

	code, out, errs = nodemgr("--root", root, "print", "config", "--format", "json")
	require.Equal(t, 0, code, errs)
	var m map[string]map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	require.Equal(t, "xxxx", m["node"]["db_password"])
	require.Equal(t, "xxxx", m["credentials"]["api_token"])
	require.Equal(t, "https://old.example.com/", m["node"]["repo"])

	_, out, _ = nodemgr("--root", root, "get", "--param", "node.db_password")
	require.Equal(t, "xxxx\n", out)
	_, out, _ = nodemgr("--root", root, "get", "--param", "node.db_password", "--show-secrets")
	require.Equal(t, "hunter2pass\n", out)
	_, out, _ = nodemgr("--root", root, "print", "config", "--show-secrets")
	require.Contains(t, out, "hunter2pass")
}

func TestNodeConfBadFile(t *testing.T) {
	root, path := confRoot(t)
	require.NoError(t, os.WriteFile(path, []byte("[node\nrepo = x\n"), 0o644))
	code, _, errs := nodemgr("--root", root, "set", "--param", "node.a", "--value", "b")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "/etc/node.conf")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "[node\nrepo = x\n", string(b), "an unreadable file is not overwritten")

	// A link out of the root is not followed.
	outside := filepath.Join(t.TempDir(), "node.conf")
	require.NoError(t, os.WriteFile(outside, []byte("[node]\nrepo = outside\n"), 0o644))
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Symlink(outside, path))
	code, _, _ = nodemgr("--root", root, "get", "--param", "node.repo")
	require.Equal(t, 1, code)
	code, _, _ = nodemgr("--root", root, "set", "--param", "node.repo", "--value", "x")
	require.Equal(t, 1, code)
	b, err = os.ReadFile(outside)
	require.NoError(t, err)
	require.Equal(t, "[node]\nrepo = outside\n", string(b))
}

// TestNodeConfConcurrentSet runs nodemgr set many times at once on
// distinct keys: none is lost.
func TestNodeConfConcurrentSet(t *testing.T) {
	root, _ := confRoot(t)
	const n = 16
	var wg sync.WaitGroup
	codes := make(chan string, n)
	for i := range n {
		wg.Go(func() {
			code, _, errs := nodemgr("--root", root, "set", "--param", fmt.Sprintf("node.k%02d", i), "--value", fmt.Sprint(i))
			if code != 0 {
				codes <- errs
			}
		})
	}
	wg.Wait()
	close(codes)
	for errs := range codes {
		require.Fail(t, errs)
	}
	code, out, _ := nodemgr("--root", root, "print", "config", "--format", "json")
	require.Equal(t, 0, code)
	var m map[string]map[string]string
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	for i := range n {
		require.Equal(t, fmt.Sprint(i), m["node"][fmt.Sprintf("k%02d", i)], "set %d lost", i)
	}
	require.Equal(t, "https://old.example.com/", m["node"]["repo"])
}
