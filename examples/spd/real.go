package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/client"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/svckit/svckit/driver"
	ctr "github.com/svckit/svckit/driver/container"
	ctrdocker "github.com/svckit/svckit/driver/container/docker"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/driver/disk/loop"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/driver/fs/linux"
	"github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/ip"
	ipdocker "github.com/svckit/svckit/driver/ip/docker"
	ipgce "github.com/svckit/svckit/driver/ip/gce"
	"github.com/svckit/svckit/internal/dockerimage"
	"github.com/svckit/svckit/internal/mountinfo"
	"github.com/svckit/svckit/internal/netutil"
	"github.com/svckit/svckit/svc"
)

// nodeNetNS is a network namespace standing in for a node's network: a
// bridge br0, up, with the node's address, as spdc.network configures it.
// The host's own namespace is never touched.
type nodeNetNS struct {
	name string
	path string
}

// newNodeNetNS creates the named namespace /run/netns/<name> with br0
// holding addr/24. It needs root.
func newNodeNetNS(name, addr string) (*nodeNetNS, error) {
	ns, err := netutil.NewNamedNS(name)
	if err != nil {
		return nil, fmt.Errorf("network namespace %s: %w", name, err)
	}
	defer ns.Close()
	n := &nodeNetNS{name: name, path: "/run/netns/" + name}
	if err := setupBridge(ns, addr); err != nil {
		n.Close()
		return nil, fmt.Errorf("network namespace %s: %w", name, err)
	}
	return n, nil
}

func setupBridge(ns netns.NsHandle, addr string) error {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0"}}); err != nil {
		return fmt.Errorf("add br0: %w", err)
	}
	l, err := h.LinkByName("br0")
	if err != nil {
		return err
	}
	if err := h.LinkSetUp(l); err != nil {
		return fmt.Errorf("br0 up: %w", err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(addr).To4(), Mask: net.CIDRMask(24, 32)}}
	if err := h.AddrAdd(l, a); err != nil {
		return fmt.Errorf("br0 address %s: %w", addr, err)
	}
	return nil
}

// Addrs lists the IPv4 addresses on br0.
func (n *nodeNetNS) Addrs() ([]string, error) {
	ns, err := netns.GetFromPath(n.path)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	l, err := h.LinkByName("br0")
	if err != nil {
		return nil, err
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_V4)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.IPNet.String())
	}
	return out, nil
}

// Close deletes the namespace (its bridge and addresses go with it).
func (n *nodeNetNS) Close() error { return netns.DeleteNamed(n.name) }

// useRealIPGCE registers the real ip.gce in reg: routes on the fake
// compute API as this node, addresses on br0 of the node's namespace.
func useRealIPGCE(reg *driver.Registry, c *cloud, node string, ns *nodeNetNS) (string, error) {
	in, ok := c.nodes[node]
	if !ok {
		return "", fmt.Errorf("node %s: no instance", node)
	}
	reg.Replace(ip.GCE, ipgce.NewFactory(
		ipgce.WithGCE(gce.WithEndpoint(c.srv.URL), gce.WithMetadataHost(in.MetadataHost)),
		ipgce.WithNetNS(ns.path),
	))
	return fmt.Sprintf("real (fake compute API %s; addresses on br0 of a network namespace per node)", c.srv.URL), nil
}

// canReal says why -real cannot run here, or nil.
func canReal() error { return canRealAs(os.Geteuid()) }

// canRealAs is canReal for a process of effective uid euid.
func canRealAs(euid int) error {
	if euid != 0 {
		return errors.New("-real needs root (network namespaces, netlink, loop devices, mount)")
	}
	var missing []string
	for _, c := range []string{"losetup", "blkid", "mkfs.ext4", "mkfs.btrfs", "mount", "umount"} {
		if _, err := exec.LookPath(c); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("-real needs the commands %s (util-linux, e2fsprogs, btrfs-progs)", strings.Join(missing, ", "))
	}
	return nil
}

// safeDir is what the node directories may be made of: -real writes them
// into the containers' run_args, shell text.
var safeDir = regexp.MustCompile(`^[A-Za-z0-9._/+-]+$`)

