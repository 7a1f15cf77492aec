package compliance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/compliancetest"
	"github.com/svckit/svckit/resource"
)

const scriptsExport = `{
 "modulesets": [
  {"modset_name": "ms", "rulesets": ["rs"], "modulesets": [], "modules": [
    {"modset_mod_name": "second", "autofix": true},
    {"modset_mod_name": "first", "autofix": false},
    {"modset_mod_name": "broken", "autofix": false},
    {"modset_mod_name": "unfixable", "autofix": false},
    {"modset_mod_name": "unsafe", "autofix": false}
  ]}
 ],
 "filtersets": [],
 "rulesets": [
  {"ruleset_name": "rs", "ruleset_type": "explicit", "fset_name": null, "rulesets": [],
   "variables": [{"var_name": "marker", "var_class": "raw", "var_value": "done"}, {"var_name": "api_token", "var_class": "raw", "var_value": "tok-123456"}]}
 ]
}`

// scriptEngine makes modules whose behaviour the test controls: second is
// nok until its fix writes a marker, unfixable says so, broken exits 7,
// unsafe is writable by others.
func scriptEngine(t *testing.T, opts ...func(*compliance.Options)) (*compliance.Engine, string) {
	t.Helper()
	compliancetest.RequireRoot(t) // modules must be owned by root
	compliancetest.RequireCommands(t, "bash")
	root := t.TempDir()
	mods := filepath.Join(root, "var/compliance/modules")
	require.NoError(t, os.MkdirAll(mods, 0o755))
	marker := filepath.Join(root, "marker")
	scripts := map[string]string{
		"10-first": `echo "first $1 $OSVC_COMP_MARKER"; exit 0`,
		"20-second": fmt.Sprintf(`case $1 in
check) [ -e %[1]q ] && { echo conform; exit 0; }; echo "marker missing" >&2; exit 1;;
fixable) exit 2;;
fix) echo $OSVC_COMP_MARKER > %[1]q; echo fixed;;
esac`, marker),
		"30-broken":    `echo "broken $1"; exit 7`,
		"25-unfixable": `case $1 in check) exit 1;; fixable) echo "needs a human"; exit 1;; fix) echo SHOULD-NOT-RUN; exit 0;; esac`,
		"40-unsafe":    `exit 0`,
	}
	for name, body := range scripts {
		p := filepath.Join(mods, name)
		require.NoError(t, os.WriteFile(p, []byte("#!/bin/bash\n"+body+"\n"), 0o755))
	}
	require.NoError(t, os.Chmod(filepath.Join(mods, "40-unsafe"), 0o757))
	e, err := compliance.ParseExport("scripts", []byte(scriptsExport))
	require.NoError(t, err)
	o := compliance.Options{Root: root}
	for _, f := range opts {
		f(&o)
	}
	eng, err := compliance.NewEngine(e, &compliance.Facts{Node: map[string]string{"nodename": "n1"}}, o)
	require.NoError(t, err)
	return eng, marker
}

func TestScriptModules(t *testing.T) {
	eng, marker := scriptEngine(t)
	ctx := context.Background()
	sel := compliance.Selection{Modulesets: []string{"ms"}}

	rep, err := eng.Run(ctx, compliance.Check, sel)
	require.NoError(t, err)
	var order []string
	for _, r := range rep.Results {
		order = append(order, r.Module+"="+r.Status)
	}
	require.Equal(t, []string{"first=ok", "second=nok", "unfixable=nok", "broken=failed", "unsafe=failed"}, order)
	require.Contains(t, rep.Results[0].Output, "first check done")
	require.Contains(t, rep.Results[1].Output, "marker missing")
	require.Equal(t, 7, rep.Results[3].RC)
	require.Contains(t, rep.Results[4].Output, "writable by others")
	require.Equal(t, compliance.Digest{OK: 1, NOK: 2, Failed: 2, NotOK: []string{"second", "unfixable", "broken", "unsafe"}, Duration: rep.Digest.Duration}, rep.Digest)

	rep, err = eng.Run(ctx, compliance.Fix, sel)
	require.NoError(t, err)
	got := map[string]compliance.Result{}
	for _, r := range rep.Results {
		got[r.Module] = r
	}
	require.Equal(t, "ok", got["second"].Status, got["second"].Output)
	require.Contains(t, got["second"].Output, "--- check\nmarker missing\n--- fixable\n--- fix\nfixed\n--- check\nconform\n")
	require.FileExists(t, marker)
	require.Equal(t, "nok", got["unfixable"].Status)
	require.Contains(t, got["unfixable"].Output, "not fixable")
	require.NotContains(t, got["unfixable"].Output, "SHOULD-NOT-RUN")
	require.Contains(t, got["first"].Output, "already conform")

	// auto: fix the autofix modules (second), check the others.
	require.NoError(t, os.Remove(marker))
	rep, err = eng.Run(ctx, compliance.Auto, compliance.Selection{Modulesets: []string{"ms"}, Modules: []string{"second", "first"}})
	require.NoError(t, err)
	require.Len(t, rep.Results, 2)
	require.FileExists(t, marker)
	for _, r := range rep.Results {
		require.Equal(t, "ok", r.Status)
		if r.Module == "first" {
			require.NotContains(t, r.Output, "--- fix")
		}
	}

	var text, js bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	require.Contains(t, text.String(), "n1 auto ms: 2 modules, 2 ok, 0 nok, 0 n/a, 0 failed")
	require.NoError(t, rep.WriteJSON(&js))
	var back compliance.Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, rep.Results[0].Module, back.Results[0].Module)

	_, err = eng.Run(ctx, compliance.Check, compliance.Selection{Modulesets: []string{"ms"}, Modules: []string{"nope"}})
	require.ErrorContains(t, err, "module nope is not in moduleset ms")
}

