package compliance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/svckit/svckit/compliance"
)

// A moduleset with one native module: its ruleset holds a file rule and a
// nodeconf rule. Check finds both missing, fix makes them so, and a second
// check is ok. Everything happens under a temporary root.
func ExampleEngine_Run() {
	const export = `{
 "modulesets": [{"modset_name": "base", "rulesets": ["base"], "modules": [{"modset_mod_name": "base", "autofix": true}]}],
 "filtersets": [],
 "rulesets": [{"ruleset_name": "base", "ruleset_type": "explicit", "fset_name": null, "rulesets": [], "variables": [
  {"var_name": "motd", "var_class": "file", "var_value": "{\"path\": \"/etc/motd\", \"fmt\": \"%%HOSTNAME%% is managed by svckit\", \"mode\": 644}"},
  {"var_name": "repo", "var_class": "nodeconf", "var_value": "[{\"key\": \"node.repocomp\", \"op\": \"=\", \"value\": \"https://repo.opensvc.com/compliance/\"}]"}
 ]}]
}`
	ctx := context.Background()
	root, err := os.MkdirTemp("", "compliance-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(root)

	e, err := compliance.ParseExport("example.json", []byte(export))
	if err != nil {
		fmt.Println(err)
		return
	}
	facts := &compliance.Facts{Node: map[string]string{"nodename": "spd03", "os_vendor": "Debian"}}
	eng, err := compliance.NewEngine(e, facts, compliance.Options{Root: root})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := eng.Attach(ctx, "base"); err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range []compliance.Action{compliance.Check, compliance.Fix, compliance.Check} {
		rep, err := eng.Run(ctx, a, compliance.Selection{})
		if err != nil {
			fmt.Println(err)
			return
		}
		r := rep.Results[0]
		fmt.Printf("%s %s: %s (%s)\n", a, r.Module, r.Status, r.Kind)
	}
	motd, _ := os.ReadFile(filepath.Join(root, "etc/motd"))
	fmt.Print(string(motd))
	// Output:
	// check base: nok (native)
	// fix base: ok (native)
	// check base: ok (native)
	// spd03 is managed by svckit
}
