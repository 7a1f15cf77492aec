package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/compliancetest"
)

const rules = "../../compliance/testdata/spdc-node.json"

func nodemgr(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageErrors(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no action", []string{"compliance"}, "an action is required"},
		{"unknown action", []string{"compliance", "frobnicate"}, `unknown action "frobnicate"`},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"compliance", "check", "--bogus"}, "unknown flag: --bogus"},
		{"bad format", []string{"--root", root, "compliance", "check", "--rules", rules, "--format", "yaml"}, `--format "yaml"`},
		{"moduleset typo", []string{"--root", root, "compliance", "check", "--rules", rules, "--moduleset", "sdpc.node"}, `did you mean "spdc.node"?`},
		{"attach needs a moduleset", []string{"--root", root, "compliance", "attach", "--rules", rules}, "--moduleset is required"},
		{"bad env", []string{"--root", root, "compliance", "check", "--rules", rules, "--env", "NOEQUAL"}, "expected KEY=VALUE"},
		{"node named nodes", []string{"--root", root, "--node", "nodes", "compliance", "check", "--rules", rules}, `--node: node name "nodes" is a scope word`},
		{"node named flex_primary", []string{"--root", root, "--node", "flex_primary", "compliance", "check", "--rules", rules}, "scope word"},
		{"node upper case", []string{"--root", root, "--node", "Spd01", "compliance", "check", "--rules", rules}, "lower case"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := nodemgr(tt.args...)
			require.Equal(t, 2, code, stderr)
			require.Contains(t, stderr, tt.msg)
		})
	}
	code, _, stderr := nodemgr("--root", root, "compliance", "check", "--rules", filepath.Join(root, "missing.json"), "--moduleset", "x")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "missing.json")
}

func TestCheckFixExitCodes(t *testing.T) {
	compliancetest.RequireRoot(t) // the rules chown files to root
	root := compliancetest.DebianRoot(t, "[node]\nteam_responsible = OpenSVC\n")
	procSys := compliancetest.FakeProcSys(t, map[string]string{
		"net.ipv4.ip_local_port_range": "32768\t60999", "vm.max_map_count": "65530", "vm.swappiness": "60",
	})
	base := []string{"--root", root, "--node", "spd03", "compliance"}
	flags := []string{"--rules", rules, "--proc-sys", procSys, "--module", "spdc.kernel,spdc.opensvc"}

	code, out, stderr := nodemgr(append(append(base, "attach", "--moduleset", "spdc.node"), flags...)...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "attached modulesets: spdc.node\n", out)

	code, out, _ = nodemgr(append(append(base, "check", "--format", "json"), flags...)...)
	require.Equal(t, 1, code)
	var rep compliance.Report
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "spd03", rep.Node)
	require.Equal(t, []string{"spdc.node"}, rep.Modulesets)
	require.Equal(t, compliance.Digest{NOK: 2, NotOK: []string{"spdc.kernel", "spdc.opensvc"}, Duration: rep.Digest.Duration}, rep.Digest)

	code, out, stderr = nodemgr(append(append(base, "fix"), flags...)...)
	require.Equal(t, 0, code, out+stderr)
	require.Contains(t, out, "spd03 fix spdc.node: 2 modules, 2 ok, 0 nok, 0 n/a, 0 failed")

	code, out, _ = nodemgr(append(append(base, "check"), flags...)...)
	require.Equal(t, 0, code, out)
	b, err := os.ReadFile(filepath.Join(root, "etc/node.conf"))
	require.NoError(t, err)
	require.Contains(t, string(b), "dbcompliance")

	code, out, _ = nodemgr(append(append(base, "show", "--format", "json"), flags...)...)
	require.Equal(t, 0, code)
	var infos []compliance.ModuleInfo
	require.NoError(t, json.Unmarshal([]byte(out), &infos))
	require.Len(t, infos, 2)

	code, out, _ = nodemgr(append(append(base, "detach", "--moduleset", "spdc.node"), flags...)...)
	require.Equal(t, 0, code)
	require.Equal(t, "attached modulesets: \n", out)
}
