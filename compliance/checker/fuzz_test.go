package checker_test

import (
	"testing"

	"github.com/svckit/svckit/compliance/checker"
)

// FuzzNewObject: any variable value parses or fails, without a panic.
func FuzzNewObject(f *testing.F) {
	for _, s := range []string{
		`{"path":"/etc/x","fmt":"a","mode":644,"uid":"root","gid":0}`,
		`[{"key":"vm.swappiness","index":0,"op":">=","value":5}]`,
		`{"key":"vm.swappiness","value":[[">=",5],["<=",10]]}`,
		`["sysstat","-telnet"]`,
		`[{"key":"node.repocomp","op":"=","value":"x"}]`,
		`[[],[[]]]`, `{"value":[[1]]}`, `null`, `[null]`,
	} {
		for _, class := range []string{"file", "sysctl", "package", "nodeconf"} {
			f.Add(class, s)
		}
	}
	f.Fuzz(func(t *testing.T, class, value string) {
		_, _ = checker.NewObject(class, []checker.Var{{Name: "v", Value: value}})
	})
}
