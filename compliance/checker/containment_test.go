package checker_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/checker"
)

const sentinel = "root:x:0:0:SENTINEL-OUTSIDE-THE-ROOT:/root:/bin/sh\n"

// outsideDir makes a directory beside the root holding a sentinel passwd
// file and returns a function that checks it was neither changed nor
// added to.
func outsideDir(t *testing.T, env *checker.Env) (string, func()) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(env.Root), "elsewhere-"+filepath.Base(env.Root))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "passwd"), []byte(sentinel), 0o644))
	return dir, func() {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "passwd"))
		require.NoError(t, err)
		require.Equal(t, sentinel, string(b), "the file outside is unchanged")
		fi, err := os.Stat(filepath.Join(dir, "passwd"))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, ents, 1, "nothing created outside")
	}
}

// TestFileContainment: a rule whose path leads out of the root, through a
// symlinked directory, a symlinked file, .. or a variable, is an error
// naming the path (and the link); nothing outside is read or written.
func TestFileContainment(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root, outside string)
		vars  map[string]string
		rule  map[string]any
		out   []string
	}{
		{name: "symlinked directory, absolute",
			setup: func(t *testing.T, root, outside string) {
				require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc")))
			},
			rule: map[string]any{"path": "/etc/passwd", "fmt": "root:x:0:0::/root:/bin/bash", "mode": 600},
			out:  []string{"path /etc/passwd escapes the root", "symbolic link /etc -> "}},
		{name: "symlinked directory, relative",
			setup: func(t *testing.T, root, outside string) {
				require.NoError(t, os.Symlink("../"+filepath.Base(outside), filepath.Join(root, "etc")))
			},
			rule: map[string]any{"path": "/etc/passwd", "fmt": "x", "mode": 600},
			out:  []string{"path /etc/passwd escapes the root", "symbolic link /etc -> ../elsewhere-"}},
		{name: "symlinked directory, directory rule",
			setup: func(t *testing.T, root, outside string) {
				require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc")))
			},
			rule: map[string]any{"path": "/etc/sub/", "mode": 700},
			out:  []string{"path /etc/sub escapes the root", "symbolic link /etc -> "}},
		{name: "symlinked file",
			setup: func(t *testing.T, root, outside string) {
				require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
				require.NoError(t, os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(root, "etc/passwd")))
			},
			rule: map[string]any{"path": "/etc/passwd", "fmt": "x", "mode": 600},
			out:  []string{"file /etc/passwd is a symlink", "refusing to replace a symlink"}},
		{name: "ref through a link",
			setup: func(t *testing.T, root, outside string) {
				require.NoError(t, os.Symlink(outside, filepath.Join(root, "secrets")))
			},
			rule: map[string]any{"path": "/srv/copy", "ref": "file:///secrets/passwd"},
			out:  []string{"path /secrets/passwd escapes the root"}},
		{name: "dotdot from a variable",
			vars: map[string]string{"DIR": "../.."},
			rule: map[string]any{"path": "/srv/%%ENV:DIR%%/passwd", "fmt": "x"},
			out:  []string{`path "/srv/../../passwd" is not clean`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, out := newEnv(t, tt.vars)
			outside, unchanged := outsideDir(t, env)
			if tt.setup != nil {
				tt.setup(t, env.Root, outside)
			}
			v := fileVar(t, "OSVC_COMP_RULE", tt.rule)
			require.Equal(t, checker.NOK, run(t, "file", env, "check", v), out.String())
			require.Equal(t, checker.NOK, run(t, "file", env, "fix", v), out.String())
			for _, o := range tt.out {
				require.Contains(t, out.String(), o)
			}
			require.NotContains(t, out.String(), "SENTINEL")
			unchanged()
			_, err := os.Stat(filepath.Join(env.Root, "srv/copy"))
			require.ErrorIs(t, err, os.ErrNotExist)
			_, err = os.Stat(filepath.Join(env.Root, "var"))
			require.ErrorIs(t, err, os.ErrNotExist, "no backup of anything")
		})
	}
}

// TestFileRulePathRefused: a rule path that is not absolute and clean is
// refused when the rule is read.
func TestFileRulePathRefused(t *testing.T) {
	for _, p := range []string{"etc/x", "/etc/../etc/passwd", "/etc/./x", "//etc/x", "/etc/x\x00y", "/etc/x\ny", ""} {
		t.Run(fmt.Sprintf("%q", p), func(t *testing.T) {
			_, err := checker.NewObject("file", []checker.Var{fileVar(t, "OSVC_COMP_F", map[string]any{"path": p, "fmt": "x"})})
			require.Error(t, err)
			require.Contains(t, err.Error(), "OSVC_COMP_F")
		})
	}
}