func TestAttachDetach(t *testing.T) {
	ctx := context.Background()
	e, err := compliance.LoadExport(ctx, "testdata/spdc-node.json")
	require.NoError(t, err)
	root := t.TempDir()
	facts := &compliance.Facts{Node: map[string]string{"nodename": "spd03"}}
	eng, err := compliance.NewEngine(e, facts, compliance.Options{Root: root})
	require.NoError(t, err)
	svcEng, err := compliance.NewEngine(e, facts, compliance.Options{Root: root, Service: "spdsvc01"})
	require.NoError(t, err)

	_, err = eng.Run(ctx, compliance.Check, compliance.Selection{})
	require.ErrorContains(t, err, "no moduleset attached")

	err = eng.Attach(ctx, "sdpc.node")
	var um *compliance.UnknownModulesetError
	require.ErrorAs(t, err, &um)
	require.ErrorContains(t, err, `did you mean "spdc.node"?`)

	require.NoError(t, eng.Attach(ctx, "spdc.node", "spdc.kernel"))
	require.NoError(t, eng.Attach(ctx, "spdc.node"))
	require.NoError(t, svcEng.Attach(ctx, "spdc.network"))
	att, err := eng.Attached(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"spdc.kernel", "spdc.node"}, att)
	att, err = svcEng.Attached(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"spdc.network"}, att)

	require.NoError(t, eng.Detach(ctx, "spdc.kernel"))
	require.ErrorContains(t, eng.Detach(ctx, "spdc.kernel"), "is not attached")
	att, err = eng.Attached(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"spdc.node"}, att)
	b, err := os.ReadFile(filepath.Join(root, "var/compliance/attachments.json"))
	require.NoError(t, err)
	require.True(t, strings.Contains(string(b), `"spdsvc01"`))
}

