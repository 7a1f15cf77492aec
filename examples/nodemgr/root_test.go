package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance/compliancetest"
)

// TestRootContainment reproduces issue 13's escape: with a directory of
// the root symlinked out of it, a file rule on a path through it is a rule
// error naming the path and the link, and `check` and `fix` neither print
// nor change the file outside.
func TestRootContainment(t *testing.T) {
	const sentinel = "root:x:0:0:SENTINEL-OUTSIDE:/root:/bin/sh\n"
	tests := []struct {
		name  string
		setup func(t *testing.T, root, outside string)
		path  string
		link  string
	}{
		{"etc symlinked out", func(t *testing.T, root, outside string) {
			// os-release and node.conf are outside too: the facts fail.
			require.NoError(t, os.RemoveAll(filepath.Join(root, "etc")))
			require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc")))
		}, "/etc/passwd", "/etc -> "},
		{"a directory under etc symlinked out", func(t *testing.T, root, outside string) {
			require.NoError(t, os.Symlink(outside, filepath.Join(root, "etc/security")))
		}, "/etc/security/passwd", "/etc/security -> "},
		{"relative link climbing out", func(t *testing.T, root, outside string) {
			require.NoError(t, os.Symlink("../../"+filepath.Base(outside), filepath.Join(root, "etc/security")))
		}, "/etc/security/passwd", "/etc/security -> ../../"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			root := compliancetest.DebianRoot(t, "[node]\nteam_responsible = OpenSVC\n")
			root2 := filepath.Join(base, "root")
			require.NoError(t, os.Rename(root, root2))
			root = root2
			outside := filepath.Join(base, "elsewhere")
			require.NoError(t, os.MkdirAll(outside, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(outside, "passwd"), []byte(sentinel), 0o644))
			tt.setup(t, root, outside)

			value, err := json.Marshal(map[string]any{"path": tt.path, "fmt": "root:x:0:0::/root:/bin/bash\n", "mode": 644})
			require.NoError(t, err)
			export, err := json.Marshal(map[string]any{
				"modulesets": []any{map[string]any{"modset_name": "ms", "rulesets": []string{"rs"},
					"modules": []any{map[string]any{"modset_mod_name": "files"}}}},
				"rulesets": []any{map[string]any{"ruleset_name": "rs", "ruleset_type": "explicit",
					"variables": []any{map[string]any{"var_name": "passwd", "var_class": "file", "var_value": string(value)}}}},
			})
			require.NoError(t, err)
			rulesFile := filepath.Join(base, "rules.json")
			require.NoError(t, os.WriteFile(rulesFile, export, 0o644))

			for _, action := range []string{"check", "fix"} {
				code, out, stderr := nodemgr("--root", root, "--node", "n1", "compliance", action, "--rules", rulesFile, "--moduleset", "ms")
				require.Equal(t, 1, code, out+stderr)
				t.Logf("%s: %s", action, out+stderr)
				require.Contains(t, out+stderr, "escapes the root "+root)
				require.Contains(t, out+stderr, "symbolic link "+tt.link)
				require.NotContains(t, out+stderr, "SENTINEL")
			}
			b, err := os.ReadFile(filepath.Join(outside, "passwd"))
			require.NoError(t, err)
			require.Equal(t, sentinel, string(b))
			ents, err := os.ReadDir(outside)
			require.NoError(t, err)
			require.Len(t, ents, 1, "nothing created outside")
		})
	}
}
