package compliance_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/compliance/compliancetest"
)

type fl struct {
	order                   int
	logOp                   string
	table, field, op, value string
	nested                  string
}

func exportWith(t *testing.T, sets map[string][]fl) *compliance.Export {
	t.Helper()
	var fsets []map[string]any
	for name, filters := range sets {
		var entries []map[string]any
		for _, f := range filters {
			e := map[string]any{"f_order": f.order, "f_log_op": f.logOp, "filter": nil, "filterset": nil}
			if f.nested != "" {
				e["filterset"] = f.nested
			} else {
				e["filter"] = map[string]any{"f_table": f.table, "f_field": f.field, "f_op": f.op, "f_value": f.value}
			}
			entries = append(entries, e)
		}
		fsets = append(fsets, map[string]any{"fset_name": name, "filters": entries})
	}
	b, err := json.Marshal(map[string]any{"filtersets": fsets})
	require.NoError(t, err)
	e, err := compliance.ParseExport("test", b)
	require.NoError(t, err)
	return e
}

func TestMatchFilterset(t *testing.T) {
	facts := &compliance.Facts{
		Node:     map[string]string{"nodename": "spd03", "os_name": "Linux", "os_vendor": "Debian", "os_release": "12", "team_responsible": "OpenSVC", "mem_bytes": "8192"},
		Packages: []checker.Package{{Name: "systemd", Version: "252.1-1"}, {Name: "docker.io", Version: "20.10.24"}},
	}
	linux := fl{table: "nodes", field: "os_name", op: "=", value: "Linux"}
	sunos := fl{table: "nodes", field: "os_name", op: "=", value: "SunOS"}
	team := fl{table: "nodes", field: "team_responsible", op: "=", value: "OpenSVC"}
	tests := []struct {
		name    string
		filters []fl
		want    bool
	}{
		{"empty filterset is false", nil, false},
		{"equal", []fl{linux}, true},
		{"seed solaris filterset on a Linux node", []fl{withOp(sunos, "AND"), withOp(team, "AND")}, false},
		{"OR", []fl{sunos, withOp(team, "OR")}, true},
		{"AND NOT", []fl{linux, withOp(sunos, "AND NOT")}, true},
		{"OR NOT", []fl{sunos, withOp(linux, "OR NOT")}, false},
		{"first NOT negates", []fl{withOp(sunos, "AND NOT")}, true},
		{"left to right, no precedence: (F OR T) AND T", []fl{sunos, withOp(linux, "OR"), withOp(team, "AND")}, true},
		{"left to right, no precedence: (T OR T) AND F", []fl{linux, withOp(team, "OR"), withOp(sunos, "AND")}, false},
		{"f_order sorts the entries", []fl{withOrder(withOp(sunos, "AND"), 2), withOrder(linux, 1)}, false},
		{"LIKE", []fl{{table: "nodes", field: "nodename", op: "LIKE", value: "spd%"}}, true},
		{"LIKE single char", []fl{{table: "nodes", field: "nodename", op: "LIKE", value: "spd_3"}}, true},
		{"LIKE no match", []fl{{table: "nodes", field: "nodename", op: "LIKE", value: "db%"}}, false},
		{"IN", []fl{{table: "nodes", field: "os_vendor", op: "IN", value: "Ubuntu, Debian"}}, true},
		{"numeric >", []fl{{table: "nodes", field: "mem_bytes", op: ">", value: "900"}}, true},
		{"numeric <=", []fl{{table: "nodes", field: "os_release", op: "<=", value: "8"}}, false},
		{"missing field", []fl{{table: "nodes", field: "loc_city", op: "=", value: "Paris"}}, false},
		{"package present", []fl{{table: "packages", field: "pkg_name", op: "=", value: "systemd"}}, true},
		{"package absent", []fl{{table: "packages", field: "pkg_name", op: "=", value: "xinetd"}}, false},
		{"package version", []fl{{table: "packages", field: "pkg_version", op: "LIKE", value: "252.%"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := exportWith(t, map[string][]fl{"f": tt.filters})
			got, err := e.MatchFilterset("f", facts)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("nested filterset", func(t *testing.T) {
		e := exportWith(t, map[string][]fl{
			"inner": {sunos, withOp(team, "OR")},
			"outer": {linux, {logOp: "AND", nested: "inner"}},
		})
		got, err := e.MatchFilterset("outer", facts)
		require.NoError(t, err)
		require.True(t, got)
	})
	t.Run("nested empty filterset is false", func(t *testing.T) {
		e := exportWith(t, map[string][]fl{"inner": nil, "outer": {linux, {logOp: "AND", nested: "inner"}}})
		got, err := e.MatchFilterset("outer", facts)
		require.NoError(t, err)
		require.False(t, got)
	})
}

func withOp(f fl, op string) fl { f.logOp = op; return f }
func withOrder(f fl, o int) fl  { f.order = o; return f }

func TestGatherFacts(t *testing.T) {
	compliancetest.RequireCommands(t, "dpkg", "dpkg-deb", "dpkg-query")
	compliancetest.RequireRoot(t) // dpkg --root writes files owned by root
	root := compliancetest.DebianRoot(t, "[node]\nteam_responsible = SPD\nos_release = 12.8\n")
	compliancetest.InstallDebs(t, root, "systemd", "xinetd")
	facts, err := compliance.GatherFacts(context.Background(), compliance.FactsOptions{Root: root, Nodename: "spd03"})
	require.NoError(t, err)
	require.Equal(t, "spd03", facts.Nodename())
	require.Equal(t, "Linux", facts.Node["os_name"])
	require.Equal(t, "Debian", facts.Node["os_vendor"])
	require.Equal(t, "12.8", facts.Node["os_release"], "node.conf overrides the host")
	require.Equal(t, "SPD", facts.Node["team_responsible"])
	require.NotEmpty(t, facts.Node["os_arch"])
	require.Equal(t, []checker.Package{{Name: "systemd", Version: "1.0-1"}, {Name: "xinetd", Version: "1.0-1"}}, facts.Packages)
	require.Equal(t, "dpkg", facts.PackageBackend())
}

func TestVariablesReachModules(t *testing.T) {
	// A child ruleset's variable wins over its parent's; a contextual
	// ruleset applies only when its filterset matches; an explicit
	// ruleset only through the moduleset that attaches it.
	doc := `{
 "modulesets": [
  {"modset_name": "ms", "modules": [{"modset_mod_name": "m", "autofix": false}], "rulesets": ["parent"], "modulesets": []},
  {"modset_name": "other", "modules": [{"modset_mod_name": "o", "autofix": true}], "rulesets": ["unrelated"], "modulesets": []}
 ],
 "filtersets": [
  {"fset_name": "linux", "filters": [{"filter": {"f_table": "nodes", "f_field": "os_name", "f_op": "=", "f_value": "Linux"}, "f_order": 0, "f_log_op": "AND", "filterset": null}]},
  {"fset_name": "sunos", "filters": [{"filter": {"f_table": "nodes", "f_field": "os_name", "f_op": "=", "f_value": "SunOS"}, "f_order": 0, "f_log_op": "AND", "filterset": null}]}
 ],
 "rulesets": [
  {"ruleset_name": "parent", "ruleset_type": "explicit", "fset_name": null, "rulesets": ["child.linux", "child.sunos"],
   "variables": [{"var_name": "color", "var_class": "raw", "var_value": "red"}, {"var_name": "size", "var_class": "raw", "var_value": "L"}]},
  {"ruleset_name": "child.linux", "ruleset_type": "contextual", "fset_name": "linux", "rulesets": [],
   "variables": [{"var_name": "color", "var_class": "raw", "var_value": "blue"}]},
  {"ruleset_name": "child.sunos", "ruleset_type": "contextual", "fset_name": "sunos", "rulesets": [],
   "variables": [{"var_name": "size", "var_class": "raw", "var_value": "XL"}]},
  {"ruleset_name": "global.linux", "ruleset_type": "contextual", "fset_name": "linux", "rulesets": [],
   "variables": [{"var_name": "db-admin.password", "var_class": "raw", "var_value": "s3cr3t-value"}]},
  {"ruleset_name": "unrelated", "ruleset_type": "explicit", "fset_name": null, "rulesets": [],
   "variables": [{"var_name": "unrelated var", "var_class": "raw", "var_value": "x"}]}
 ]
}`
	e, err := compliance.ParseExport("doc", []byte(doc))
	require.NoError(t, err)
	facts := &compliance.Facts{Node: map[string]string{"nodename": "n1.example.com", "os_name": "Linux"}}
	eng, err := compliance.NewEngine(e, facts, compliance.Options{Root: t.TempDir(), Service: "svc1", Env: map[string]string{"EXTRA": "1"}})
	require.NoError(t, err)
	infos, err := eng.Show(context.Background(), compliance.Selection{Modulesets: []string{"ms"}})
	require.NoError(t, err)
	require.Len(t, infos, 1)
	env := map[string]string{}
	for _, v := range infos[0].Env {
		env[v.Name] = v.Value
	}
	require.Equal(t, "blue", env["OSVC_COMP_COLOR"])
	require.Equal(t, "L", env["OSVC_COMP_SIZE"])
	require.Equal(t, "xxxx", env["OSVC_COMP_DB_ADMIN_PASSWORD"])
	require.NotContains(t, env, "OSVC_COMP_UNRELATED_VAR")
	require.Equal(t, "svc1", env["OSVC_COMP_SERVICES_SVC_NAME"])
	require.Equal(t, "n1.example.com", env["OSVC_COMP_NODES_NODENAME"])
	require.Equal(t, "1", env["EXTRA"])
	require.Equal(t, []string{"child.linux", "global.linux", "parent"}, infos[0].Rulesets)

	var text strings.Builder
	require.NoError(t, compliance.WriteModuleInfoText(&text, infos))
	require.NotContains(t, text.String(), "s3cr3t")
}