// realHost is what -real sets up once for the run: the Docker client, the
// local images standing in for the seed's, the "SAN" directory of the
// disks' backing files, and the label of the run's containers.
type realHost struct {
	cli    *client.Client
	images map[string]string
	san    string
	// run is the label key=value of the run's containers; token is a
	// short digest of the run's directory that makes the node ids unique.
	run, token string
}

// localImage is the name of the local stand-in of a seed image:
// tanji/spdc -> svckit-spd/tanji-spdc:latest.
func localImage(ref string) string {
	repo, tag := ref, "latest"
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	return "svckit-spd/" + strings.NewReplacer("/", "-", ":", "-").Replace(repo) + ":" + tag
}

// standInFile is the file a stand-in container writes at start in its
// data directory (/var/lib/mysql, a bind of the pod's filesystem): which
// image ran there.
func standInFile(ref string) string {
	return "svckit-" + strings.NewReplacer("/", "-", ":", "-").Replace(strings.TrimPrefix(localImage(ref), "svckit-spd/")) + ".txt"
}

// newRealHost checks the daemon and builds the local images: the svckit
// sleeper (a static Go binary FROM scratch) answering on :3306, each tag
// writing its own file at start so that the flow can tell which image ran
// on which pod's disk.
func newRealHost(ctx context.Context, dir string, seedImages ...string) (*realHost, error) {
	if !safeDir.MatchString(dir) {
		return nil, fmt.Errorf("-real: directory %q: expected a path of letters, digits and ._/+- (it goes in the containers' run_args)", dir)
	}
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("-real: docker client: %w", err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		return nil, fmt.Errorf("-real needs a Docker daemon: %w", err)
	}
	r := &realHost{cli: cli, images: map[string]string{}, san: filepath.Join(dir, "san"), run: fmt.Sprintf("%s=%s", LabelRun, filepath.Base(dir)), token: runToken(dir)}
	for _, ref := range seedImages {
		built, err := dockerimage.Sleeper(ctx, cli, "svckit-spd-stand-in", map[string]string{LabelRun: "image"},
			"-listen", ":3306", "-write", "/var/lib/mysql/"+standInFile(ref))
		if err != nil {
			cli.Close()
			return nil, fmt.Errorf("-real: build the stand-in of %s: %w", ref, err)
		}
		local := localImage(ref)
		if err := dockerimage.Tag(ctx, cli, built, local); err != nil {
			cli.Close()
			return nil, fmt.Errorf("-real: %w", err)
		}
		r.images[ref] = local
	}
	if err := os.MkdirAll(r.san, 0o700); err != nil {
		cli.Close()
		return nil, err
	}
	return r, nil
}

// runToken is 6 hex digits of a digest of the run's directory.
func runToken(dir string) string {
	h := fnv.New32a()
	h.Write([]byte(dir))
	return fmt.Sprintf("%06x", h.Sum32()&0xffffff)
}

// node returns the host adapter of a simulated node.
func (r *realHost) node(name, root string, ns *nodeNetNS) *hostNode {
	h := newHostNode(name, r.token, root, r.san, "/"+svcname, ns.path, r.images, r.run)
	h.loadImages = r.loadImages
	return h
}

// useRealHost registers the real host drivers in reg, wrapped for node h,
// and says so in kinds.
func useRealHost(reg *driver.Registry, h *hostNode, kinds driverKinds) {
	reg.Replace(disk.GCE, h.disk)
	kinds["disk.gce"] = "real disk.loop standing in (backing files in " + h.san + ", linked as udev names GCE disks)"
	reg.Replace(disk.Loop, loop.New)
	kinds["disk.loop"] = "real"
	for _, m := range fs.Manifests() {
		reg.Replace(m, h.fs(linux.New))
		kinds[m.ID] = "real (mkfs, mount; mount points under the node's directory)"
	}
	reg.Replace(ctr.Dockerd, h.dockerd(dockerd.New))
	kinds[ctr.Dockerd.ID] = "real (a private dockerd per node, data root on its fs#00, stand-in images loaded at start)"
	reg.Replace(ctr.Docker, h.container(ctrdocker.New))
	kinds[ctr.Docker.ID] = "real (on the node's private dockerd, local stand-in images)"
	reg.Replace(ip.Docker, h.ipDocker(ipdocker.New))
	kinds[ip.Docker.ID] = "real (veth into the container, peer on br0 of the node's network namespace)"
}

