package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"

	"github.com/stretchr/testify/require"

	_ "github.com/svckit/svckit/driver/container/docker"
	_ "github.com/svckit/svckit/driver/disk/loop"
	_ "github.com/svckit/svckit/driver/fs/linux"
	_ "github.com/svckit/svckit/driver/ip/docker"
	_ "github.com/svckit/svckit/driver/ip/host"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

// conf is the seed's pod layout on loop disks: a disk, a filesystem, a
// container and its ip.docker per pod. The bridge lives in a test
// namespace (ipdev_netns), the containers run with --net=none.
const conf = `[DEFAULT]
nodes = {{.Node}}
flex_primary = {{.Node}}
rollback = true

{{range .Pods}}
[disk#{{.N}}]
type = loop
tags = pod{{.N}}
file = {{$.Dir}}/disks/pod{{.N}}.img
size = {{.Size}}
link = {{$.Dir}}/dev/pod{{.N}}

[fs#{{.N}}]
type = {{.FS}}
tags = pod{{.N}}
dev = {{$.Dir}}/dev/pod{{.N}}
mnt = {{$.Dir}}/{svcname}/pod{{.N}}
mnt_opt = defaults,rw
post_provision = mkdir -p {{$.Dir}}/{svcname}/pod{{.N}}/db/data && chown 999:999 {{$.Dir}}/{svcname}/pod{{.N}}/db/data

[ip#{{.N}}db]
type = docker
tags = db pod{{.N}}
ipdev = br0
ipdev_netns = {{$.Netns}}
ipname = {{.IP}}
netmask = 255.255.255.0
network = 10.0.0.0
gateway = 10.0.0.1
del_net_route = true
container_rid = container#{{.N}}db

[container#{{.N}}db]
type = docker
tags = db pod{{.N}}
run_image = {{$.Image}}
run_args = --net=none
    -e MYSQL_ROOT_PASSWORD={{$.Password}}
    -e SLEEPER_MESSAGE=pod{{.N}}
    --hostname db{{.N}}
    -v {{$.Dir}}/{svcname}/pod{{.N}}/db/data:/data:rw
run_command = -write /data/started -listen :3306
stop_timeout = 5s
{{end}}`

type pod struct {
	N, FS, IP, Size string
}

