package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	_ "github.com/svckit/svckit/driver/all"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// TestSameProblemsRealAndFake loads bad configs with every real driver
// and with fake.Registry: both must refuse each with the same problems
// (file, line, section, keyword, message), since the fakes parse sections
// with the real drivers' specs. A user's unit test on fakes then fails
// where production would.
func TestSameProblemsRealAndFake(t *testing.T) {
	const head = "[DEFAULT]\nnodes = n1\n\n"
	ctr := "[container#1]\ntype = docker\nrun_image = mariadb\n"
	tests := []struct {
		name    string
		conf    string
		line    int
		section string
		keyword string
		want    string
	}{
		{"fs mnt relative", "[fs#1]\ntype = ext4\ndev = /dev/sdb\nmnt = srv/a\n", 7, "fs#1", "mnt", `"srv/a": expected an absolute path`},
		{"fs dev neither path nor tag", "[fs#1]\ntype = xfs\ndev = sdb\nmnt = /a\n", 6, "fs#1", "dev", "expected an absolute device path, LABEL=<label> or UUID=<uuid>"},
		{"xfs label too long", "[fs#1]\ntype = xfs\ndev = /dev/sdb\nmnt = /a\nlabel = thirteen-char\n", 8, "fs#1", "label", "xfs labels are at most 12 bytes"},
		{"mkfs_dev with a path dev", "[fs#1]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nmkfs_dev = /dev/sdc\n", 8, "fs#1", "mkfs_dev", "only for a LABEL= or UUID= dev"},
		{"mkfs_opt unbalanced quote", "[fs#1]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nmkfs_opt = -E \"x\n", 8, "fs#1", "mkfs_opt", "cannot split into words"},
		{"scoped value applies", "[fs#1]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\nmnt@n1 = rel\n", 8, "fs#1", "mnt", `"rel": expected an absolute path`},
		{"loop file relative", "[disk#1]\ntype = loop\nfile = d.img\n", 6, "disk#1", "file", "expected an absolute path"},
		{"loop link relative", "[disk#1]\ntype = loop\nfile = /d.img\nlink = dev/x\n", 7, "disk#1", "link", "expected an absolute path"},
		{"gce dev_dir relative", "[disk#1]\ntype = gce\nnames = d1\ndev_dir = by-id\n", 7, "disk#1", "dev_dir", "expected an absolute path"},
		{"ip.host netmask out of range", "[ip#1]\ntype = host\nipname = 10.0.0.3\nipdev = eth0\nnetmask = 40\n", 8, "ip#1", "netmask", "prefix length out of 0..32"},
		{"ip.host netns name with a slash", "[ip#1]\ntype = host\nipname = 10.0.0.3\nipdev = eth0\nipdev_netns = a/b\n", 8, "ip#1", "ipdev_netns", "expected a name under /run/netns"},
		{"ip.gce IPv6", "[ip#1]\ntype = gce\nipname = fd00::1\nipdev = br0\nroutename = r\n", 6, "ip#1", "ipname", "is not an IPv4 address"},
		{"ip.docker network mismatch", ctr + "[ip#1]\ntype = docker\nipname = 10.0.0.34\nnetmask = 24\nnetwork = 10.0.1.0\nipdev = br0\ncontainer_rid = container#1\n", 11, "ip#1", "network", "10.0.0.34/24 is in 10.0.0.0"},
		{"ip.docker gateway outside", ctr + "[ip#1]\ntype = docker\nipname = 10.0.0.34\nnetmask = 24\ngateway = 10.0.1.1\nipdev = br0\ncontainer_rid = container#1\n", 11, "ip#1", "gateway", "is not in 10.0.0.0/24"},
		{"ip.docker del_net_route without gateway", ctr + "[ip#1]\ntype = docker\nipname = 10.0.0.34\nnetmask = 24\ndel_net_route = true\nipdev = br0\ncontainer_rid = container#1\n", 11, "ip#1", "del_net_route", "needs gateway"},
		{"container unsupported option", "[container#1]\ntype = docker\nrun_image = mariadb\nrun_args = --net=none\n    --frobnicate\n", 7, "container#1", "run_args", `unsupported option "--frobnicate"`},
		{"container --rm", "[container#1]\ntype = docker\nrun_image = mariadb\nrun_args = --rm\n", 7, "container#1", "run_args", "option --rm is refused"},
		{"container --name differs", "[container#1]\ntype = docker\nrun_image = mariadb\nrun_args = --name other\n", 7, "container#1", "run_args", "--name other differs from the container name"},
		{"sync target", "[sync#1]\ntype = rsync\ntarget = everywhere\n", 6, "sync#1", "target", `"everywhere": expected nodes, drpnodes, or both`},
		{"container run_command quote", "[container#1]\ntype = docker\nrun_image = mariadb\nrun_command = sh -c \"x\n", 7, "container#1", "run_command", "cannot split into words"},
	}
	ctx := context.Background()
	load := func(t *testing.T, reg *driver.Registry, conf string) []svc.Problem {
		t.Helper()
		_, err := svc.Parse(ctx, "bad.conf", []byte(head+conf), svc.Options{Node: "n1", Registry: reg, VarDir: t.TempDir()})
		var verr *svc.ValidationError
		require.True(t, errors.As(err, &verr), "want a validation error, got %v", err)
		return verr.Problems
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			real := load(t, driver.Default(), tt.conf)
			fakes := load(t, fake.Registry(fake.Options{}), tt.conf)
			require.Equal(t, real, fakes, "the fakes must refuse the config as the real drivers do")
			require.Len(t, real, 1, "%v", real)
			p := real[0]
			require.Equal(t, svc.Problem{File: "bad.conf", Line: tt.line, Section: tt.section, Keyword: tt.keyword, Message: p.Message}, p)
			require.Contains(t, p.Message, tt.want)
			require.False(t, strings.HasPrefix(p.Message, tt.section), "the rid is said once, as the section: %s", p)
		})
	}
}