// cleanup stops everything of the run on every node (--force: the
// always_on disks too), removes the run's containers, then unmounts and
// detaches what a failed step may have left under dir. It reports what
// it could not undo; dir may be removed only when it returns nil.
func (r *realHost) cleanup(ctx context.Context, s *scenario, dir string) error {
	var errs []error
	for _, n := range slices.Sorted(maps.Keys(s.agents)) {
		if _, err := s.agents[n].ReadConfig(svcname); err != nil {
			continue
		}
		if _, err := s.agents[n].Do(ctx, svcname, svc.Stop, svc.ActionOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("%s: stop --force: %w", n, err))
		}
	}
	// The private daemons: what stop left running, their exec roots.
	removed, daemons := 0, 0
	for _, n := range slices.Sorted(maps.Keys(s.hosts)) {
		if _, ok := s.hosts[n].daemon.config(); !ok {
			continue
		}
		k, err := r.stopDaemon(ctx, s.hosts[n])
		removed += k
		daemons++
		if err != nil {
			errs = append(errs, err)
		}
	}
	// The host's daemon runs the containers of a service without a
	// private one.
	list, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", r.run)})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the run's containers: %w", err))
	}
	for _, c := range list.Items {
		if _, err := r.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID, err))
			continue
		}
		removed++
	}
	fmt.Fprintf(s.out, "cleanup: stop --force on every node, %d private dockerd down, %d containers removed\n", daemons, removed)
	left, err := leftovers(ctx, dir)
	if err != nil {
		errs = append(errs, err)
	}
	for _, l := range left {
		fmt.Fprintf(s.out, "cleanup: %s\n", l)
	}
	return errors.Join(errs...)
}

// leftovers unmounts the mounts under dir (deepest first) and detaches
// the loop devices of files under dir, which only a failed step leaves.
// It returns what it did; an error says what is still there.
func leftovers(ctx context.Context, dir string) ([]string, error) {
	var did []string
	var errs []error
	mounts, err := mountinfo.Read()
	if err != nil {
		return nil, err
	}
	var under []string
	for _, m := range mounts {
		if strings.HasPrefix(m.MountPoint, dir+"/") {
			under = append(under, m.MountPoint)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(under)))
	for _, mnt := range under {
		if out, err := exec.CommandContext(ctx, "umount", mnt).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("umount %s: %v: %s", mnt, err, strings.TrimSpace(string(out))))
			continue
		}
		did = append(did, "unmounted "+mnt)
	}
	files, _ := filepath.Glob("/sys/block/loop*/loop/backing_file")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), dir+"/") {
			continue
		}
		dev := "/dev/" + filepath.Base(filepath.Dir(filepath.Dir(f)))
		if out, err := exec.CommandContext(ctx, "losetup", "--detach", dev).CombinedOutput(); err != nil {
			errs = append(errs, fmt.Errorf("losetup --detach %s: %v: %s", dev, err, strings.TrimSpace(string(out))))
			continue
		}
		did = append(did, "detached "+dev+" ("+strings.TrimSpace(string(b))+")")
	}
	if err := errors.Join(errs...); err != nil {
		return did, fmt.Errorf("%w: %s is kept", err, dir)
	}
	return did, nil
}

// Close closes the Docker client.
func (r *realHost) Close() error { return r.cli.Close() }