func TestTwoPods(t *testing.T) {
	testenv.RequireLoop(t)
	testenv.RequireCommands(t, "mount", "mkfs.ext4")
	cli := testenv.Docker(t)
	image := testenv.SleeperImage(t, cli)
	nsName, ns := testenv.NetNS(t)
	testenv.Bridge(t, ns, "br0", "10.0.0.1/24")

	// The second pod is on xfs when mkfs.xfs is there (CI installs it).
	fs2, size2 := "ext4", "64m"
	if _, err := exec.LookPath("mkfs.xfs"); err == nil {
		fs2, size2 = "xfs", "320m"
	} else if os.Getenv("CI") == "true" {
		t.Fatal("CI=true and mkfs.xfs is missing")
	}
	dir := t.TempDir()
	svcname := testenv.RandomName("e2e")
	password := "pw-" + testenv.RandomName("")
	var buf bytes.Buffer
	require.NoError(t, template.Must(template.New("conf").Parse(conf)).Execute(&buf, map[string]any{
		"Node": "node1", "Dir": dir, "Netns": nsName, "Image": image, "Password": password,
		"Pods": []pod{{"01", "ext4", "10.0.0.33", "64m"}, {"02", fs2, "10.0.0.34", size2}},
	}))

	ctx := context.Background()
	var logs bytes.Buffer
	ctx = resource.WithLogger(ctx, slog.New(slog.NewTextHandler(&logs, nil)))
	s, err := svc.Parse(ctx, svcname+".conf", buf.Bytes(), svc.Options{Node: "node1", Svcname: svcname, Root: dir})
	require.NoError(t, err)

	// Whatever happens, nothing is left behind: containers, mounts, loop
	// devices (cleanups run last-in first-out, after the test's own).
	for _, n := range []string{"01", "02"} {
		testenv.RemoveContainer(t, cli, svcname+".container."+n+"db")
	}
	t.Cleanup(func() {
		for _, n := range []string{"01", "02"} {
			testenv.Unmount(t, filepath.Join(dir, svcname, "pod"+n))
			out, _ := exec.Command("losetup", "-j", filepath.Join(dir, "disks", "pod"+n+".img")).Output()
			if dev, _, ok := strings.Cut(string(out), ":"); ok {
				testenv.DetachLoop(t, dev)
			}
		}
	})

	requireAll := func(want resource.Status) *svc.StatusReport {
		t.Helper()
		rep := s.Status(ctx)
		require.Len(t, rep.Resources, 9, "4 per pod and the implicit sync#i0")
		for _, r := range rep.Resources {
			if r.RID == "sync#i0" {
				// A single-node service has no peer to compare its
				// config with, whatever the state of the pods.
				require.Equal(t, resource.NotApplicable, r.Status, "%s: %v", r.Label, r.Log)
				require.Equal(t, "rsync svc config to drpnodes, nodes", r.Label)
				continue
			}
			require.Equal(t, want, r.Status, "%s: %s %v", r.RID, r.Label, r.Log)
			require.Empty(t, r.Log, r.RID)
		}
		require.Equal(t, want, rep.Avail)
		require.Equal(t, want, rep.Overall)
		return rep
	}

	res, err := s.Provision(ctx, svc.ActionOptions{})
	require.NoError(t, err, "%+v\n%s", res, logs.String())
	// The drivers' Provides and Uses order each pod: disk (the link), fs
	// (its mount point holds the binds), container, then its address.
	wave := map[string]int{}
	for i, w := range res.Plan {
		for _, rid := range w {
			wave[rid] = i
		}
	}
	t.Logf("provision plan: %v", res.Plan)
	for _, n := range []string{"01", "02"} {
		require.Less(t, wave["disk#"+n], wave["fs#"+n], res.Plan)
		require.Less(t, wave["fs#"+n], wave["container#"+n+"db"], res.Plan)
		require.Less(t, wave["container#"+n+"db"], wave["ip#"+n+"db"], res.Plan)
	}
	rep := requireAll(resource.Up)
	tree := rep.Render(svc.StatusOptions{})
	t.Log("\n" + tree)
	require.Contains(t, tree, dir+"/dev/pod01@"+dir+"/"+svcname+"/pod01")
	require.Regexp(t, `10\.0\.0\.33@br0@[0-9a-f]{12}`, tree)
	require.Regexp(t, `[0-9a-f]{12}@`+image, tree)

	// The pods are plumbed and write into their filesystem.
	for _, p := range []struct{ n, ip string }{{"01", "10.0.0.33"}, {"02", "10.0.0.34"}} {
		line, err := testenv.DialInNetns(ns, p.ip+":3306")
		require.NoError(t, err, p.ip)
		require.Equal(t, "hello from db"+p.n, line)
		require.Eventually(t, func() bool {
			b, err := os.ReadFile(filepath.Join(dir, svcname, "pod"+p.n, "db", "data", "started"))
			return err == nil && string(b) == "db"+p.n+"\npod"+p.n+"\n"
		}, 10e9, 50e6)
		st, err := os.Stat(filepath.Join(dir, svcname, "pod"+p.n, "db", "data"))
		require.NoError(t, err)
		require.EqualValues(t, 999, st.Sys().(*syscall.Stat_t).Uid)
	}

	res, err = s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err, "%+v\n%s", res, logs.String())
	requireAll(resource.Down)

	// Provision again formats nothing: the data is still there.
	res, err = s.Provision(ctx, svc.ActionOptions{})
	require.NoError(t, err, "%+v\n%s", res, logs.String())
	requireAll(resource.Up)
	_, err = os.Stat(filepath.Join(dir, svcname, "pod01", "db", "data", "started"))
	require.NoError(t, err, "the filesystem of pod01 was made again")

	res, err = s.Stop(ctx, svc.ActionOptions{})
	require.NoError(t, err, "%+v\n%s", res, logs.String())
	requireAll(resource.Down)

	require.NotContains(t, logs.String(), password, "a password reached the log")
	require.NotContains(t, tree, password)

	res, err = s.Unprovision(ctx, svc.ActionOptions{})
	require.NoError(t, err, "%+v\n%s", res, logs.String())
	for _, n := range []string{"01", "02"} {
		_, err := os.Stat(filepath.Join(dir, "disks", "pod"+n+".img"))
		require.ErrorIs(t, err, os.ErrNotExist)
	}
}
