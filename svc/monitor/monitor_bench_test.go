package monitor_test

import (
	"context"
	"testing"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// BenchmarkPass32Pods is one monitor pass over the seed's 32-pod service
// as spd01 runs it (8 pods: 67 resources plus sync#i0) on fakes: "idle" when all is up
// (what the daemon pays every interval; its CPU per idle hour is ns/op
// times the passes per hour), "restart" with one container crashed before
// each pass and restarted by it. "files" keeps the fake states in files,
// as svcmgr --fake and the daemon --fake do; "memory" measures the
// monitor and the status without the fakes' file reads.
func BenchmarkPass32Pods(b *testing.B) {
	for _, bc := range []struct {
		name  string
		opts  fake.Options
		crash bool
	}{
		{"idle/files", fake.Options{}, false},
		{"idle/memory", fake.Options{Memory: true}, false},
		{"restart/files", fake.Options{}, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			f := load(b, map[string][]string{"container#01db": {"restart = 1"}}, bc.opts)
			m := f.monitor(monitor.Options{})
			c := f.fake("container#01db")
			b.ReportAllocs()
			for b.Loop() {
				if bc.crash {
					if err := c.Crash(ctx); err != nil {
						b.Fatal(err)
					}
				}
				rep, err := m.Pass(ctx, f.s)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(rep.Status.Visible(svc.StatusOptions{}).Resources); rep.Status.Avail != resource.Up || n != 68 {
					b.Fatalf("avail %s, %d resources", rep.Status.Avail, n)
				}
				if bc.crash && len(rep.Restarted) != 2 {
					b.Fatalf("restarted %v", rep.Restarted)
				}
			}
		})
	}
}
