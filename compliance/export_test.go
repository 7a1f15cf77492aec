package compliance_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
)

func TestLoadSeedExports(t *testing.T) {
	ctx := context.Background()
	node, err := compliance.LoadExport(ctx, "testdata/spdc-node.json")
	require.NoError(t, err)
	require.Len(t, node.Modulesets, 6)
	require.Len(t, node.Rulesets, 8)
	require.Len(t, node.Filtersets, 3)
	ms, ok := node.Moduleset("spdc.node")
	require.True(t, ok)
	require.Empty(t, ms.Modules)
	require.Equal(t, []string{"com.opensvc.sys.opensvc.dequeue-actions-listener", "spdc.packages", "spdc.opensvc", "spdc.network", "spdc.kernel"}, ms.Modulesets)
	rs, ok := node.Ruleset("com.opensvc.sys.opensvc.dequeue-actions-listener.smf")
	require.True(t, ok)
	require.Equal(t, compliance.Contextual, rs.Type)
	require.Equal(t, "opensvc solaris servers", *rs.Filterset)
	require.Len(t, rs.Variables, 3)

	svc, err := compliance.LoadExport(ctx, "testdata/spdc-svc.json")
	require.NoError(t, err)
	require.Empty(t, svc.Filtersets)
	mods, err := svc.ExpandModulesets([]string{"spdc.svc"})
	require.NoError(t, err)
	require.Equal(t, []compliance.ModuleEntry{{Moduleset: "spdc.svc.db.cnf", Name: "spdc.svc.db.cnf"}}, mods)

	both, err := compliance.Merge(node, svc)
	require.NoError(t, err)
	require.Len(t, both.Modulesets, 8)
	mods, err = both.ExpandModulesets([]string{"spdc.node"})
	require.NoError(t, err)
	require.Len(t, mods, 5)
}

func TestParseExportErrors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"syntax error names the line", "{\n \"modulesets\": [\n  {,\n]}", "x.json:3"},
		{"type error names the line", "{\"modulesets\": [],\n\"rulesets\": 3}", "x.json:2"},
		{"unknown ruleset", `{"modulesets":[{"modset_name":"m","rulesets":["nope"],"modules":[]}]}`, `moduleset "m": ruleset "nope" is not defined`},
		{"unknown nested moduleset", `{"modulesets":[{"modset_name":"m","modulesets":["x"]}]}`, `moduleset "m": moduleset "x" is not defined`},
		{"unknown filterset", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"contextual","fset_name":"f"}]}`, `ruleset "r": filterset "f" is not defined`},
		{"bad ruleset type", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"magic"}]}`, `ruleset_type "magic"`},
		{"bad file rule", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[{"var_name":"v1","var_class":"file","var_value":"{\"fmt\":\"x\"}"}]}]}`, `variable "v1" (class file): variable v1: file rule: path is missing`},
		{"bad mode", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[{"var_name":"v1","var_class":"file","var_value":"{\"path\":\"/a\",\"mode\":\"rwx\"}"}]}]}`, `mode: rwx is not an octal mode`},
		{"bad sysctl op", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[{"var_name":"k","var_class":"sysctl","var_value":"[{\"key\":\"vm.swappiness\",\"op\":\"!=\",\"value\":1}]"}]}]}`, `op "!=", expected one of = >= <= > <`},
		{"bad nodeconf key", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[{"var_name":"k","var_class":"nodeconf","var_value":"[{\"key\":\"repocomp\",\"op\":\"=\",\"value\":1}]"}]}]}`, `expected section.option`},
		{"package name like an option", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[{"var_name":"p","var_class":"packages","var_value":"[\"--force-yes\"]"}]}]}`, `package name "-force-yes" is not valid`},
		{"bad filter op", `{"filtersets":[{"fset_name":"f","filters":[{"filter":{"f_op":"~","f_field":"a","f_value":"b","f_table":"nodes"},"f_log_op":"AND"}]}]}`, `f_op "~"`},
		{"bad log op", `{"filtersets":[{"fset_name":"f","filters":[{"filter":{"f_op":"=","f_field":"a","f_value":"b","f_table":"nodes"},"f_log_op":"XOR"}]}]}`, `f_log_op "XOR"`},
		{"moduleset loop", `{"modulesets":[{"modset_name":"a","modulesets":["b"]},{"modset_name":"b","modulesets":["a"]}]}`, "moduleset nesting loop: a -> b -> a"},
		{"ruleset loop", `{"rulesets":[{"ruleset_name":"a","ruleset_type":"explicit","rulesets":["a"]}]}`, "ruleset nesting loop: a -> a"},
		{"trailing data", `{} {}`, "trailing data"},
		{"nesting bomb", "{\"filtersets\":[{\"fset_name\":\"f\",\"filters\":[{\"f_log_op\":\"AND\",\n\"filterset\":" + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "}]}]}", "x.json:2: JSON nested deeper than 64 levels"},
		{"nesting bomb unclosed", strings.Repeat("{\"a\":", 1000000), "x.json:1: JSON nested deeper than 64 levels"},
		{"nested variable value", `{"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[{"var_name":"k","var_class":"sysctl","var_value":"` + strings.Repeat("[", 65) + `"}]}]}`, `variable "k" (class sysctl): JSON value nested deeper than 64 levels`},
		{"too large", "{" + strings.Repeat(" ", compliance.MaxExportSize) + "}", "export larger than 64 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := compliance.ParseExport("x.json", []byte(tt.doc))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			require.Less(t, time.Since(start), 2*time.Second)
		})
	}
}

// TestExportDepthLimit: brackets inside strings do not count, and the
// limit itself is accepted.
func TestExportDepthLimit(t *testing.T) {
	deep := `{"modulesets":[{"modset_name":"m\"[[[` + strings.Repeat("[{", 200) + `"}]}`
	e, err := compliance.ParseExport("x.json", []byte(deep))
	require.NoError(t, err)
	require.Len(t, e.Modulesets, 1)
	// 64 levels: the document's 5 then 59 in the filterset's raw value,
	// which is then refused for what it is, not for its depth.
	atLimit := `{"filtersets":[{"fset_name":"f","filters":[{"f_log_op":"AND","filterset":` + strings.Repeat("[", 59) + strings.Repeat("]", 59) + `}]}]}`
	_, err = compliance.ParseExport("x.json", []byte(atLimit))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "nested deeper")
}

func TestLoadExportTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.json")
	require.NoError(t, os.WriteFile(p, nil, 0o644))
	require.NoError(t, os.Truncate(p, 1<<30)) // sparse: read no further than the limit
	_, err := compliance.LoadExport(context.Background(), p)
	require.ErrorContains(t, err, "big.json: export larger than 64 MiB")
}
