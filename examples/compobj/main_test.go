package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCompObj(t *testing.T) {
	root := t.TempDir()
	environ := []string{
		"SVCKIT_COMP_ROOT=" + root,
		"OSVC_COMP_SERVICES_SVC_NAME=spdsvc01",
		"OSVC_COMP_POD=pod01",
		"OSVC_COMP_SERVER_ID=34",
		`OSVC_COMP_X_FILE_DB={"path":"/%%ENV:SERVICES_SVC_NAME%%/%%ENV:POD%%/db/conf/spd.cnf","fmt":"server_id=%%ENV:SERVER_ID%%"}`,
		`OSVC_COMP_X_FILE_NA={"path":"/tmp/%%ENV:UNDEFINED%%","fmt":"x"}`,
		`OSVC_COMP_X_NODECONF=[{"key":"node.repopkg","op":"=","value":"https://repo.opensvc.com/"}]`,
	}
	ctx := context.Background()
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"/lib/com.opensvc/files.py", "OSVC_COMP_NOTHING", "check"}, 2},
		{[]string{"/lib/com.opensvc/files.py", "OSVC_COMP_X_FILE_NA", "check"}, 2},
		{[]string{"/lib/com.opensvc/files.py", "OSVC_COMP_X_FILE", "check"}, 1},
		{[]string{"/lib/com.opensvc/file.py", "OSVC_COMP_X_FILE", "fixable"}, 2},
		{[]string{"/lib/com.opensvc/files.py", "OSVC_COMP_X_FILE_DB", "fix"}, 0},
		{[]string{"/lib/com.opensvc/files.py", "OSVC_COMP_X_FILE_DB", "check"}, 0},
		{[]string{"/lib/com.opensvc/file.py", "OSVC_COMP_X_FILE", "check"}, 0}, // ok and n/a rules: ok
		{[]string{"compobj", "nodeconf", "OSVC_COMP_X_NODECONF", "check"}, 1},
		{[]string{"compobj", "nodeconf.py", "OSVC_COMP_X_NODECONF", "fix"}, 0},
		{[]string{"/x/nodeconf.py", "OSVC_COMP_X_NODECONF", "check"}, 0},
		{[]string{"/x/files.py", "OSVC_COMP_X_FILE"}, 1},
		{[]string{"/x/files.py", "OSVC_COMP_X_FILE", "frob"}, 1},
		{[]string{"compobj", "bogus", "P", "check"}, 1},
		{[]string{"/x/sysctl.py", "OSVC_COMP_X_FILE_DB", "check"}, 1}, // a file rule is not a sysctl rule
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, run(ctx, tt.args, environ), "%v", tt.args)
	}
	b, err := os.ReadFile(filepath.Join(root, "spdsvc01/pod01/db/conf/spd.cnf"))
	require.NoError(t, err)
	require.Equal(t, "server_id=34\n", string(b))
}

// TestCompObjRoot: the paths compobj reads from its environment, the rules'
// and node.conf's, stay inside SVCKIT_COMP_ROOT, symbolic links included.
func TestCompObjRoot(t *testing.T) {
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "elsewhere")
	require.NoError(t, os.MkdirAll(root, 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	const sentinel = "[node]\nrepopkg = SENTINEL\n"
	require.NoError(t, os.WriteFile(filepath.Join(outside, "node.conf"), []byte(sentinel), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc")))
	tests := []struct {
		name    string
		environ []string
		args    []string
	}{
		{"file rule through a link", []string{`OSVC_COMP_F={"path":"/etc/node.conf","fmt":"x"}`}, []string{"compobj", "file", "OSVC_COMP_F", "fix"}},
		{"node.conf through a link", []string{`OSVC_COMP_N={"key":"node.repopkg","op":"=","value":"x"}`}, []string{"compobj", "nodeconf", "OSVC_COMP_N", "fix"}},
		{"node.conf climbing out", []string{"SVCKIT_COMP_NODECONF=/../elsewhere/node.conf", `OSVC_COMP_N={"key":"node.repopkg","op":"=","value":"x"}`}, []string{"compobj", "nodeconf", "OSVC_COMP_N", "fix"}},
		{"node.conf relative", []string{"SVCKIT_COMP_NODECONF=../elsewhere/node.conf", `OSVC_COMP_N={"key":"node.repopkg","op":"=","value":"x"}`}, []string{"compobj", "nodeconf", "OSVC_COMP_N", "fix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			environ := append([]string{"SVCKIT_COMP_ROOT=" + root}, tt.environ...)
			require.Equal(t, 1, run(context.Background(), tt.args, environ))
			b, err := os.ReadFile(filepath.Join(outside, "node.conf"))
			require.NoError(t, err)
			require.Equal(t, sentinel, string(b))
			ents, err := os.ReadDir(outside)
			require.NoError(t, err)
			require.Len(t, ents, 1)
		})
	}
}