// checkRealProvision checks what provision and start made on this host:
// the backing files of the disks, one per pod and one per node, the GCE
// routes on the fake compute API, and the node-local mounts.
func (s *scenario) checkRealProvision(sr *StepReport, sum1, sum2 string, pods map[string][]string) error {
	files, err := filepath.Glob(filepath.Join(s.host.san, svcname+"-*.img"))
	if err != nil {
		return err
	}
	if want := s.opts.Pods + s.opts.Nodes; len(files) != want {
		return fmt.Errorf("%d backing files in %s, expected %d (one per pod and per node)", len(files), s.host.san, want)
	}
	mounts, err := mountinfo.Read()
	if err != nil {
		return err
	}
	perNode := map[string]int{}
	for _, m := range mounts {
		for n, h := range s.hosts {
			// The private daemon's own mounts (its bind of the data
			// root, its layers) are no filesystem of the service.
			if dataRoot := filepath.Join(h.root, svcname, "docker"); m.MountPoint == dataRoot || strings.HasPrefix(m.MountPoint, dataRoot+"/") {
				continue
			}
			if strings.HasPrefix(m.MountPoint, filepath.Join(h.root, svcname)) {
				perNode[n]++
			}
		}
	}
	var counts []string
	total := 0
	for _, n := range s.nodes() {
		counts = append(counts, fmt.Sprintf("%s:%d", n, perNode[n]))
		total += perNode[n]
	}
	fmt.Fprintf(s.out, "   host: %d backing files in %s, filesystems mounted per node %s\n", len(files), s.host.san, strings.Join(counts, " "))
	if want := s.opts.Pods + s.opts.Nodes; total != want {
		return fmt.Errorf("%d filesystems mounted under the node directories, expected %d", total, want)
	}
	routes := len(s.cloud.srv.Routes())
	fmt.Fprintf(s.out, "   GCE: %d routes in the fake project\n", routes)
	if routes != 2*s.opts.Pods {
		return fmt.Errorf("%d GCE routes, expected %d", routes, 2*s.opts.Pods)
	}
	sr.Summary = fmt.Sprintf("%s; %s; %d pods up, %d loop disks, %d mounts, %d routes", sum1, sum2, countPods(pods), len(files), total, routes)
	daemons, err := s.checkDaemons(pods)
	if err != nil {
		return err
	}
	sr.Summary += "; " + daemons
	return nil
}

// checkDaemons checks each node's private daemon: on its own data root
// (the node's fs#00), running that node's containers, the host's daemon
// running none of them; it prints and returns its starts' times.
func (s *scenario) checkDaemons(pods map[string][]string) (string, error) {
	ctx := context.Background()
	var fastest, slowest time.Duration
	n, containers := 0, 0
	for _, node := range s.nodes() {
		h := s.hosts[node]
		rep, err := s.host.checkDaemon(ctx, h)
		if err != nil {
			return "", err
		}
		if want := 2 * len(pods[node]); rep.Running != want {
			return "", fmt.Errorf("%s: %d containers of the run on its private daemon, expected %d (2 per pod)", node, rep.Running, want)
		}
		starts := h.daemon.Starts()
		if len(starts) == 0 {
			return "", fmt.Errorf("%s: the private daemon's start was not recorded", node)
		}
		first := starts[0]
		fmt.Fprintf(s.out, "   %s: private dockerd on %s (%s), %d containers running, %d stand-in images; started in %s, %d images loaded in %s\n",
			node, rep.Root, rep.Driver, rep.Running, rep.Images, round(first.Start), first.Loaded, round(first.Load))
		if d := first.Start + first.Load; n == 0 || d < fastest {
			fastest = d
		}
		if d := first.Start + first.Load; d > slowest {
			slowest = d
		}
		n++
		containers += rep.Running
	}
	list, err := s.host.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", s.host.run)})
	if err != nil {
		return "", err
	}
	if len(list.Items) > 0 {
		return "", fmt.Errorf("the host's daemon has %d containers of the run, expected none (they run on the nodes' private daemons)", len(list.Items))
	}
	fmt.Fprintf(s.out, "   host dockerd: no container of the run\n")
	return fmt.Sprintf("%d private dockerd (%d containers, none on the host's), each up with its images in %s-%s", n, containers, round(fastest), round(slowest)), nil
}

// checkStandInFiles checks that every pod's spider container of image ref
// wrote its file in the pod's data directory on its node's mount.
func (s *scenario) checkStandInFiles(ref string) (int, error) {
	l, err := s.layout()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, node := range s.nodes() {
		for _, p := range l.PodsOn(node) {
			f := filepath.Join(s.hosts[node].root, svcname, fmt.Sprintf("pod%02d", p.Num), "sm", "data", standInFile(ref))
			if _, err := os.Stat(f); err != nil {
				return n, fmt.Errorf("pod%02d on %s: the %s container wrote no file on its disk: %w", p.Num, node, s.image(ref), err)
			}
			n++
		}
	}
	fmt.Fprintf(s.out, "   %d pods: %s written by %s on the pod's filesystem\n", n, standInFile(ref), s.image(ref))
	return n, nil
}