// TestSysctlInjection: a key or value that would add a line to the
// persistent file or /proc is refused when the rule is read, so nothing is
// written.
func TestSysctlInjection(t *testing.T) {
	tests := []struct{ name, rule, err string }{
		{"newline in value", `{"key":"vm.swappiness","value":"10\nkernel.modprobe = /tmp/x"}`, "control character"},
		{"NUL in value", `{"key":"vm.swappiness","value":"10\u0000"}`, "control character"},
		{"escape in value", `{"key":"vm.swappiness","value":"\u001b[2J"}`, "control character"},
		{"CR in pair value", `{"key":"vm.swappiness","value":[["=","1\r"]]}`, "control character"},
		{"blank in value", `{"key":"vm.swappiness","value":"10 kernel.x=1"}`, "one field"},
		{"empty value", `{"key":"vm.swappiness","value":""}`, "one field"},
		{"newline in key", `{"key":"vm.swappiness\nkernel.modprobe","value":"1"}`, "expected a sysctl name"},
		{"dotdot in key", `{"key":"../../etc/shadow","value":"1"}`, "expected a sysctl name"},
		{"empty segment", `{"key":"vm..swappiness","value":"1"}`, "expected a sysctl name"},
		{"leading slash", `{"key":"/vm/swappiness","value":"1"}`, "expected a sysctl name"},
		{"equal sign", `{"key":"vm.swappiness=1","value":"1"}`, "expected a sysctl name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checker.NewObject("sysctl", []checker.Var{{Name: "OSVC_COMP_K", Value: tt.rule}})
			require.ErrorContains(t, err, tt.err)
			require.Contains(t, err.Error(), "OSVC_COMP_K")
			require.NotContains(t, err.Error(), "\n", "the bad text is quoted")
		})
	}
	// Good keys as the kernel names them still load.
	for _, k := range []string{"vm.swappiness", "net/ipv4/ip_forward", "net.ipv4.conf.br-0.rp_filter", "kernel.sched_rt_runtime_us"} {
		_, err := checker.NewObject("sysctl", []checker.Var{{Name: "OSVC_COMP_K", Value: `{"key":"` + k + `","value":1}`}})
		require.NoError(t, err, k)
	}
}

func TestNodeconfInjection(t *testing.T) {
	for _, rule := range []string{
		`{"key":"node.repo\n[evil]\nx","op":"=","value":"1"}`,
		`{"key":"node]x.y","op":"=","value":"1"}`,
		`{"key":"node.repo","op":"=","value":"https://x/\n[evil]\nkey = 1"}`,
		`{"key":"node.repo","op":"=","value":"a\u0000b"}`,
	} {
		_, err := checker.NewObject("nodeconf", []checker.Var{{Name: "OSVC_COMP_N", Value: rule}})
		require.Error(t, err, rule)
		require.Contains(t, err.Error(), "OSVC_COMP_N")
	}
}

// TestFileHugeDiff: the diff of a file larger than memory should be is
// bounded in time, memory and output, with a note saying it was cut.
func TestFileHugeDiff(t *testing.T) {
	env, out := newEnv(t, nil)
	// 1 GiB, sparse beyond its first 2 MiB of text.
	var head bytes.Buffer
	for i := 0; head.Len() < 2<<20; i++ {
		fmt.Fprintf(&head, "line %d of the current content\n", i)
	}
	const size = 1 << 30
	require.NoError(t, os.MkdirAll(filepath.Join(env.Root, "srv"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(env.Root, "srv/big"), head.Bytes(), 0o644))
	require.NoError(t, os.Truncate(filepath.Join(env.Root, "srv/big"), size))
	target := strings.Repeat("target line\n", 1<<20) // 12 MiB
	v := checker.Var{Name: "OSVC_COMP_BIG", Value: fmt.Sprintf(`{"path":"/srv/big","fmt":%q}`, target)}
	obj, err := checker.NewObject("file", []checker.Var{v})
	require.NoError(t, err)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	s, err := checker.Run(t.Context(), obj, env, "check")
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Equal(t, checker.NOK, s)
	o := out.String()
	require.Less(t, len(o), 70<<10, "output bounded")
	require.LessOrEqual(t, strings.Count(o, "\n"), 410, "lines bounded")
	require.Contains(t, o, fmt.Sprintf("diff cut: only the first 1048576 bytes of each side are compared (current %d bytes", size))
	require.Contains(t, o, "diff cut: only the first 2000 lines of each side")
	require.Contains(t, o, "diff cut: more than 400 lines")
	require.Less(t, elapsed, 20*time.Second)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("check of a %d MiB file against a 12 MiB target: %v, %d MiB allocated, %d bytes of output", size>>20, elapsed, alloc>>20, len(o))
	require.Less(t, alloc, uint64(128<<20), "the current file is never read whole")

	// Lines of a few values repeated make difflib's matcher slow: the
	// line bound keeps it in check.
	var a, b strings.Builder
	for i := 0; a.Len() < 1<<20; i++ {
		fmt.Fprintf(&a, "l%d\n", i%101)
		fmt.Fprintf(&b, "l%d\n", (i*7+3)%101)
	}
	require.NoError(t, os.WriteFile(filepath.Join(env.Root, "srv/rep"), []byte(a.String()), 0o644))
	v = checker.Var{Name: "OSVC_COMP_REP", Value: fmt.Sprintf(`{"path":"/srv/rep","fmt":%q}`, b.String())}
	out.Reset()
	start = time.Now()
	require.Equal(t, checker.NOK, run(t, "file", env, "check", v))
	elapsed = time.Since(start)
	t.Logf("check of %d repetitive lines: %v", strings.Count(a.String(), "\n"), elapsed)
	require.Less(t, elapsed, 10*time.Second)
	require.Contains(t, out.String(), "diff cut: more than 400 lines")
}
