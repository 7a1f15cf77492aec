package monitor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc/monitor"
)

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDaemonIdleCPU measures the CPU time (user + system, the whole
// process) of the daemon's idle monitor passes on the 32-pod service on
// the fakes with their state files (as nodemgr daemon run --fake): every
// resource up, nothing to restart, each pass reading the 68 resources'
// status. It prints the CPU time per pass and per idle hour at a 1 s and
// at the default 10 s interval.
func BenchmarkDaemonIdleCPU(b *testing.B) {
	root := newRoot(b, "")
	reg := fake.Registry(fake.Options{})
	startService(b, root, reg)
	clock := newClock()
	d := newDaemon(b, root, clock, func(o *monitor.DaemonOptions) { o.Registry = reg })
	ctx := context.Background()
	d.Step(ctx)
	d.Wait()
	const passes = 50
	var cpu time.Duration
	var n int
	for b.Loop() {
		before := cpuTime(b)
		for range passes {
			clock.Add(time.Second)
			d.Step(ctx)
			d.Wait()
		}
		cpu += cpuTime(b) - before
		n += passes
	}
	perPass := cpu / time.Duration(n)
	b.ReportMetric(float64(perPass.Microseconds()), "cpu-us/pass")
	fmt.Printf("daemon idle CPU, 32-pod service on fakes (68 resources, state files): %d passes measured, %s CPU per pass; per idle hour: %s at a 1s interval, %s at 10s\n",
		n, perPass.Round(time.Microsecond), (perPass * 3600).Round(time.Millisecond), (perPass * 360).Round(time.Millisecond))
}

// BenchmarkDetectionToRestart injects 100 container crashes (fake.MarkDown:
// the state marked down behind the daemon's back) into the daemon with
// the resource monitor (restart = 1 on the db containers), at a 1 s
// monitor interval on a virtual clock: each crash happens at a spread instant within an
// interval, the next pass restarts it. The latency is the virtual wait
// until that pass plus the real time the pass took to see and restart
// the container. It prints the median and the max.
func BenchmarkDetectionToRestart(b *testing.B) {
	root := newRoot(b, "")
	keys := map[string][]string{}
	for i := 1; i <= 8; i++ {
		keys[fmt.Sprintf("container#%02ddb", i)] = []string{"restart = 1"}
	}
	p := filepath.Join(root, "etc", "spdsvc01.conf")
	conf, err := os.ReadFile(p)
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(p, []byte(withKeys(b, string(conf), keys)), 0o644))
	reg := fake.Registry(fake.Options{})
	startService(b, root, reg)
	clock := newClock()
	d := newDaemon(b, root, clock, func(o *monitor.DaemonOptions) { o.Registry = reg })
	ctx := context.Background()
	d.Step(ctx)
	d.Wait()
	const failures = 100
	var lat []time.Duration
	for b.Loop() {
		lat = lat[:0]
		for i := range failures {
			rid := fmt.Sprintf("container#%02ddb", i%8+1)
			// The crash at a spread point of the interval (golden ratio
			// sequence: deterministic, evenly spread).
			offset := time.Duration(float64(time.Second) * frac(float64(i)*0.6180339887))
			require.NoError(b, fake.MarkDown(filepath.Join(root, "var", "spdsvc01"), rid))
			wait := time.Second - offset
			clock.Add(time.Second)
			begin := time.Now()
			d.Step(ctx)
			d.Wait()
			took := time.Since(begin)
			st := service(b, d.State(), "spdsvc01")
			for _, rs := range st.Status.Resources {
				if rs.RID == rid {
					require.Equal(b, resource.Up, rs.Status, "%s not restarted", rid)
				}
			}
			lat = append(lat, wait+took)
		}
	}
	slices.Sort(lat)
	med, worst := lat[len(lat)/2], lat[len(lat)-1]
	b.ReportMetric(float64(med.Milliseconds()), "median-ms")
	b.ReportMetric(float64(worst.Milliseconds()), "max-ms")
	fmt.Printf("detection to restart, 1s interval, virtual clock for the wait + real pass time, %d crashes on fakes (monitor pass, restart = 1): median %s, max %s\n",
		failures, med.Round(time.Millisecond), worst.Round(time.Millisecond))
}

func frac(x float64) float64 { return x - float64(int(x)) }
