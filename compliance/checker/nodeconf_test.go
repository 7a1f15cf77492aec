package checker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/ini.v1"

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

// TestUpdateNodeConfConcurrent runs many read-modify-write updates at
// once, each on a key of its own, from separate Envs as separate nodemgr
// processes would: the lock makes every one of them land.
func TestUpdateNodeConfConcurrent(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc/node.conf"), []byte("# kept\n[node]\nrepo = https://r/\n"), 0o644))
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			env := &checker.Env{Root: root}
			defer env.Close()
			errs <- env.UpdateNodeConf(context.Background(), func(f *ini.File) (bool, error) {
				f.Section("node").Key(fmt.Sprintf("k%02d", i)).SetValue(strconv.Itoa(i))
				return true, nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	env := &checker.Env{Root: root}
	defer env.Close()
	f, err := env.LoadNodeConf()
	require.NoError(t, err)
	for i := range n {
		require.Equal(t, strconv.Itoa(i), f.Section("node").Key(fmt.Sprintf("k%02d", i)).String(), "update %d lost", i)
	}
	b, err := os.ReadFile(filepath.Join(root, "etc/node.conf"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "# kept\n[node]\nrepo"), string(b))
}

func TestUpdateNodeConfWaitHonoursContext(t *testing.T) {
	env, _ := newEnv(t, nil)
	hold := make(chan struct{})
	held := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		other := &checker.Env{Root: env.Root}
		defer other.Close()
		done <- other.UpdateNodeConf(context.Background(), func(*ini.File) (bool, error) {
			close(held)
			<-hold
			return false, nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := env.UpdateNodeConf(ctx, func(*ini.File) (bool, error) { return true, nil })
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "node.conf.lock")
	close(hold)
	require.NoError(t, <-done)
}

func TestParseNodeConfKey(t *testing.T) {
	for _, tt := range []struct{ key, sec, opt string }{
		{"node.repocomp", "node", "repocomp"},
		{"compliance.schedule", "compliance", "schedule"},
		{"a.b.c", "a", "b.c"},
		{"node.key@spd01", "node", "key@spd01"},
	} {
		sec, opt, err := checker.ParseNodeConfKey(tt.key)
		require.NoError(t, err, tt.key)
		require.Equal(t, [2]string{tt.sec, tt.opt}, [2]string{sec, opt})
	}
	for _, key := range []string{"", "node", ".x", "node.", "no de.x", "node.x\n[evil]", "node.x=y", "[node].x", "node.é"} {
		_, _, err := checker.ParseNodeConfKey(key)
		require.ErrorContains(t, err, "expected section.option like node.repocomp", "%q", key)
	}
}

func TestCheckNodeConfValue(t *testing.T) {
	for _, v := range []string{"", "https://repo.opensvc.com/compliance/", "a #b", "a;b", "`x`", `"q"`, "a = b", "[s]", "ünï"} {
		require.NoError(t, checker.CheckNodeConfValue(v), "%q", v)
	}
	for _, v := range []string{"x\n[evil]\nk = v", "a\x00b", " lead", "trail ", `back\`, "\xff"} {
		require.Error(t, checker.CheckNodeConfValue(v), "%q", v)
	}
}

func TestLoadNodeConfBounded(t *testing.T) {
	env, _ := newEnv(t, nil)
	path := filepath.Join(env.Root, "etc/node.conf")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	fh, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, fh.Truncate(checker.MaxNodeConfSize+1))
	require.NoError(t, fh.Close())
	_, err = env.LoadNodeConf()
	require.ErrorContains(t, err, "too large")
	require.ErrorContains(t, err, "/etc/node.conf")
}

func TestSaveNodeConfBounded(t *testing.T) {
	env, _ := newEnv(t, nil)
	path := filepath.Join(env.Root, "etc/node.conf")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("[node]\nrepo = x\n"), 0o644))
	err := env.UpdateNodeConf(context.Background(), func(f *ini.File) (bool, error) {
		f.Section("node").Key("huge").SetValue(strings.Repeat("a", checker.MaxNodeConfSize))
		return true, nil
	})
	require.ErrorContains(t, err, "not written")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "[node]\nrepo = x\n", string(b))
}
