package fake_test

import (
	"context"
	"testing"

	"github.com/svckit/svckit/driver/fake"
)

// BenchmarkPodStartStop measures what the fakes add to a scheduler run: a
// pod's 10 starts and 10 stops (ordering checks and state files), no
// latency.
func BenchmarkPodStartStop(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts fake.Options
	}{
		{"files", fake.Options{}},
		{"memory", fake.Options{Memory: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			rs := seedFixture(b.TempDir()).build(b, fake.Registry(bc.opts))
			order := podStartOrder("01")
			rev := reversed(order)
			b.ReportAllocs()
			for b.Loop() {
				for _, rid := range order {
					if err := rs[rid].Start(ctx); err != nil {
						b.Fatal(err)
					}
				}
				for _, rid := range rev {
					if err := rs[rid].Stop(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*2*len(order)), "µs/action")
		})
	}
}

// BenchmarkStatus32Pods is the status of every resource of the seed's
// 32-pod service (259 resources) as one node sees it.
func BenchmarkStatus32Pods(b *testing.B) {
	ctx := context.Background()
	f := newFixture(b.TempDir())
	f.add("disk#00", "disk.gce", "names", "spdsvc01-spd01", "always_on", "nodes")
	f.add("fs#00", "fs.btrfs", "dev", "LABEL=spdsvc01", "mnt", "/spdsvc01")
	f.add("sync#i0", "sync.rsync", "target", "drpnodes nodes")
	for pod := 1; pod <= 32; pod++ {
		f.addPod(pod, pod > 8)
	}
	rs := f.build(b, fake.Registry(fake.Options{}))
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range rs {
			if _, err := r.Status(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}
