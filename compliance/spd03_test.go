package compliance_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/compliancetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	compliancetest.Cleanup()
	os.Exit(code)
}

// spd03 is the reference's third flex node: a Debian host with systemd
// and two of the three packages spdc.packages asks for.
type spd03 struct {
	root, procSys, path, log string
	export                   *compliance.Export
}

func newSpd03(t *testing.T) *spd03 {
	t.Helper()
	compliancetest.RequireRoot(t)
	compliancetest.RequireCommands(t, "dpkg", "dpkg-deb", "dpkg-query", "bash")
	s := &spd03{}
	// team_responsible = OpenSVC makes the Solaris filterset fail on
	// os_name alone.
	s.root = compliancetest.DebianRoot(t, "[node]\nteam_responsible = OpenSVC\nhost_mode = PRD\n")
	compliancetest.InstallDebs(t, s.root, "systemd", "sysstat", "docker.io")
	s.procSys = compliancetest.FakeProcSys(t, map[string]string{
		"net.ipv4.ip_local_port_range": "32768\t60999",
		"vm.max_map_count":             "65530",
		"vm.swappiness":                "60",
	})
	s.log = filepath.Join(t.TempDir(), "standins.log")
	s.path = compliancetest.StandIns(t, "spd03", s.log)
	var err error
	s.export, err = compliance.LoadExport(context.Background(), "testdata/spdc-node.json")
	require.NoError(t, err)
	return s
}

func (s *spd03) engine(t *testing.T, env map[string]string) *compliance.Engine {
	t.Helper()
	ctx := context.Background()
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: s.root, Nodename: "spd03", Path: s.path})
	require.NoError(t, err)
	eng, err := compliance.NewEngine(s.export, facts, compliance.Options{
		Root: s.root, ProcSys: s.procSys, Path: s.path, Env: env,
	})
	require.NoError(t, err)
	return eng
}

func statuses(rep *compliance.Report) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Results {
		out[r.Module] = r.Status
	}
	return out
}

func (s *spd03) read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.root, p))
	require.NoError(t, err)
	return string(b)
}

// assertFixed checks the system state the spdc.node rules describe.
func (s *spd03) assertFixed(t *testing.T) {
	t.Helper()
	br0 := s.read(t, "etc/network/interfaces.d/br0.cfg")
	require.Contains(t, br0, "        address 10.0.0.3\n")
	require.Contains(t, br0, "post-up /sbin/ip route replace 10.0.0.3/32 dev br0\n")
	require.Contains(t, s.read(t, "etc/systemd/system/opensvc-actions.socket"), "ListenStream=1214\n")
	require.Contains(t, s.read(t, "etc/systemd/system/opensvc-actions@.service"), "ExecStart=/usr/bin/nodemgr dequeue actions\n")
	require.Equal(t, "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX transparent_hugepage=never\"\n", s.read(t, "etc/default/grub.d/60-spdc.cfg"))
	require.Contains(t, s.read(t, "etc/sudoers.d/opensvc"), "secure_path=")
	nc := s.read(t, "etc/node.conf")
	require.Contains(t, nc, "repocomp")
	require.Contains(t, nc, "https://repo.opensvc.com/compliance/")
	require.Contains(t, nc, "team_responsible") // kept
	live, err := os.ReadFile(filepath.Join(s.procSys, "net/ipv4/ip_local_port_range"))
	require.NoError(t, err)
	require.Equal(t, []string{"32768", "65534"}, strings.Fields(string(live)))
	live, err = os.ReadFile(filepath.Join(s.procSys, "vm/max_map_count"))
	require.NoError(t, err)
	require.Equal(t, "200000", strings.TrimSpace(string(live)))
	pers := s.read(t, "etc/sysctl.d/99-svckit-compliance.conf")
	require.Contains(t, pers, "net.ipv4.ip_local_port_range = 32768 65534\n")
	require.Contains(t, pers, "vm.max_map_count = 200000\n")
	require.Contains(t, pers, "vm.swappiness = 60\n")
	// The Solaris (smf) and xinetd rulesets are not applied.
	require.NoFileExists(t, filepath.Join(s.root, "var/svc/manifest/network/opensvc-dequeue-actions-tcp.xml"))
	require.NoFileExists(t, filepath.Join(s.root, "etc/xinetd.d/opensvc-actions"))
}