// TestSameSpecsRealAndFake loads the seed's config with every real
// driver and with the fakes: every resource has the same provides and
// uses, and the same label but for the container ids the fakes make up.
func TestSameSpecsRealAndFake(t *testing.T) {
	ctx := context.Background()
	opts := svc.Options{Node: "spd01", VarDir: t.TempDir(), NoTriggers: true}
	opts.Registry = driver.Default()
	real, err := svc.Load(ctx, seedPath(t), opts)
	require.NoError(t, err)
	opts.Registry = fake.Registry(fake.Options{})
	fakes, err := svc.Load(ctx, seedPath(t), opts)
	require.NoError(t, err)
	fakeRes := fakes.Resources()
	require.Equal(t, len(real.Resources()), len(fakeRes))
	_, ok := real.Resource("sync#i0")
	require.True(t, ok, "the real sync.rsync adds the implicit sync#i0 as the fakes do")
	type provider interface{ Provides() []string }
	type user interface {
		Uses() ([]string, resource.Ordering)
	}
	for i, r := range real.Resources() {
		f := fakeRes[i]
		require.Equal(t, r.RID(), f.RID())
		switch r.DriverID() {
		case "container.docker", "ip.docker":
			// The real label shows the container name until the
			// container is seen; the fake shows its fake id.
		default:
			require.Equal(t, r.Label(), f.Label(), r.RID())
		}
		var rp, fp []string
		if p, ok := r.(provider); ok {
			rp = p.Provides()
		}
		if p, ok := f.(provider); ok {
			fp = p.Provides()
		}
		require.ElementsMatch(t, rp, fp, "%s provides", r.RID())
		ru, ro := r.(user).Uses()
		fu, fo := f.(user).Uses()
		require.Equal(t, ro, fo, "%s ordering", r.RID())
		require.ElementsMatch(t, ru, fu, "%s uses", r.RID())
	}
}
