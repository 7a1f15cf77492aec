package checker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/compliance/compliancetest"
)

func newEnv(t *testing.T, vars map[string]string) (*checker.Env, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	clock := time.Date(2026, 3, 3, 15, 56, 22, 0, time.UTC)
	env := &checker.Env{
		Root:     t.TempDir(),
		Hostname: "spd03.example.com",
		Lookup: func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		},
		Out: &out,
		Now: func() time.Time { clock = clock.Add(time.Second); return clock },
	}
	t.Cleanup(func() { require.NoError(t, env.Close()) })
	return env, &out
}

func fileVar(t *testing.T, name string, rule map[string]any) checker.Var {
	t.Helper()
	b, err := json.Marshal(rule)
	require.NoError(t, err)
	return checker.Var{Name: name, Value: string(b)}
}

func run(t *testing.T, class string, env *checker.Env, action string, vars ...checker.Var) checker.Status {
	t.Helper()
	o, err := checker.NewObject(class, vars)
	require.NoError(t, err)
	s, err := checker.Run(context.Background(), o, env, action)
	require.NoError(t, err)
	return s
}

func TestFileCreate(t *testing.T) {
	compliancetest.RequireRoot(t) // chown to 999
	env, out := newEnv(t, map[string]string{"OSVC_COMP_SERVER_ID": "34", "POD": "pod01"})
	v := fileVar(t, "OSVC_COMP_DB_CNF", map[string]any{
		"path": "/srv/%%ENV:POD%%/conf/spd.cnf", "fmt": "server_id=%%ENV:SERVER_ID%%\nhost=%%SHORT_HOSTNAME%% (%%HOSTNAME%%)",
		"mode": 640, "uid": 999, "gid": "999",
	})
	require.Equal(t, checker.NOK, run(t, "file", env, "check", v))
	require.Contains(t, out.String(), "file /srv/pod01/conf/spd.cnf does not exist")
	require.Equal(t, checker.NA, run(t, "file", env, "fixable", v))
	require.Equal(t, checker.OK, run(t, "file", env, "fix", v))

	p := filepath.Join(env.Root, "srv/pod01/conf/spd.cnf")
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "server_id=34\nhost=spd03 (spd03.example.com)\n", string(b))
	fi, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	st := fi.Sys().(*syscall.Stat_t)
	require.Equal(t, [2]uint32{999, 999}, [2]uint32{st.Uid, st.Gid})
	out.Reset()
	require.Equal(t, checker.OK, run(t, "file", env, "check", v))
	require.Contains(t, out.String(), "is conform")
}

func TestFileContentModeOwner(t *testing.T) {
	env, out := newEnv(t, nil)
	p := filepath.Join(env.Root, "etc/app.conf")
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte("a=1\nb=2\n"), 0o600))
	v := fileVar(t, "app", map[string]any{"path": "/etc/app.conf", "fmt": "a=1\nb=3\n", "mode": "0644"})

	require.Equal(t, checker.NOK, run(t, "file", env, "check", v))
	require.Contains(t, out.String(), "-b=2\n")
	require.Contains(t, out.String(), "+b=3\n")
	require.Contains(t, out.String(), "mode is 0600, target 0644")

	require.Equal(t, checker.OK, run(t, "file", env, "fix", v))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	require.Equal(t, "a=1\nb=3\n", string(b))
	backups, err := filepath.Glob(filepath.Join(env.Root, "var/compliance/backup/etc/app.conf.*"))
	require.NoError(t, err)
	require.Len(t, backups, 1)
	old, err := os.ReadFile(backups[0])
	require.NoError(t, err)
	require.Equal(t, "a=1\nb=2\n", string(old))

	// Mode only: fixed in place, no rewrite, no new backup.
	require.NoError(t, os.Chmod(p, 0o666))
	before, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, checker.NOK, run(t, "file", env, "check", v))
	require.Equal(t, checker.OK, run(t, "file", env, "fix", v))
	after, err := os.Stat(p)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o644), after.Mode().Perm())
	require.True(t, os.SameFile(before, after))
	backups, err = filepath.Glob(filepath.Join(env.Root, "var/compliance/backup/etc/app.conf.*"))
	require.NoError(t, err)
	require.Len(t, backups, 1)
	require.Equal(t, checker.OK, run(t, "file", env, "check", v))
}