// TestSpd03NodeNative runs spdc.node with every module native (no script
// in the modules directory, the reference's automodules). SPDC_BRGW is
// what the reference's 50-spdc.network computes from the host name and
// exports before calling files.py; a native run gets it from the
// environment the caller gives, as a module would.
func TestSpd03NodeNative(t *testing.T) {
	s := newSpd03(t)
	ctx := context.Background()
	eng := s.engine(t, map[string]string{"SPDC_BRGW": "10.0.0.3"})
	sel := compliance.Selection{Modulesets: []string{"spdc.node"}}

	rep, err := eng.Run(ctx, compliance.Check, sel)
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"com.opensvc.sys.opensvc.dequeue-actions-listener": "nok", // systemd unit files missing
		"spdc.kernel":   "nok",
		"spdc.network":  "nok",
		"spdc.opensvc":  "nok",
		"spdc.packages": "nok", // btrfs-tools missing
	}, statuses(rep))
	require.False(t, rep.AllOK())
	out := map[string]string{}
	for _, r := range rep.Results {
		out[r.Module] = r.Output
		require.Equal(t, "native", r.Kind)
	}
	require.Contains(t, out["spdc.packages"], "package btrfs-tools is not installed")
	require.Contains(t, out["spdc.packages"], "package sysstat is installed")
	require.Contains(t, out["spdc.kernel"], "sysctl vm.max_map_count[0]: live value 65530, target >= 200000")
	require.Contains(t, out["spdc.kernel"], "sysctl vm.swappiness[0]: live value 60, target >= 5, ok")
	require.Contains(t, out["spdc.network"], "br0.cfg does not exist")
	require.Contains(t, out["spdc.opensvc"], "nodeconf node.repocomp is unset")

	rep, err = eng.Run(ctx, compliance.Fix, sel)
	require.NoError(t, err)
	require.True(t, rep.AllOK(), "%+v", rep.Results)
	require.Equal(t, 5, rep.Digest.OK)
	s.assertFixed(t)
	log, err := os.ReadFile(s.log)
	require.NoError(t, err)
	require.Contains(t, string(log), "install -- btrfs-tools")
	require.Contains(t, string(log), "DPkg::Options::=--root="+s.root)

	rep, err = eng.Run(ctx, compliance.Check, sel)
	require.NoError(t, err)
	require.True(t, rep.AllOK())
	require.Equal(t, 5, rep.Digest.OK)

	// A second fix changes nothing: no file written, no command run.
	before := compliancetest.Snapshot(t, s.root)
	beforeSys := compliancetest.Snapshot(t, s.procSys)
	rep, err = eng.Run(ctx, compliance.Fix, sel)
	require.NoError(t, err)
	require.True(t, rep.AllOK())
	for _, r := range rep.Results {
		require.Contains(t, r.Output, "already conform")
	}
	require.Equal(t, before, compliancetest.Snapshot(t, s.root))
	require.Equal(t, beforeSys, compliancetest.Snapshot(t, s.procSys))
	log2, err := os.ReadFile(s.log)
	require.NoError(t, err)
	require.Equal(t, string(log), string(log2))

	infos, err := eng.Show(ctx, sel)
	require.NoError(t, err)
	for _, mi := range infos {
		for _, rs := range mi.Rulesets {
			require.NotContains(t, rs, ".smf")
			require.NotContains(t, rs, ".xinetd")
		}
	}
}

// TestSpd03NodeScripts runs the reference's own bash modules for
// spdc.network, spdc.opensvc and spdc.packages, unmodified, through the
// compobj binary; spdc.kernel stays native because its bash module writes
// /sys/kernel/mm/transparent_hugepage of the host. PATH gives the modules
// stand-ins: hostname prints spd03 (50-spdc.network derives SPDC_BRGW from
// it), ifup and update-grub only log, apt-get installs into the test root's
// dpkg database.
func TestSpd03NodeScripts(t *testing.T) {
	s := newSpd03(t)
	ctx := context.Background()
	eng := s.engine(t, nil)
	modules := eng.ModulesDir()
	require.NoError(t, os.MkdirAll(modules, 0o755))
	for _, m := range []string{"50-spdc.network", "50-spdc.opensvc", "50-spdc.packages"} {
		b, err := os.ReadFile(filepath.Join("testdata/modules", m))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(modules, m), b, 0o755))
	}
	require.NoError(t, compliance.InstallCompObj(ctx, modules, compliancetest.CompObj(t)))
	require.NoError(t, eng.Attach(ctx, "spdc.node"))

	rep, err := eng.Run(ctx, compliance.Check, compliance.Selection{})
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"com.opensvc.sys.opensvc.dequeue-actions-listener": "nok",
		"spdc.kernel":   "nok",
		"spdc.network":  "nok",
		"spdc.opensvc":  "nok",
		"spdc.packages": "nok",
	}, statuses(rep))
	kinds := map[string]string{}
	for _, r := range rep.Results {
		kinds[r.Module] = r.Kind
	}
	require.Equal(t, "script", kinds["spdc.network"])
	require.Equal(t, "native", kinds["spdc.kernel"])

	rep, err = eng.Run(ctx, compliance.Fix, compliance.Selection{})
	require.NoError(t, err)
	require.True(t, rep.AllOK(), "%+v", rep.Results)
	s.assertFixed(t)
	log, err := os.ReadFile(s.log)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(log), "ifup br0"))
	require.Equal(t, 1, strings.Count(string(log), "install -- btrfs-tools"))

	rep, err = eng.Run(ctx, compliance.Check, compliance.Selection{})
	require.NoError(t, err)
	require.True(t, rep.AllOK())

	before := compliancetest.Snapshot(t, s.root)
	rep, err = eng.Run(ctx, compliance.Fix, compliance.Selection{})
	require.NoError(t, err)
	require.True(t, rep.AllOK())
	require.Equal(t, before, compliancetest.Snapshot(t, s.root))
	log2, err := os.ReadFile(s.log)
	require.NoError(t, err)
	require.Equal(t, string(log), string(log2))
}
