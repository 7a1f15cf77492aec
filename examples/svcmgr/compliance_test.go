package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/compliancetest"
	"github.com/svckit/svckit/internal/svccomp"
	"github.com/svckit/svckit/svc/cluster"
)

const seedRules = "../../compliance/testdata/spdc-svc.json"

// svcenvModule prints the compliance variables it gets, and is conform
// when the file its rule names exists (fix creates it).
const svcenvModule = `#!/bin/bash
env | grep -E '^OSVC_COMP_' | sort
case $1 in
check) [ -f "$OSVC_COMP_SVCENV_MARK" ] && exit 0; exit 1 ;;
fixable) exit 0 ;;
fix) : > "$OSVC_COMP_SVCENV_MARK" ;;
esac
`

// svcRoot makes a node root holding the seed's service config, the
// seed's service rules plus a svcenv moduleset (in rules.json, the
// default) and its script module.
func svcRoot(t *testing.T, root string) {
	t.Helper()
	conf, err := os.ReadFile("../../svc/testdata/spdsvc01.conf")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "etc", "spdsvc01.conf"), conf, 0o644))
	export := fmt.Sprintf(`{"filtersets": [], "modulesets": [
  {"modset_name": "svcenv", "modules": [{"modset_mod_name": "svcenv", "autofix": false}], "rulesets": ["svcenv"], "modulesets": []}],
 "rulesets": [{"ruleset_name": "svcenv", "ruleset_type": "explicit", "fset_name": null, "variables": [
  {"var_name": "svcenv.mark", "var_class": "raw", "var_value": %q}]}]}`, filepath.Join(root, "mark"))
	comp := filepath.Join(root, "var", "compliance")
	require.NoError(t, os.MkdirAll(filepath.Join(comp, "modules"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(comp, "rules.json"), []byte(export), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(comp, "modules", "10-svcenv"), []byte(svcenvModule), 0o755))
}

func svcmgrRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestComplianceUsage(t *testing.T) {
	root := t.TempDir()
	svcRoot(t, root)
	base := []string{"--root", root, "--node", "spd01", "--fake", "-s", "spdsvc01"}
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no action", []string{"compliance"}, "an action is required"},
		{"unknown action", []string{"compliance", "frobnicate"}, `unknown action "frobnicate"`},
		{"unknown flag", []string{"compliance", "check", "--bogus"}, "unknown flag: --bogus"},
		{"extra argument", []string{"compliance", "check", "spdc.svc"}, "unknown command"},
		{"attach needs a moduleset", []string{"compliance", "attach"}, "--moduleset is required"},
		{"bad format", []string{"--format", "yaml", "compliance", "check", "--moduleset", "svcenv"}, `--format "yaml"`},
		{"the seed's typo", []string{"compliance", "attach", "--rules", seedRules, "--moduleset", "sdpc.svc"}, `moduleset "sdpc.svc" is not defined (did you mean "spdc.svc"?)`},
		{"the seed's typo, --cluster", []string{"--cluster", "--transport", "local", "compliance", "fix", "--rules", seedRules, "--moduleset", "sdpc.svc"}, `did you mean "spdc.svc"?`},
		{"unknown module", []string{"compliance", "check", "--moduleset", "svcenv", "--module", "nope"}, "module nope is not in moduleset svcenv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := svcmgrRun(append(base, tt.args...)...)
			require.Equal(t, 2, code, out+stderr)
			require.Contains(t, stderr, tt.msg)
		})
	}
	// No -s, and a missing rules file (a failure, not a usage error).
	code, _, stderr := svcmgrRun("--root", root, "compliance", "check")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "missing -s SVC")
	code, _, stderr = svcmgrRun(append(base, "compliance", "check", "--rules", filepath.Join(root, "missing.json"), "--moduleset", "x")...)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "missing.json")
	// Malformed rules name their file; a service name leading out of
	// the root is refused before anything is read.
	bad := filepath.Join(root, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"modulesets": [`), 0o644))
	code, _, stderr = svcmgrRun(append(base, "compliance", "check", "--rules", bad)...)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "bad.json")
	code, _, stderr = svcmgrRun("--root", root, "--node", "spd01", "-s", "../spdsvc01", "compliance", "check")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "-s:")
	// Nothing was attached by the refused commands.
	require.NoFileExists(t, filepath.Join(root, "var", "spdsvc01", "compliance", "attachments.json"))
}

// TestComplianceServiceEnv runs a script module for the service and
// reads the environment it got: the service's variables, the node's, the
// ruleset's; then the exit codes and the JSON of check, fix, check.
func TestComplianceServiceEnv(t *testing.T) {
	compliancetest.RequireRoot(t) // script modules must be root's
	compliancetest.RequireCommands(t, "bash")
	root := t.TempDir()
	svcRoot(t, root)
	base := []string{"--root", root, "--node", "spd02", "--fake", "-s", "spdsvc01"}

	code, out, stderr := svcmgrRun(append(base, "compliance", "attach", "--moduleset", "svcenv")...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "spdsvc01@spd02 attached modulesets: svcenv\n", out)

	code, out, stderr = svcmgrRun(append(base, "--format", "json", "compliance", "check")...)
	require.Equal(t, 1, code, stderr)
	var rep svccomp.NodeReport
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Equal(t, "spd02", rep.Node)
	require.Equal(t, "spdsvc01", rep.Service)
	require.Equal(t, "check", rep.Action)
	require.NotNil(t, rep.Report)
	require.Equal(t, compliance.Digest{NOK: 1, NotOK: []string{"svcenv"}, Duration: rep.Report.Digest.Duration}, rep.Report.Digest)
	env := rep.Report.Results[0].Output
	for _, kv := range []string{
		"OSVC_COMP_SERVICES_SVC_NAME=spdsvc01",
		"OSVC_COMP_SERVICES_SVC_NODES=spd01 spd02 spd03 spd04",
		"OSVC_COMP_SERVICES_SVC_APP=RIVER_SPD",
		"OSVC_COMP_SERVICES_SVC_ENV=PRD",
		"OSVC_COMP_SERVICES_SVC_CLUSTER_TYPE=flex",
		"OSVC_COMP_SERVICES_SVC_AUTOSTART=spd01 spd02 spd03 spd04",
		"OSVC_COMP_SVC_NAME=spdsvc01",
		"OSVC_COMP_NODES_NODENAME=spd02",
		"OSVC_COMP_SVCENV_MARK=" + filepath.Join(root, "mark"),
	} {
		require.Contains(t, env, "\n"+kv+"\n", env)
	}

	code, out, stderr = svcmgrRun(append(base, "compliance", "fix")...)
	require.Equal(t, 0, code, out+stderr)
	require.Contains(t, out, "spdsvc01@spd02 fix svcenv: 1 modules, 1 ok, 0 nok, 0 n/a, 0 failed")
	require.FileExists(t, filepath.Join(root, "mark"))
	code, _, stderr = svcmgrRun(append(base, "compliance", "check")...)
	require.Equal(t, 0, code, stderr)

	code, out, _ = svcmgrRun(append(base, "--format", "json", "compliance", "show")...)
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Modules, 1)
	require.Equal(t, "script", rep.Modules[0].Kind)
	require.Contains(t, rep.Modules[0].Env, compliance.EnvVar{Name: "OSVC_COMP_SERVICES_SVC_NAME", Value: "spdsvc01"})

	code, out, _ = svcmgrRun(append(base, "compliance", "list")...)
	require.Equal(t, 0, code)
	require.Equal(t, "* svcenv\n(* attached to spdsvc01 on spd02)\n", out)
	code, out, _ = svcmgrRun(append(base, "compliance", "detach", "--moduleset", "svcenv")...)
	require.Equal(t, 0, code)
	require.Equal(t, "spdsvc01@spd02 attached modulesets: \n", out)
	code, _, stderr = svcmgrRun(append(base, "compliance", "check")...)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "no moduleset attached")
}

// TestComplianceAttachmentsSeparate: the service's attachments live in
// its var directory; the node's (nodemgr's) are not touched, and each
// sees only its own.
func TestComplianceAttachmentsSeparate(t *testing.T) {
	root := t.TempDir()
	svcRoot(t, root)
	ctx := t.Context()
	export, err := compliance.LoadExport(ctx, filepath.Join(root, "var", "compliance", "rules.json"))
	require.NoError(t, err)
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: root, Nodename: "spd01"})
	require.NoError(t, err)
	node, err := compliance.NewEngine(export, facts, compliance.Options{Root: root})
	require.NoError(t, err)

	base := []string{"--root", root, "--node", "spd01", "--fake", "-s", "spdsvc01"}
	code, _, stderr := svcmgrRun(append(base, "compliance", "attach", "--moduleset", "svcenv")...)
	require.Equal(t, 0, code, stderr)
	require.FileExists(t, filepath.Join(root, "var", "spdsvc01", "compliance", "attachments.json"))
	require.NoFileExists(t, filepath.Join(root, "var", "compliance", "attachments.json"))
	att, err := node.Attached(ctx)
	require.NoError(t, err)
	require.Empty(t, att)

	// The node attaches and detaches on its own side: the service keeps
	// its attachment.
	require.NoError(t, node.Attach(ctx, "svcenv"))
	code, out, _ := svcmgrRun(append(base, "compliance", "detach", "--moduleset", "svcenv")...)
	require.Equal(t, 0, code)
	require.Equal(t, "spdsvc01@spd01 attached modulesets: \n", out)
	att, err = node.Attached(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"svcenv"}, att)
	code, _, stderr = svcmgrRun(append(base, "compliance", "detach", "--moduleset", "svcenv")...)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, `moduleset "svcenv" is not attached`)
}

// TestComplianceClusterLocal runs service compliance --cluster from the
// flex primary over the local transport: every node runs the module on
// its own root, with its own node name, and reports.
func TestComplianceClusterLocal(t *testing.T) {
	compliancetest.RequireRoot(t)
	compliancetest.RequireCommands(t, "bash")
	dir := t.TempDir()
	var reg strings.Builder
	for n := 1; n <= 4; n++ {
		name := fmt.Sprintf("spd%02d", n)
		svcRoot(t, filepath.Join(dir, name))
		fmt.Fprintf(&reg, "[%s]\nroot = %s\n", name, filepath.Join(dir, name))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spd01", "etc", "nodes.conf"), []byte(reg.String()), 0o644))
	svcmgrOn := func(node string, args ...string) (int, string, string) {
		return svcmgrRun(append([]string{"--root", filepath.Join(dir, node), "--node", node, "-s", "spdsvc01", "--fake", "--transport", "local", "--cluster"}, args...)...)
	}

	code, out, stderr := svcmgrOn("spd01", "compliance", "attach", "--moduleset", "svcenv")
	require.Equal(t, 0, code, stderr)
	for n := 1; n <= 4; n++ {
		require.Contains(t, out, fmt.Sprintf("@spd%02d\nspdsvc01@spd%02d attached modulesets: svcenv\n", n, n))
	}
	// spd03 is conform already: the check fails on the three others.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "spd03", "mark"), nil, 0o644))
	code, out, stderr = svcmgrOn("spd01", "--format", "json", "compliance", "check")
	require.Equal(t, 1, code, stderr)
	var res cluster.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res))
	require.Len(t, res.Nodes, 4)
	require.Equal(t, []string{"spd01", "spd02", "spd04"}, res.Failed())
	for n, nr := range res.Nodes {
		var rep svccomp.NodeReport
		require.NoError(t, json.Unmarshal(nr.Output, &rep), n)
		require.Equal(t, n, rep.Node)
		require.Contains(t, rep.Report.Results[0].Output, "OSVC_COMP_NODES_NODENAME="+n+"\n")
		require.Contains(t, rep.Report.Results[0].Output, "OSVC_COMP_SVCENV_MARK="+filepath.Join(dir, n, "mark")+"\n")
	}
	require.Contains(t, stderr, "compliance check failed on spd01, spd02, spd04")

	code, out, stderr = svcmgrOn("spd01", "compliance", "fix")
	require.Equal(t, 0, code, out+stderr)
	require.Contains(t, out, "@spd03\n")
	require.Contains(t, out, "spdsvc01@spd03 fix svcenv: 1 modules, 1 ok")
	for n := 1; n <= 4; n++ {
		require.FileExists(t, filepath.Join(dir, fmt.Sprintf("spd%02d", n), "mark"))
	}
	code, _, stderr = svcmgrOn("spd01", "compliance", "check")
	require.Equal(t, 0, code, stderr)

	// Not the flex primary.
	code, _, stderr = svcmgrOn("spd02", "compliance", "check")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "spd02 is not the flex primary")
}

// TestComplianceClusterSSH is the same over SSH: four sshd on loopback,
// the peers' svcmgr printing their reports as JSON, nok on a node is exit
// 1 with every node's report.
func TestComplianceClusterSSH(t *testing.T) {
	compliancetest.RequireCommands(t, "bash")
	c := startSSHCluster(t, "spd01", "spd02", "spd03", "spd04")
	for _, n := range c.nodes {
		svcRoot(t, n.root)
	}
	out := c.ok(t, "--cluster", "compliance", "attach", "--moduleset", "svcenv")
	for _, n := range c.nodes {
		require.Contains(t, out, "@"+n.name+"\nspdsvc01@"+n.name+" attached modulesets: svcenv\n")
		require.FileExists(t, filepath.Join(n.root, "var", "spdsvc01", "compliance", "attachments.json"))
	}
	require.NoError(t, os.WriteFile(filepath.Join(c.nodes[3].root, "mark"), nil, 0o644))
	out, errs, code := c.svcmgr(t, "--format", "json", "--cluster", "compliance", "check")
	require.Equal(t, 1, code, errs)
	var res cluster.Result
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.Equal(t, []string{"spd01", "spd02", "spd03"}, res.Failed())
	for _, n := range c.nodes {
		var rep svccomp.NodeReport
		require.NoError(t, json.Unmarshal(res.Nodes[n.name].Output, &rep), n.name)
		require.Equal(t, n.name, rep.Node)
		require.Contains(t, rep.Report.Results[0].Output, "OSVC_COMP_SERVICES_SVC_NAME=spdsvc01\n")
		require.Contains(t, rep.Report.Results[0].Output, "OSVC_COMP_NODES_NODENAME="+n.name+"\n")
	}
	out = c.ok(t, "--cluster", "compliance", "fix")
	require.Contains(t, out, "spdsvc01@spd02 fix svcenv: 1 modules, 1 ok")
	c.ok(t, "--cluster", "compliance", "check")
	// The seed's typo is refused on the primary, before any node is asked.
	_, errs, code = c.svcmgr(t, "--cluster", "compliance", "fix", "--moduleset", "sdpc.svc", "--rules", filepath.Join(mustAbs(t, seedRules)))
	require.Equal(t, 2, code)
	require.Contains(t, errs, `did you mean "spdc.svc"?`)
}

func mustAbs(t *testing.T, p string) string {
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}

// TestComplianceConcurrentAttach: attaches and detaches racing on one
// service leave a valid attachments file (the engine's lock).
func TestComplianceConcurrentAttach(t *testing.T) {
	root := t.TempDir()
	svcRoot(t, root)
	base := []string{"--root", root, "--node", "spd01", "--fake", "-s", "spdsvc01", "compliance"}
	errs := make(chan string, 16)
	for i := range 16 {
		go func() {
			verb := "attach"
			if i%4 == 3 {
				verb = "list"
			}
			code, out, stderr := svcmgrRun(append(base, verb, "--moduleset", "svcenv")...)
			if code != 0 {
				errs <- out + stderr
				return
			}
			errs <- ""
		}()
	}
	for range 16 {
		require.Empty(t, <-errs)
	}
	b, err := os.ReadFile(filepath.Join(root, "var", "spdsvc01", "compliance", "attachments.json"))
	require.NoError(t, err)
	var st struct {
		Services map[string][]string `json:"services"`
	}
	require.NoError(t, json.Unmarshal(b, &st), string(b))
	require.Equal(t, map[string][]string{"spdsvc01": {"svcenv"}}, st.Services)
}
