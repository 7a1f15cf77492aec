package spd

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/svckit/svckit/internal/nodename"
)

// FuzzParseLayout feeds arbitrary bytes to ParseLayout, the parser of a
// config that relayout reads back: it must never panic or hang; a layout
// it accepts must validate, hold only valid node names, and survive a
// round trip through Config and ParseLayout unchanged.
func FuzzParseLayout(f *testing.F) {
	for _, name := range []string{"testdata/ref-6x3.conf", "testdata/ref-8x2.conf"} {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, in := range []Inputs{inputs(1, []string{"n1"}), inputs(3, []string{"n1", "n2"}), inputs(2, []string{"n1", "n2", "n3"})} {
		if b, err := Generate(in); err == nil {
			f.Add(b)
			// Variants an operator could write: a scope word as a node,
			// a pod moved by hand, a truncated file.
			f.Add([]byte(strings.Replace(string(b), "nodes = n1", "nodes = nodes n1", 1)))
			f.Add([]byte(strings.Replace(string(b), "disable@n1 = false", "disable@nodes = false", 1)))
			f.Add(b[:len(b)/2])
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("[DEFAULT]\napp = a\nnodes = n1\ndocker_data_dir = /x/docker\n[disk#01]\ndisable@n1 = false\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLayout(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if err := l.Validate(); err != nil {
			t.Fatalf("accepted layout does not validate: %v", err)
		}
		for _, n := range l.Nodes {
			if err := nodename.Check(n.Name); err != nil {
				t.Fatalf("accepted layout with a bad node name: %v", err)
			}
		}
		regen, err := l.Config()
		if err != nil {
			t.Fatalf("accepted layout does not render: %v", err)
		}
		again, err := ParseLayout(regen)
		if err != nil {
			t.Fatalf("regenerated config does not parse: %v", err)
		}
		if !reflect.DeepEqual(l, again) {
			t.Fatalf("round trip changed the layout: nodes %v -> %v, counts %v -> %v", l.NodeNames(), again.NodeNames(), l.Counts(), again.Counts())
		}
	})
}