func TestShowRedactsSecrets(t *testing.T) {
	var logs bytes.Buffer
	eng, _ := scriptEngine(t, func(o *compliance.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	rep, err := eng.Run(context.Background(), compliance.Fix, compliance.Selection{Modulesets: []string{"ms"}})
	require.NoError(t, err)
	require.Len(t, rep.Results, 5)
	require.Contains(t, logs.String(), "module=second")
	require.NotContains(t, logs.String(), "tok-123456")

	infos, err := eng.Show(context.Background(), compliance.Selection{Modulesets: []string{"ms"}, Modules: []string{"first"}})
	require.NoError(t, err)
	require.Len(t, infos, 1)
	require.Equal(t, "script", infos[0].Kind)
	var buf bytes.Buffer
	require.NoError(t, compliance.WriteModuleInfoText(&buf, infos))
	require.Contains(t, buf.String(), "OSVC_COMP_API_TOKEN=xxxx")
	require.Contains(t, buf.String(), "OSVC_COMP_MARKER=done")
	require.NotContains(t, buf.String(), "tok-123456")
}

func TestModuleTimeout(t *testing.T) {
	eng, _ := scriptEngine(t, func(o *compliance.Options) { o.ModuleTimeout = 300 * time.Millisecond })
	mods := eng.ModulesDir()
	require.NoError(t, os.WriteFile(filepath.Join(mods, "10-first"), []byte("#!/bin/bash\nexec sleep 30\n"), 0o755))
	start := time.Now()
	rep, err := eng.Run(context.Background(), compliance.Check, compliance.Selection{Modulesets: []string{"ms"}, Modules: []string{"first"}})
	require.NoError(t, err)
	require.Less(t, time.Since(start), 20*time.Second, "the module was not stopped")
	require.Equal(t, "failed", rep.Results[0].Status)
	require.Contains(t, rep.Results[0].Output, "deadline exceeded")
}

// TestSolarisNode applies the seed's smf ruleset on a node its filterset
// matches: the manifest path comes from a raw variable of the same ruleset
// through %%ENV:OPENSVC_DEQUEUE_ACTIONS_MANIFEST_PATH%%.
func TestSolarisNode(t *testing.T) {
	compliancetest.RequireRoot(t) // the rule chowns to root
	ctx := context.Background()
	e, err := compliance.LoadExport(ctx, "testdata/spdc-node.json")
	require.NoError(t, err)
	root := t.TempDir()
	facts := &compliance.Facts{Node: map[string]string{"nodename": "sol1", "os_name": "SunOS", "team_responsible": "OpenSVC"}}
	eng, err := compliance.NewEngine(e, facts, compliance.Options{Root: root, Environ: []string{}})
	require.NoError(t, err)
	sel := compliance.Selection{Modulesets: []string{"com.opensvc.sys.opensvc.dequeue-actions-listener"}}
	rep, err := eng.Run(ctx, compliance.Fix, sel)
	require.NoError(t, err)
	require.True(t, rep.AllOK(), rep.Results[0].Output)
	b, err := os.ReadFile(filepath.Join(root, "var/svc/manifest/network/opensvc-dequeue-actions-tcp.xml"))
	require.NoError(t, err)
	require.Contains(t, string(b), "<service name='network/opensvc-dequeue-actions/tcp' type='service' version='0'>")
	require.NoDirExists(t, filepath.Join(root, "etc/systemd"))

	// Another team's Solaris node: the filterset does not match, nothing applies.
	facts.Node["team_responsible"] = "DBA"
	eng, err = compliance.NewEngine(e, facts, compliance.Options{Root: t.TempDir(), Environ: []string{}})
	require.NoError(t, err)
	rep, err = eng.Run(ctx, compliance.Check, sel)
	require.NoError(t, err)
	require.Equal(t, "n/a", rep.Results[0].Status)
}

func TestDryRunAndProgress(t *testing.T) {
	eng, marker := scriptEngine(t)
	var mu sync.Mutex
	var events []resource.Event
	ctx := resource.WithProgress(resource.WithDryRun(context.Background(), true), func(e resource.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	})
	rep, err := eng.Run(ctx, compliance.Fix, compliance.Selection{Modulesets: []string{"ms"}, Modules: []string{"first", "second"}})
	require.NoError(t, err)
	require.NoFileExists(t, marker)
	got := statuses(rep)
	require.Equal(t, map[string]string{"first": "ok", "second": "nok"}, got)
	require.Contains(t, rep.Results[1].Output, "dry run: fix not run")
	require.NotContains(t, rep.Results[1].Output, "--- fix\n")

	var phases []string
	for _, e := range events {
		phases = append(phases, e.RID+" "+string(e.Phase))
	}
	require.Equal(t, []string{"compliance:first started", "compliance:first done", "compliance:second started", "compliance:second failed"}, phases)
	require.Equal(t, "module is nok", events[3].Error)
}

func TestOuterCompVarsDropped(t *testing.T) {
	doc := `{"modulesets": [{"modset_name": "ms", "rulesets": ["rs"], "modules": [{"modset_mod_name": "m"}]}],
 "rulesets": [{"ruleset_name": "rs", "ruleset_type": "explicit", "variables": [
  {"var_name": "f", "var_class": "file", "var_value": "{\"path\": \"/etc/%%ENV:STALE%%\", \"fmt\": \"x\"}"}]}]}`
	e, err := compliance.ParseExport("x", []byte(doc))
	require.NoError(t, err)
	eng, err := compliance.NewEngine(e, &compliance.Facts{Node: map[string]string{"nodename": "n1"}}, compliance.Options{
		Root:    t.TempDir(),
		Environ: []string{"PATH=/usr/bin:/bin", "OSVC_COMP_STALE=leak", "SVCKIT_COMP_ROOT=/elsewhere"},
	})
	require.NoError(t, err)
	rep, err := eng.Run(context.Background(), compliance.Check, compliance.Selection{Modulesets: []string{"ms"}})
	require.NoError(t, err)
	require.Equal(t, "n/a", rep.Results[0].Status, rep.Results[0].Output)
	require.Contains(t, rep.Results[0].Output, "variable STALE is not defined")
}
