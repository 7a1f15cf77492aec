package compliance_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/compliancetest"
)

func TestCheckScriptSafe(t *testing.T) {
	compliancetest.RequireRoot(t) // makes files owned by root and by others
	tests := []struct {
		name          string
		dirMode, mode os.FileMode
		uid, dirUID   int
		want          string
	}{
		{name: "root's, 0755", dirMode: 0o755, mode: 0o755},
		{name: "root's, group root writable", dirMode: 0o775, mode: 0o775},
		{name: "writable by others", dirMode: 0o755, mode: 0o757, want: "writable by others"},
		{name: "owned by a user", dirMode: 0o755, mode: 0o755, uid: 1000, want: "owned by uid 1000"},
		{name: "not executable", dirMode: 0o755, mode: 0o644, want: "not executable"},
		{name: "directory writable by others", dirMode: 0o777, mode: 0o755, want: "is not root's alone"},
		{name: "directory owned by a user", dirMode: 0o755, mode: 0o755, dirUID: 1000, want: "is not root's alone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "modules")
			require.NoError(t, os.Mkdir(dir, 0o755))
			require.NoError(t, os.Chmod(dir, tt.dirMode))
			require.NoError(t, os.Chown(dir, tt.dirUID, 0))
			p := filepath.Join(dir, "50-x")
			require.NoError(t, os.WriteFile(p, []byte("#!/bin/sh\n"), 0o600))
			require.NoError(t, os.Chmod(p, tt.mode))
			require.NoError(t, os.Chown(p, tt.uid, 0))
			err := compliance.CheckScriptSafe(p)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestFindScripts(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"50-spdc.kernel", "10-spdc.kernel", "20-a", "README", "x-y", "99-"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), nil, 0o755))
	}
	require.NoError(t, os.Mkdir(filepath.Join(dir, "30-dir"), 0o755))
	got, err := compliance.FindScripts(context.Background(), dir)
	require.NoError(t, err)
	require.Equal(t, map[string]compliance.Script{
		"spdc.kernel": {Name: "spdc.kernel", Order: 10, Path: filepath.Join(dir, "10-spdc.kernel")},
		"a":           {Name: "a", Order: 20, Path: filepath.Join(dir, "20-a")},
	}, got)
	got, err = compliance.FindScripts(context.Background(), filepath.Join(dir, "missing"))
	require.NoError(t, err)
	require.Empty(t, got)
}
