package svc_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// sectionsConfig is a configuration of n fs sections on one node, each
// with its own device and mount point.
func sectionsConfig(n int) []byte {
	var b bytes.Buffer
	b.WriteString("[DEFAULT]\nnodes = n1\n\n")
	for i := range n {
		fmt.Fprintf(&b, "[fs#%d]\ntype = ext4\ndev = /dev/d%d\nmnt = /srv/{svcname}/%d\n\n", i, i, i)
	}
	return b.Bytes()
}

// BenchmarkLoadSections parses, validates and builds configurations of
// 5,000, 20,000 and 50,000 sections: the time and memory per section
// must stay flat (linear load).
func BenchmarkLoadSections(b *testing.B) {
	for _, n := range []int{5000, 20000, 50000} {
		conf := sectionsConfig(n)
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			reg := fake.Registry(fake.Options{})
			opts := svc.Options{Node: "n1", Svcname: "big", Registry: reg, Root: b.TempDir(), NoTriggers: true}
			b.SetBytes(int64(len(conf)))
			b.ReportAllocs()
			for b.Loop() {
				s, err := svc.Parse(b.Context(), "big.conf", conf, opts)
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Resources()) < n { // plus the implicit sync#i0
					b.Fatalf("%d resources, want at least %d", len(s.Resources()), n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/section")
		})
	}
}
