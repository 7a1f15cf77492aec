package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// Service and node names and --waitlock are checked before any command
// runs: a bad one is a usage error (exit 2) and nothing is read.
func TestGlobalFlagsUsageErrors(t *testing.T) {
	root, _ := nodeCLI(t, "spd01", true)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"service path", []string{"-s", "../../x", "print", "status"}, `-s: service name "../../x"`},
		{"service absolute", []string{"-s", "/etc/passwd", "print", "config"}, "-s: service name"},
		{"service dot dot", []string{"-s", "..", "start"}, "-s: service name"},
		{"service escape", []string{"-s", "x\x1b[2J", "start"}, `x\x1b[2J`},
		{"node scope word", []string{"-s", "spdsvc01", "--node", "nodes", "start"}, `--node: node name "nodes" is a scope word`},
		{"node drpnodes", []string{"-s", "spdsvc01", "--node", "drpnodes", "print", "status"}, "scope word"},
		{"node flex_primary", []string{"-s", "spdsvc01", "--node", "flex_primary", "pull"}, "scope word"},
		{"node upper case", []string{"-s", "spdsvc01", "--node", "SPD01", "start"}, "lower case"},
		{"negative waitlock", []string{"-s", "spdsvc01", "--node", "spd01", "--waitlock", "-5s", "start"}, "--waitlock -5s: expected 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := runCLI(append([]string{"--root", root, "--fake"}, tc.args...)...)
			require.Equal(t, 2, code, errOut)
			require.Contains(t, errOut, tc.want)
		})
	}
}

// --waitlock 0 is accepted and means: do not wait.
func TestWaitlockZero(t *testing.T) {
	_, svcmgr := nodeCLI(t, "spd01", true)
	_, errOut, code := svcmgr("--waitlock", "0", "start")
	require.Equal(t, 0, code, errOut)
}

func runCLI(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return out.String(), errb.String(), code
}
