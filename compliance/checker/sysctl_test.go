package checker_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vishvananda/netns"

	"github.com/svckit/svckit/compliance/checker"
	"github.com/svckit/svckit/compliance/compliancetest"
)

const portRangeRules = `[{"key":"net.ipv4.ip_local_port_range","index":0,"op":">=","value":1025},{"key":"net.ipv4.ip_local_port_range","index":1,"op":">=","value":65534},{"key":"vm.max_map_count","index":0,"op":">=","value":200000},{"key":"vm.swappiness","index":0,"op":">=","value":5}]`

func sysctlEnv(t *testing.T, live map[string]string, files map[string]string) (*checker.Env, *bytes.Buffer) {
	t.Helper()
	env, out := newEnv(t, nil)
	env.ProcSys = compliancetest.FakeProcSys(t, live)
	for p, c := range files {
		full := filepath.Join(env.Root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(c), 0o644))
	}
	return env, out
}

func readLive(t *testing.T, env *checker.Env, key string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.ProcSys, strings.ReplaceAll(key, ".", "/")))
	require.NoError(t, err)
	return strings.Fields(string(b))
}

func TestSysctlSeedRules(t *testing.T) {
	env, out := sysctlEnv(t, map[string]string{
		"net.ipv4.ip_local_port_range": "32768\t60999",
		"vm.max_map_count":             "65530",
		"vm.swappiness":                "60",
	}, map[string]string{"etc/sysctl.conf": "# defaults\nvm.swappiness = 10\n"})
	v := checker.Var{Name: "OSVC_COMP_SPDC_KERNEL_SYSCTL", Value: portRangeRules}

	require.Equal(t, checker.NOK, run(t, "sysctl", env, "check", v))
	o := out.String()
	require.Contains(t, o, "net.ipv4.ip_local_port_range[0]: live value 32768, target >= 1025, ok")
	require.Contains(t, o, "net.ipv4.ip_local_port_range[1]: live value 60999, target >= 65534")
	require.Contains(t, o, "vm.swappiness[0]: persistent value 10 in /etc/sysctl.conf, target >= 5, ok")
	require.Contains(t, o, "vm.max_map_count[0]: not set persistently")
	require.Equal(t, checker.OK, run(t, "sysctl", env, "fixable", v))

	require.Equal(t, checker.OK, run(t, "sysctl", env, "fix", v), out.String())
	require.Equal(t, []string{"32768", "65534"}, readLive(t, env, "net.ipv4.ip_local_port_range"))
	require.Equal(t, []string{"200000"}, readLive(t, env, "vm.max_map_count"))
	require.Equal(t, []string{"60"}, readLive(t, env, "vm.swappiness"), "a value that holds is not touched")
	b, err := os.ReadFile(filepath.Join(env.Root, "etc/sysctl.d", checker.SysctlFile))
	require.NoError(t, err)
	require.Equal(t, "# Written by svckit compliance fixes.\nnet.ipv4.ip_local_port_range = 32768 65534\nvm.max_map_count = 200000\n", string(b))
	out.Reset()
	require.Equal(t, checker.OK, run(t, "sysctl", env, "check", v), out.String())
}

