package compliance_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/compliancetest"
)

// BenchmarkCheck measures a native module check of 1,000 file rules and
// 100 sysctl rules on a conform system (the steady state of a node), then
// of each kind alone.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []struct{ files, sysctls int }{{1000, 100}, {1000, 0}, {0, 100}} {
		b.Run(fmt.Sprintf("files=%d,sysctls=%d", n.files, n.sysctls), func(b *testing.B) {
			benchCheck(b, n.files, n.sysctls)
		})
	}
}

func benchCheck(b *testing.B, nFiles, nSysctls int) {
	root := b.TempDir()
	live := map[string]string{}
	var sysctls []map[string]any
	for i := range nSysctls {
		key := fmt.Sprintf("bench.k%03d", i)
		live[key] = "100"
		sysctls = append(sysctls, map[string]any{"key": key, "index": 0, "op": ">=", "value": 50})
	}
	procSys := compliancetest.FakeProcSys(b, live)
	var vars []map[string]any
	for i := range nFiles {
		rule, err := json.Marshal(map[string]any{
			"path": fmt.Sprintf("/etc/bench/%02d/file%04d.conf", i%50, i),
			"fmt":  fmt.Sprintf("# rule %d on %%%%HOSTNAME%%%%\nkey = %%%%ENV:VALUE%%%%\nindex = %d\n", i, i),
			"mode": 644,
		})
		require.NoError(b, err)
		vars = append(vars, map[string]any{"var_name": fmt.Sprintf("bench_file_%04d", i), "var_class": "file", "var_value": string(rule)})
	}
	if nSysctls > 0 {
		sv, err := json.Marshal(sysctls)
		require.NoError(b, err)
		vars = append(vars, map[string]any{"var_name": "bench_sysctl", "var_class": "sysctl", "var_value": string(sv)})
	}
	vars = append(vars, map[string]any{"var_name": "value", "var_class": "raw", "var_value": "42"})
	doc, err := json.Marshal(map[string]any{
		"modulesets": []any{map[string]any{"modset_name": "bench", "rulesets": []string{"bench"},
			"modules": []any{map[string]any{"modset_mod_name": "bench", "autofix": false}}}},
		"rulesets": []any{map[string]any{"ruleset_name": "bench", "ruleset_type": "explicit", "variables": vars}},
	})
	require.NoError(b, err)
	export, err := compliance.ParseExport("bench", doc)
	require.NoError(b, err)
	eng, err := compliance.NewEngine(export, &compliance.Facts{Node: map[string]string{"nodename": "spd03"}},
		compliance.Options{Root: root, ProcSys: procSys, Environ: []string{}})
	require.NoError(b, err)
	ctx := context.Background()
	sel := compliance.Selection{Modulesets: []string{"bench"}}
	rep, err := eng.Run(ctx, compliance.Fix, sel)
	require.NoError(b, err)
	require.True(b, rep.AllOK(), rep.Results[0].Output)

	b.ResetTimer()
	cpu0 := processCPU(b)
	for b.Loop() {
		rep, err := eng.Run(ctx, compliance.Check, sel)
		if err != nil || !rep.AllOK() {
			b.Fatalf("check: %v %+v", err, rep)
		}
	}
	rules := float64(b.N) * float64(nFiles+nSysctls)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/rules, "µs/rule")
	// The CPU the process spent (GC included) says the same on a machine
	// shared with other work, where the wall time above grows with the load.
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/rules, "cpu-µs/rule")
}

// processCPU is the user and system time the process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCheckFloor is the least a file rule's check costs on this
// machine: the four system calls it cannot do without (lstat, open, read,
// close) on 1,000 files laid out as BenchmarkCheck's, and nothing else.
// BenchmarkCheck's cpu-µs/rule is read against it: on a machine where a
// system call costs microseconds, the floor is most of the budget.
func BenchmarkCheckFloor(b *testing.B) {
	root := b.TempDir()
	var paths []string
	for i := range 1000 {
		p := filepath.Join(root, fmt.Sprintf("etc/bench/%02d/file%04d.conf", i%50, i))
		require.NoError(b, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(b, os.WriteFile(p, fmt.Appendf(nil, "# rule %d on spd03\nkey = 42\nindex = %d\n", i, i), 0o644))
		paths = append(paths, p)
	}
	buf := make([]byte, 4096)
	b.ResetTimer()
	cpu0 := processCPU(b)
	for b.Loop() {
		for _, p := range paths {
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				b.Fatal(err)
			}
			fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
			if err != nil {
				b.Fatal(err)
			}
			if n, err := unix.Read(fd, buf); err != nil || int64(n) != st.Size {
				b.Fatalf("read %d of %d bytes: %v", n, st.Size, err)
			}
			unix.Close(fd)
		}
	}
	rules := float64(b.N) * float64(len(paths))
	b.ReportMetric(float64(b.Elapsed().Microseconds())/rules, "µs/rule")
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/rules, "cpu-µs/rule")
}
