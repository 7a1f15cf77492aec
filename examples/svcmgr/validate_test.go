package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestValidateRefuses: validate config exits 2 on an empty config (it
// would replace the service with nothing), on two resources claiming one
// mount point, and prints no control character of the file.
func TestValidateRefuses(t *testing.T) {
	seed, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	for _, tt := range []struct{ name, conf, want string }{
		{"empty file", "", "spdsvc01.conf: empty configuration (an empty file)"},
		{"only comments", "# nothing\n\n; here\n", "empty configuration (only comments and blank lines)"},
		{"two mounts", strings.Replace(string(seed), "mnt = /spdsvc01/pod01\n", "mnt = /spdsvc01\n", 1),
			`[fs#01] mnt: fs.mnt "/spdsvc01" is already claimed on node spd01 by [fs#00] (line 29)`},
		{"escape in a section name", string(seed) + "\n[\x1b[2Jwhat]\n", `[\x1b[2Jwhat]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root, svcmgr := nodeCLI(t, "spd01", true)
			require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "spdsvc01.conf"), []byte(tt.conf), 0o600))
			_, errOut, code := svcmgr("validate", "config")
			require.Equal(t, 2, code, errOut)
			require.Contains(t, errOut, tt.want)
			require.NotContains(t, errOut, "\x1b")
		})
	}
}
