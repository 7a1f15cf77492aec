package checker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/checker"
)

// TestFileCheckOrder: a check reads the files of a batch on several
// goroutines, yet reports each rule's messages in the rules' order, over
// several batches, whatever each rule finds (conform, missing, other
// content, other mode, a directory, an unresolvable variable, a path
// that is not clean), with the status a one-by-one check gives.
func TestFileCheckOrder(t *testing.T) {
	env, out := newEnv(t, map[string]string{"V": "42"})
	const n = 700 // more than two batches
	var vars []checker.Var
	var want []string
	for i := range n {
		p := fmt.Sprintf("/etc/order/%02d/f%04d", i%37, i)
		host := filepath.Join(env.Root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(host), 0o755))
		rule := map[string]any{"path": p, "fmt": "v=%%ENV:V%%", "mode": 644}
		switch i % 7 {
		case 0, 1, 2:
			require.NoError(t, os.WriteFile(host, []byte("v=42\n"), 0o644))
			require.NoError(t, os.Chmod(host, 0o644))
			want = append(want, "file "+p+" is conform")
		case 3:
			want = append(want, "file "+p+" does not exist")
		case 4:
			require.NoError(t, os.WriteFile(host, []byte("v=41\n"), 0o644))
			require.NoError(t, os.Chmod(host, 0o644))
			want = append(want, "file "+p+" content differs:")
		case 5:
			rule["fmt"] = "v=%%ENV:UNSET%%"
			want = append(want, "file "+p+": n/a: variable UNSET is not defined")
		case 6:
			require.NoError(t, os.WriteFile(host, []byte("v=42\n"), 0o600))
			require.NoError(t, os.Chmod(host, 0o600))
			want = append(want, "file "+p+" mode is 0600, target 0644")
		}
		vars = append(vars, fileVar(t, fmt.Sprintf("f%04d", i), rule))
	}
	// The one-by-one status: a NOK rule makes the module NOK.
	require.Equal(t, checker.NOK, run(t, "file", env, "check", vars...))
	var got []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "file ") {
			got = append(got, l)
		}
	}
	require.Len(t, got, n)
	for i := range want {
		require.True(t, strings.HasPrefix(got[i], want[i]), "rule %d: got %q, want %q", i, got[i], want[i])
	}

	// Every rule conform: OK, and one "conform" line per rule in order.
	out.Reset()
	var conform []checker.Var
	for i := 0; i < n; i += 7 {
		conform = append(conform, vars[i])
	}
	require.Equal(t, checker.OK, run(t, "file", env, "check", conform...))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, len(conform))
	for j, l := range lines {
		require.Equal(t, fmt.Sprintf("file /etc/order/%02d/f%04d is conform", (j*7)%37, j*7), l)
	}
}

// TestFileCheckCancelled: a cancelled check stops and says how many rules
// it did not check; it is never reported conform.
func TestFileCheckCancelled(t *testing.T) {
	env, out := newEnv(t, nil)
	var vars []checker.Var
	for i := range 300 {
		vars = append(vars, fileVar(t, fmt.Sprintf("f%d", i), map[string]any{"path": fmt.Sprintf("/etc/c/f%d", i), "fmt": "x"}))
	}
	o, err := checker.NewObject("file", vars)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := checker.Run(ctx, o, env, "check")
	require.NoError(t, err)
	require.Equal(t, checker.NOK, s)
	require.Contains(t, out.String(), "file rules: 300 not checked: context canceled")
	require.NotContains(t, out.String(), "is conform")
}
