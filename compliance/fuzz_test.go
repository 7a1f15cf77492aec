package compliance_test

import (
	"testing"

	"github.com/svckit/svckit/compliance"
)

// FuzzParseExport feeds damaged exports: they must come back as errors,
// never as a panic, and what parses must resolve without one.
func FuzzParseExport(f *testing.F) {
	// Small seeds: the whole seed exports make every minimisation slow.
	f.Add([]byte(`{"modulesets":[{"modset_name":"a","modules":[{"modset_mod_name":"m","autofix":true}],"rulesets":["r"],"modulesets":["b"]},{"modset_name":"b"}],
"filtersets":[{"fset_name":"f","filters":[{"filter":{"f_op":"LIKE","f_field":"os_name","f_value":"Lin%","f_table":"nodes"},"f_order":0,"f_log_op":"AND NOT","filterset":null},{"filter":null,"f_order":1,"f_log_op":"OR","filterset":"g"}]},{"fset_name":"g","filters":[]}],
"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","fset_name":null,"rulesets":["c"],"variables":[{"var_name":"v","var_class":"sysctl","var_value":"[{\"key\":\"vm.x\",\"op\":\">=\",\"value\":1}]"}]},
{"ruleset_name":"c","ruleset_type":"contextual","fset_name":"f","variables":[{"var_name":"w","var_class":"file","var_value":"{\"path\":\"/a/\",\"mode\":755}"}]}]}`))
	f.Add([]byte(`{"modulesets":[null],"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[null]}]}`))
	f.Add([]byte(`{"filtersets":[{"fset_name":"f","filters":[{"filterset":[[[[{"a":[[]]}]]]]}]}],"rulesets":[{"ruleset_name":"r","ruleset_type":"explicit","variables":[{"var_name":"v","var_class":"nodeconf","var_value":"[[{\"key\":\"a.b\",\"op\":\"=\",\"value\":\"x\\u000ay\"}]]"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := compliance.ParseExport("fuzz", data)
		if err != nil {
			return
		}
		facts := &compliance.Facts{Node: map[string]string{"os_name": "Linux"}}
		for _, name := range e.ModulesetNames() {
			if _, err := e.ExpandModulesets([]string{name}); err != nil {
				continue
			}
			ms, _ := e.Moduleset(name)
			_, _ = e.ModulesetRulesets(ms, facts)
		}
		_, _ = e.ContextualRulesets(facts)
	})
}