func TestFileRules(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/motd" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("welcome\n"))
	}))
	defer srv.Close()

	tests := []struct {
		name       string
		vars       map[string]string
		varName    string
		rule       map[string]any
		setup      func(t *testing.T, root string)
		check, fix checker.Status
		out        string
		after      func(t *testing.T, root string)
	}{
		{name: "undefined variable is n/a", rule: map[string]any{"path": "/etc/%%ENV:NOPE%%", "fmt": "x"},
			check: checker.NA, fix: checker.NA, out: "variable NOPE is not defined (nor OSVC_COMP_NOPE)"},
		{name: "variable from OSVC_COMP_", vars: map[string]string{"OSVC_COMP_DIR": "etc"}, rule: map[string]any{"path": "/%%ENV:DIR%%/x", "fmt": "x"},
			check: checker.NOK, fix: checker.OK, after: func(t *testing.T, root string) { require.FileExists(t, filepath.Join(root, "etc/x")) }},
		{name: "directory", rule: map[string]any{"path": "/var/lib/app/", "mode": 750},
			check: checker.NOK, fix: checker.OK,
			after: func(t *testing.T, root string) {
				fi, err := os.Stat(filepath.Join(root, "var/lib/app"))
				require.NoError(t, err)
				require.True(t, fi.IsDir())
				require.Equal(t, os.FileMode(0o750), fi.Mode().Perm())
			}},
		{name: "never replaces a directory by a file", rule: map[string]any{"path": "/data", "fmt": "x"},
			setup: func(t *testing.T, root string) {
				require.NoError(t, os.MkdirAll(filepath.Join(root, "data/keep"), 0o755))
			},
			check: checker.NOK, fix: checker.NOK, out: "refusing to replace a directory by a file",
			after: func(t *testing.T, root string) { require.DirExists(t, filepath.Join(root, "data/keep")) }},
		{name: "never replaces a symlink", rule: map[string]any{"path": "/etc/resolv.conf", "fmt": "nameserver 10.0.0.1"},
			setup: func(t *testing.T, root string) {
				require.NoError(t, os.MkdirAll(filepath.Join(root, "run"), 0o755))
				require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, "run/resolv.conf"), []byte("nameserver 127.0.0.53\n"), 0o644))
				require.NoError(t, os.Symlink("../run/resolv.conf", filepath.Join(root, "etc/resolv.conf")))
			},
			check: checker.NOK, fix: checker.NOK, out: "is a symlink, expected a regular file",
			after: func(t *testing.T, root string) {
				target, err := os.Readlink(filepath.Join(root, "etc/resolv.conf"))
				require.NoError(t, err)
				require.Equal(t, "../run/resolv.conf", target)
			}},
		{name: "ref over http", rule: map[string]any{"path": "/etc/motd", "ref": srv.URL + "/motd"},
			check: checker.NOK, fix: checker.OK,
			after: func(t *testing.T, root string) {
				b, err := os.ReadFile(filepath.Join(root, "etc/motd"))
				require.NoError(t, err)
				require.Equal(t, "welcome\n", string(b))
			}},
		{name: "ref 404", rule: map[string]any{"path": "/etc/motd", "ref": srv.URL + "/nope"}, check: checker.NOK, fix: checker.NOK, out: "404"},
		{name: "ref file under root", rule: map[string]any{"path": "/etc/b", "ref": "file:///etc/a"},
			setup: func(t *testing.T, root string) {
				require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, "etc/a"), []byte("from a"), 0o644))
			},
			check: checker.NOK, fix: checker.OK,
			after: func(t *testing.T, root string) {
				b, err := os.ReadFile(filepath.Join(root, "etc/b"))
				require.NoError(t, err)
				require.Equal(t, "from a", string(b))
			}},
		{name: "secret content is not shown", varName: "OSVC_COMP_DB_PASSWORD_FILE", rule: map[string]any{"path": "/etc/pw", "fmt": "hunter2-new"},
			setup: func(t *testing.T, root string) {
				require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, "etc/pw"), []byte("hunter2-old\n"), 0o600))
			},
			check: checker.NOK, fix: checker.OK, out: "diff not shown"},
		{name: "unknown user", rule: map[string]any{"path": "/etc/x", "fmt": "x", "uid": "no-such-user-svckit"}, check: checker.NOK, fix: checker.NOK, out: "uid:"},
		{name: "user from the root's passwd", rule: map[string]any{"path": "/etc/x", "fmt": "x", "uid": "mysql", "gid": "mysql"},
			setup: func(t *testing.T, root string) {
				compliancetest.RequireRoot(t)
				require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nmysql:x:999:999::/var/lib/mysql:/bin/false\n"), 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nmysql:x:999:\n"), 0o644))
			},
			check: checker.NOK, fix: checker.OK,
			after: func(t *testing.T, root string) {
				fi, err := os.Stat(filepath.Join(root, "etc/x"))
				require.NoError(t, err)
				require.Equal(t, uint32(999), fi.Sys().(*syscall.Stat_t).Uid)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out := newEnv(t, tt.vars)
			if tt.setup != nil {
				tt.setup(t, env.Root)
			}
			name := tt.varName
			if name == "" {
				name = "OSVC_COMP_RULE"
			}
			v := fileVar(t, name, tt.rule)
			require.Equal(t, tt.check, run(t, "file", env, "check", v), out.String())
			require.Equal(t, tt.fix, run(t, "file", env, "fix", v), out.String())
			if tt.out != "" {
				require.Contains(t, out.String(), tt.out)
			}
			require.NotContains(t, out.String(), "hunter2")
			if tt.after != nil {
				tt.after(t, env.Root)
			}
			if tt.fix == checker.OK {
				require.Equal(t, checker.OK, run(t, "file", env, "check", v), out.String())
			}
		})
	}
}