func TestSysctlRules(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		live  string
		files map[string]string
		check checker.Status
		fix   checker.Status
		want  []string // live after fix
		out   string
	}{
		{name: "equal holds", rule: `{"key":"vm.swappiness","value":10}`, live: "10",
			files: map[string]string{"etc/sysctl.d/10-a.conf": "vm.swappiness=10\n"}, check: checker.OK, fix: checker.OK, want: []string{"10"}},
		{name: "equal fixed", rule: `{"key":"vm.swappiness","op":"=","value":"1"}`, live: "60", check: checker.NOK, fix: checker.OK, want: []string{"1"}},
		{name: "strictly greater", rule: `{"key":"vm.swappiness","op":">","value":60}`, live: "60", check: checker.NOK, fix: checker.OK, want: []string{"61"}},
		{name: "strictly lower", rule: `{"key":"vm.swappiness","op":"<","value":5}`, live: "60", check: checker.NOK, fix: checker.OK, want: []string{"4"}},
		{name: "lower or equal", rule: `{"key":"vm.swappiness","op":"<=","value":5}`, live: "60", check: checker.NOK, fix: checker.OK, want: []string{"5"}},
		{name: "op-value pairs", rule: `{"key":"vm.swappiness","value":[[">=",5],["<=",10]]}`, live: "60", check: checker.NOK, fix: checker.OK, want: []string{"10"}},
		{name: "index out of range", rule: `{"key":"vm.swappiness","index":2,"op":">=","value":1}`, live: "60", check: checker.NOK, fix: checker.NOK, want: []string{"60"}, out: "has no index 2"},
		{name: "missing key", rule: `{"key":"vm.nope","value":1}`, live: "60", check: checker.NOK, fix: checker.NOK, want: []string{"60"}, out: "vm.nope"},
		{name: "overridden by a later file", rule: `{"key":"vm.swappiness","op":">=","value":5}`, live: "60",
			files: map[string]string{"etc/sysctl.conf": "vm.swappiness = 1\n"}, check: checker.NOK, fix: checker.NOK, want: []string{"60"},
			out: "sysctl.conf sets \"1\" after " + checker.SysctlFile},
		{name: "etc hides the same name in usr/lib", rule: `{"key":"vm.swappiness","value":60}`, live: "60",
			files: map[string]string{"usr/lib/sysctl.d/50-x.conf": "vm.swappiness = 1\n", "etc/sysctl.d/50-x.conf": "vm/swappiness = 60\n"},
			check: checker.OK, fix: checker.OK, want: []string{"60"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "vm.swappiness"
			env, out := sysctlEnv(t, map[string]string{key: tt.live}, tt.files)
			v := checker.Var{Name: "OSVC_COMP_K", Value: tt.rule}
			require.Equal(t, tt.check, run(t, "sysctl", env, "check", v), out.String())
			require.Equal(t, tt.fix, run(t, "sysctl", env, "fix", v), out.String())
			require.Equal(t, tt.want, readLive(t, env, key))
			if tt.out != "" {
				require.Contains(t, out.String(), tt.out)
			}
			if tt.fix == checker.OK {
				require.Equal(t, checker.OK, run(t, "sysctl", env, "check", v), out.String())
			}
		})
	}
}

// TestSysctlNetns fixes a network sysctl on the live kernel inside a
// network namespace made for the test: /proc/sys/net of a thread shows its
// namespace's values, so the host's are never written.
func TestSysctlNetns(t *testing.T) {
	compliancetest.RequireRoot(t)
	const key = "net.ipv4.ip_local_port_range"
	hostBefore, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	require.NoError(t, err)

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	require.NoError(t, err)
	defer orig.Close()
	ns, err := netns.New()
	compliancetest.Prereq(t, err == nil, "cannot create a network namespace")
	defer func() {
		require.NoError(t, netns.Set(orig))
		ns.Close()
	}()

	env, out := newEnv(t, nil)
	env.ProcSys = "/proc/sys"
	v := checker.Var{Name: "OSVC_COMP_PORTS", Value: `[{"key":"net.ipv4.ip_local_port_range","index":0,"op":">=","value":20000},{"key":"net.ipv4.ip_local_port_range","index":1,"op":">=","value":61000}]`}
	// A fresh namespace starts from the kernel default 32768 60999.
	require.Equal(t, checker.NOK, run(t, "sysctl", env, "check", v))
	require.Equal(t, checker.OK, run(t, "sysctl", env, "fix", v), out.String())
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	require.NoError(t, err)
	fields := strings.Fields(string(b))
	require.Len(t, fields, 2)
	require.Equal(t, "61000", fields[1])
	require.Equal(t, checker.OK, run(t, "sysctl", env, "check", v), out.String())

	require.NoError(t, netns.Set(orig))
	hostAfter, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	require.NoError(t, err)
	require.Equal(t, string(hostBefore), string(hostAfter), "the host's "+key+" is untouched")
}
