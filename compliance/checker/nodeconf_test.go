package checker_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/checker"
)

func TestNodeconf(t *testing.T) {
	const conf = "; node configuration\n[node]\nrepocomp = https://old.example.com/\nmaxparallel = 4\nlegacy = yes\n\n[stats]\nschedule = @10\n"
	tests := []struct {
		name  string
		rule  string
		check checker.Status
		out   string
		key   string // section.option to read after fix
		want  string // "" means unset
	}{
		{"set", `{"key":"node.repocomp","op":"=","value":"https://repo.opensvc.com/compliance/"}`, checker.NOK,
			`nodeconf node.repocomp is "https://old.example.com/", target = "https://repo.opensvc.com/compliance/"`, "node.repocomp", "https://repo.opensvc.com/compliance/"},
		{"new section", `{"key":"compliance.auto_update","op":"=","value":"true"}`, checker.NOK, "compliance.auto_update is unset", "compliance.auto_update", "true"},
		{"holds", `{"key":"stats.schedule","op":"=","value":"@10"}`, checker.OK, `stats.schedule is "@10", target = "@10", ok`, "stats.schedule", "@10"},
		{">= holds", `{"key":"node.maxparallel","op":">=","value":2}`, checker.OK, "ok", "node.maxparallel", "4"},
		{">= fixed", `{"key":"node.maxparallel","op":">=","value":8}`, checker.NOK, "target >=", "node.maxparallel", "8"},
		{"<= fixed", `{"key":"node.maxparallel","op":"<=","value":2}`, checker.NOK, "target <=", "node.maxparallel", "2"},
		{"unset", `{"key":"node.legacy","op":"unset"}`, checker.NOK, `node.legacy is set to "yes", target unset`, "node.legacy", ""},
		{"secret not shown", `{"key":"node.db_password","op":"=","value":"hunter2"}`, checker.NOK, "xxxx", "node.db_password", "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out := newEnv(t, nil)
			path := filepath.Join(env.Root, "etc/node.conf")
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, []byte(conf), 0o640))
			v := checker.Var{Name: "OSVC_COMP_NC", Value: tt.rule}
			require.Equal(t, tt.check, run(t, "nodeconf", env, "check", v), out.String())
			require.Contains(t, out.String(), tt.out)
			require.Equal(t, checker.OK, run(t, "nodeconf", env, "fix", v), out.String())
			require.Equal(t, checker.OK, run(t, "nodeconf", env, "check", v), out.String())
			require.NotContains(t, out.String(), "hunter2")

			f, err := env.LoadNodeConf()
			require.NoError(t, err)
			sec, opt, _ := strings.Cut(tt.key, ".")
			if tt.want == "" {
				require.False(t, f.Section(sec).HasKey(opt))
			} else {
				require.Equal(t, tt.want, f.Section(sec).Key(opt).String())
			}
			// The rest of the file is kept, and its mode.
			require.Equal(t, "@10", f.Section("stats").Key("schedule").String())
			fi, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
		})
	}
}

func TestNodeconfMissingFile(t *testing.T) {
	env, _ := newEnv(t, nil)
	v := checker.Var{Name: "n", Value: `[{"key":"node.repopkg","op":"=","value":"https://repo.opensvc.com/"},{"key":"node.gone","op":"unset"}]`}
	require.Equal(t, checker.NOK, run(t, "nodeconf", env, "check", v))
	require.Equal(t, checker.OK, run(t, "nodeconf", env, "fix", v))
	fi, err := os.Stat(filepath.Join(env.Root, "etc/node.conf"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a new node.conf may hold credentials")
	require.Equal(t, checker.OK, run(t, "nodeconf", env, "check", v))
}