func TestSubstAndEnvName(t *testing.T) {
	env := &checker.Env{Hostname: "spd03.example.com", Lookup: func(k string) (string, bool) {
		v, ok := map[string]string{"A": "1", "OSVC_COMP_B": "2", "B": "", "OSVC_COMP_C_D": "3"}[k]
		return v, ok
	}}
	tests := []struct{ in, want, err string }{
		{"%%ENV:A%%-%%ENV:B%%", "1-", ""}, // B is set (empty) and wins over OSVC_COMP_B
		{"%%ENV:C_D%%", "3", ""},
		{"%%ENV:c.d%%", "3", ""},
		{"%%HOSTNAME%%/%%SHORT_HOSTNAME%%", "spd03.example.com/spd03", ""},
		{"no vars, 100%", "no vars, 100%", ""},
		{"%%ENV:MISSING%%", "", "variable MISSING is not defined (nor OSVC_COMP_MISSING)"},
	}
	for _, tt := range tests {
		got, err := env.Subst(tt.in)
		if tt.err != "" {
			require.EqualError(t, err, tt.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.want, got)
	}
	require.Equal(t, "OSVC_COMP_SPDC_SVC_DB_CNF_FILE_DB", checker.EnvName("spdc_svc_db_cnf_file_db"))
	require.Equal(t, "OSVC_COMP_A_B_C_D", checker.EnvName("a-b.c d"))
	require.Equal(t, checker.NOK, checker.Merge(checker.OK, checker.NA, checker.NOK))
	require.Equal(t, checker.OK, checker.Merge(checker.OK, checker.NA))
	require.Equal(t, checker.NA, checker.Merge(checker.NA, checker.NA))
	require.Equal(t, checker.NA, checker.Merge())
}
