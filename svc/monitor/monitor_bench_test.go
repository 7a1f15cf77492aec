package monitor_test

import (
	"context"
	"syscall"
	"testing"
	"time"

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
// monitor and the status without the fakes' file reads. cpu-ns/op is the
// process's CPU time per pass.
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
			cpu0 := processCPU(b)
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
			// The process's CPU time (user + system, every goroutine) per
			// pass: what a daemon pays, whatever the wall time on shared
			// cores.
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
