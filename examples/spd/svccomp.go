package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/internal/svccomp"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
)

// The seed's service compliance: the export of moduleset spdc.svc and its
// bash module 50-spdc.svc.db.cnf, copies of compliance/testdata's (a test
// keeps them identical), the module unmodified.
var (
	//go:embed testdata/spdc-svc.json
	spdcSvcExport []byte
	//go:embed testdata/modules/50-spdc.svc.db.cnf
	spdcSvcModule []byte
)

const (
	svcModuleset = "spdc.svc"
	svcModule    = "50-spdc.svc.db.cnf"
	// compobjPath is where, inside a node's root, this program is mounted
	// to answer as the com.opensvc objects (files.py...) the module calls.
	compobjPath = "opt/svckit/compobj"
)

// hostTools are the host directories a chrooted module needs (bash,
// coreutils, the dynamic loader and libraries), bound read-only into the
// node's root inside the mount namespace of the run.
var hostTools = []string{"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"}

// svcCompliance is what the service compliance step found.
type svcCompliance struct {
	// Files are the spd.cnf files per pod, relative to the pod's disk.
	Files map[string][]string `json:"files"`
	// ServerIDs are the server ids written, per pod: sm then db.
	ServerIDs map[string][2]int `json:"server_ids"`
	// Skipped says why the step did not run the module.
	Skipped string `json:"skipped,omitempty"`
}

// diskDir is the content of a pod's GCE disk without -real: a directory
// of the run that every node reaches, mounted (bound) at the pod's mount
// point on the node where its fs is up, so that the files a module writes
// there move with the disk.
func (s *scenario) diskDir(name string) string { return filepath.Join(s.dir, "disks", name) }

// mountedPods returns, for the service on agent a, the pods whose fs is
// up there: mount point (/spdsvc01/pod01) to GCE disk name.
func mountedPods(ctx context.Context, a *cluster.Agent, s *svc.Service) (map[string]string, error) {
	st, err := a.Status(ctx, s.Name())
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range st.Resources {
		num, ok := strings.CutPrefix(r.RID, "fs#")
		if !ok || num == "00" || r.Disabled || r.Status != resource.Up {
			continue
		}
		fsCfg, _ := s.Config(r.RID)
		diskCfg, ok := s.Config("disk#" + num)
		if !ok {
			return nil, fmt.Errorf("%s: %s has no disk#%s", a.Node, r.RID, num)
		}
		mnt, disk := fsCfg.String("mnt"), diskCfg.String("names")
		if !strings.HasPrefix(mnt, "/"+s.Name()+"/pod") || disk == "" || strings.ContainsAny(disk, "/ ") {
			return nil, fmt.Errorf("%s: %s: mount point %q or disk %q is not a pod's", a.Node, r.RID, mnt, disk)
		}
		out[mnt] = disk
	}
	return out, nil
}

// prepareSvcCompliance installs the module and links the objects it calls
// in the node's root.
func prepareSvcCompliance(ctx context.Context, root string) error {
	modules := filepath.Join(root, "var", "compliance", "modules")
	if err := writeFile(filepath.Join(modules, svcModule), string(spdcSvcModule), 0o755); err != nil {
		return err
	}
	obj := filepath.Join(root, compobjPath)
	if err := writeFile(obj, "", 0o755); err != nil {
		return err
	}
	return compliance.InstallCompObj(ctx, modules, obj)
}

// inNodeView runs fn on an OS thread of its own, in a mount namespace of
// its own where root holds the host's tools (read-only), this program at
// compobjPath, and the pods' disks at their mount points: what the node
// would show its chrooted module. The namespace, and its mounts, end
// with the thread; the host's mount table is never changed. The mount
// points it had to create are removed afterwards, so that a later run
// on this node sees no pod that is not mounted there.
func inNodeView(root, exe string, pods map[string]string, diskDir func(string) string, fn func() error) error {
	var created []string
	defer func() {
		for _, d := range slices.Backward(created) {
			_ = os.Remove(d) // only if empty: never what a module wrote
		}
	}()
	errc := make(chan error, 1)
	var worker func()
	worker = func() {
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// The main thread never ends, and its mount namespace is the
			// one /proc/self shows for the whole process: keep it (locked
			// here, so the goroutine below runs elsewhere) out of this.
			done := make(chan struct{})
			go func() { worker(); close(done) }()
			<-done
			runtime.UnlockOSThread()
			return
		}
		// Never unlocked: the thread, and its namespace, end with this
		// goroutine.
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("mount namespace: %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("mount namespace: private /: %w", err)
			}
			bind := func(src, dst string, ro bool) error {
				if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
					return fmt.Errorf("bind %s on %s: %w", src, dst, err)
				}
				if ro {
					if err := unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
						return fmt.Errorf("read-only %s: %w", dst, err)
					}
				}
				return nil
			}
			for _, d := range hostTools {
				host := "/" + d
				fi, err := os.Lstat(host)
				if err != nil {
					continue
				}
				dst := filepath.Join(root, d)
				if fi.Mode()&os.ModeSymlink != 0 {
					// Merged /usr: the same relative link in the root.
					target, err := os.Readlink(host)
					if err != nil {
						return err
					}
					if cur, err := os.Readlink(dst); err != nil || cur != target {
						if err := os.Symlink(target, dst); err != nil {
							return err
						}
					}
					continue
				}
				if err := os.MkdirAll(dst, 0o755); err != nil {
					return err
				}
				if err := bind(host, dst, true); err != nil {
					return err
				}
			}
			if b, err := os.ReadFile("/etc/ld.so.cache"); err == nil {
				if err := writeFile(filepath.Join(root, "etc", "ld.so.cache"), string(b), 0o644); err != nil {
					return err
				}
			}
			if err := bind(exe, filepath.Join(root, compobjPath), true); err != nil {
				return err
			}
			for _, mnt := range slices.Sorted(maps.Keys(pods)) {
				src := diskDir(pods[mnt])
				if err := os.MkdirAll(src, 0o755); err != nil {
					return err
				}
				dst := filepath.Join(root, mnt)
				if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
					if err := os.MkdirAll(dst, 0o755); err != nil {
						return err
					}
					created = append(created, dst)
				}
				if err := bind(src, dst, false); err != nil {
					return err
				}
			}
			return fn()
		}()
	}
	go worker()
	return <-errc
}

// svcComplianceCommand is `svcmgr -s spdsvc01 compliance ACTION --moduleset
// spdc.svc` as the scenario's agents run it: the module chrooted in each
// node's root, seeing the pods mounted on that node only.
func (s *scenario) svcComplianceCommand(export *compliance.Export, action string) cluster.Command {
	exe := s.compobj
	req := svccomp.Request{Action: action}
	if action == "attach" {
		req.Modulesets = []string{svcModuleset}
	}
	return svccomp.Command(req, func(a *cluster.Agent) svccomp.Options {
		return svccomp.Options{Root: a.Root, Export: export, ChrootScripts: true,
			Around: func(ctx context.Context, fn func() error) error {
				sv, err := a.Load(ctx, svcname)
				if err != nil {
					return err
				}
				pods := map[string]string{}
				if !s.opts.Real {
					// With -real the pods' filesystems are mounted under the
					// node's root already.
					if pods, err = mountedPods(ctx, a, sv); err != nil {
						return err
					}
				}
				return inNodeView(a.Root, exe, pods, s.diskDir, fn)
			}}
	})
}

// serviceCompliance is the seed's `svcmgr -s spdsvc01 --cluster compliance
// attach|fix --moduleset spdc.svc`, then a check: every pod's db and sm
// spd.cnf on its own disk, with the server ids the module computes.
func (s *scenario) serviceCompliance(ctx context.Context, sr *StepReport) error {
	export, err := compliance.ParseExport("spdc-svc.json", spdcSvcExport)
	if err != nil {
		return err
	}
	if os.Geteuid() != 0 {
		// The module runs chrooted in each node's root (its glob,
		// /spdsvc01/pod*, must see that node's pods only) and its rules
		// chown to uid 999: both need root.
		s.rep.SvcCompliance = &svcCompliance{Skipped: "needs root: the module runs chrooted in each node's root and chowns to uid 999"}
		sr.Summary = "skipped: " + s.rep.SvcCompliance.Skipped
		fmt.Fprintf(s.out, "   %s\n", sr.Summary)
		return nil
	}
	s.compobj = s.compobjBinary(ctx)
	for _, n := range s.nodes() {
		if err := prepareSvcCompliance(ctx, s.agents[n].Root); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	c := s.primary()
	// The seed's typo first: refused with the name it meant.
	if _, ok := export.Moduleset("sdpc.svc"); !ok {
		um := &compliance.UnknownModulesetError{Name: "sdpc.svc", Known: export.ModulesetNames()}
		fmt.Fprintf(s.out, "   $ svcmgr -s %s --cluster compliance attach --moduleset sdpc.svc\n   svcmgr: %v\n", svcname, um)
	}
	for _, action := range []string{"attach", "fix", "check"} {
		fmt.Fprintf(s.out, "   $ svcmgr -s %s --cluster compliance %s --moduleset %s\n", svcname, action, svcModuleset)
		res, err := c.Exec(ctx, svcname, s.svcComplianceCommand(export, action))
		if res != nil {
			printCompliance(s, res)
		}
		if err != nil {
			return err
		}
	}
	sc, err := s.checkSvcFiles(ctx, export)
	s.rep.SvcCompliance = sc
	if err != nil {
		return err
	}
	last := sc.ServerIDs[fmt.Sprintf("pod%02d", s.opts.Pods)]
	sr.Summary = fmt.Sprintf("%s fixed on %d nodes: %d files, 2 per pod on its disk, server ids %d-%d", svcModuleset, len(s.nodes()), countFiles(sc), sc.ServerIDs["pod01"][0], last[1])
	return nil
}

func printCompliance(s *scenario, res *cluster.Result) {
	for _, n := range slices.Sorted(maps.Keys(res.Nodes)) {
		nr := res.Nodes[n]
		var rep svccomp.NodeReport
		line := fmt.Sprintf("   %s:", n)
		if err := json.Unmarshal(nr.Output, &rep); err == nil && rep.Report != nil {
			d := rep.Report.Digest
			line += fmt.Sprintf(" %s %d ok %d nok %d failed", rep.Action, d.OK, d.NOK, d.Failed)
		} else if err == nil {
			line += fmt.Sprintf(" %s: attached %s", rep.Action, strings.Join(rep.Attached, ","))
		}
		if nr.Error != "" {
			line += " error: " + nr.Error
		}
		fmt.Fprintln(s.out, line)
	}
}

func countFiles(sc *svcCompliance) int {
	n := 0
	for _, f := range sc.Files {
		n += len(f)
	}
	return n
}

var (
	dbServerID = regexp.MustCompile(`(?m)^server_id=(\d+)$`)
	smServerID = regexp.MustCompile(`(?m)^server-id = (\d+)$`)
)

// checkSvcFiles reads what the module wrote on the pods' disks: exactly
// db/conf/spd.cnf and sm/conf/spd.cnf on each pod's disk, owned by 999,
// with the server ids of the module's formula (sm first_server_ip+2(n-1),
// db the next) from the export's variables.
func (s *scenario) checkSvcFiles(ctx context.Context, export *compliance.Export) (*svcCompliance, error) {
	vars := map[string]int{}
	rs, ok := export.Ruleset(svcModuleset + ".db.cnf")
	if !ok {
		return nil, fmt.Errorf("export: no ruleset %s.db.cnf", svcModuleset)
	}
	{
		for _, v := range rs.Variables {
			if v.Name == "first_server_ip" || v.Name == "n_servers" {
				n, err := strconv.Atoi(v.Value)
				if err != nil {
					return nil, fmt.Errorf("export: %s = %q: %w", v.Name, v.Value, err)
				}
				vars[v.Name] = n
			}
		}
	}
	first := vars["first_server_ip"]
	sc := &svcCompliance{Files: map[string][]string{}, ServerIDs: map[string][2]int{}}
	dirs, err := s.podDirs(ctx)
	if err != nil {
		return sc, err
	}
	for disk, dir := range dirs {
		// The spd.cnf files only: with -real the pod's filesystem holds
		// the databases' own files too.
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || e.Name() != "spd.cnf" {
				return err
			}
			rel, _ := filepath.Rel(dir, p)
			sc.Files[disk] = append(sc.Files[disk], rel)
			return nil
		})
		if err != nil {
			return sc, err
		}
	}
	for pod := 1; pod <= s.opts.Pods; pod++ {
		disk := fmt.Sprintf("%s-pod%d", svcname, pod)
		if got := sc.Files[disk]; !slices.Equal(got, []string{"db/conf/spd.cnf", "sm/conf/spd.cnf"}) {
			return sc, fmt.Errorf("disk %s holds %v, expected db/conf/spd.cnf and sm/conf/spd.cnf", disk, got)
		}
		var ids [2]int
		for i, f := range []struct {
			path string
			re   *regexp.Regexp
			want int
		}{{"sm/conf/spd.cnf", smServerID, first + 2*(pod-1)}, {"db/conf/spd.cnf", dbServerID, first + 2*(pod-1) + 1}} {
			p := filepath.Join(dirs[disk], f.path)
			b, err := os.ReadFile(p)
			if err != nil {
				return sc, err
			}
			m := f.re.FindSubmatch(b)
			if m == nil {
				return sc, fmt.Errorf("%s: no server id", p)
			}
			ids[i], _ = strconv.Atoi(string(m[1]))
			if ids[i] != f.want {
				return sc, fmt.Errorf("%s: server id %d, expected %d", p, ids[i], f.want)
			}
		}
		sc.ServerIDs[fmt.Sprintf("pod%02d", pod)] = ids
	}
	if len(sc.Files) != s.opts.Pods {
		return sc, fmt.Errorf("%d disks hold files, expected %d", len(sc.Files), s.opts.Pods)
	}
	fmt.Fprintf(s.out, "   %d files on %d pod disks, 2 each; server ids sm/db pod01 %v ... pod%02d %v\n",
		countFiles(sc), len(sc.Files), sc.ServerIDs["pod01"], s.opts.Pods, sc.ServerIDs[fmt.Sprintf("pod%02d", s.opts.Pods)])
	return sc, nil
}

// podDirs maps the disk of every pod mounted on a node of the service
// (before the relayout: the scenario's first nodes) to
// where its content is: the run's directory of the disk, or with -real
// the pod's filesystem mounted under the node's root.
func (s *scenario) podDirs(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range s.nodes() {
		a := s.agents[n]
		sv, err := a.Load(ctx, svcname)
		if err != nil {
			return nil, err
		}
		pods, err := mountedPods(ctx, a, sv)
		if err != nil {
			return nil, err
		}
		for mnt, disk := range pods {
			if prev, ok := out[disk]; ok {
				return nil, fmt.Errorf("disk %s mounted on two nodes: %s and %s", disk, prev, n)
			}
			out[disk] = s.diskDir(disk)
			if s.opts.Real {
				out[disk] = filepath.Join(a.Root, mnt)
			}
		}
	}
	return out, nil
}

// compobjBinary returns the program the module calls as its objects: a
// static examples/compobj built for the run when the go tool and the
// module's source are at hand (it starts in a few milliseconds, and the
// module calls it twice per pod and per check or fix), else this program,
// which answers as the objects too but starts some ten times slower (the
// init of the GCE and Docker client packages).
func (s *scenario) compobjBinary(ctx context.Context) string {
	bin := filepath.Join(s.dir, "compobj")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/svckit/svckit/examples/compobj")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err == nil {
		fmt.Fprintf(s.out, "   com.opensvc objects: examples/compobj, built for the run\n")
		return bin
	} else if exe, xerr := os.Executable(); xerr == nil {
		fmt.Fprintf(s.out, "   com.opensvc objects: this program (go build of examples/compobj: %v %s)\n", err, strings.TrimSpace(string(out)))
		return exe
	}
	return ""
}

// fixAfterMigration runs compliance fix on the migration's destination:
// the pod's files came with its disk, so the module is conform already and
// nothing is written.
func (s *scenario) fixAfterMigration(ctx context.Context, pod int) (string, error) {
	if s.rep.SvcCompliance == nil || s.rep.SvcCompliance.Skipped != "" {
		return "", nil
	}
	export, err := compliance.ParseExport("spdc-svc.json", spdcSvcExport)
	if err != nil {
		return "", err
	}
	dirs, err := s.podDirs(ctx)
	if err != nil {
		return "", err
	}
	disk, ok := dirs[fmt.Sprintf("%s-pod%d", svcname, pod)]
	if !ok {
		return "", fmt.Errorf("pod%02d is mounted nowhere", pod)
	}
	before, err := fileStamps(disk)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(s.out, "   $ svcmgr -s %s compliance fix --moduleset %s   (on %s)\n", svcname, svcModuleset, movedTo)
	out, err := s.agents[movedTo].Exec(ctx, svcname, s.svcComplianceCommand(export, "fix"))
	if err != nil {
		return "", fmt.Errorf("%s: compliance fix: %w", movedTo, err)
	}
	var rep svccomp.NodeReport
	if err := json.Unmarshal(out, &rep); err != nil {
		return "", err
	}
	if len(rep.Report.Results) != 1 || !strings.Contains(rep.Report.Results[0].Output, "already conform, nothing to fix") {
		return "", fmt.Errorf("%s: compliance fix after the migration was not a no-op: %+v", movedTo, rep.Report.Results)
	}
	after, err := fileStamps(disk)
	if err != nil {
		return "", err
	}
	if !maps.Equal(before, after) {
		return "", fmt.Errorf("%s: the files of pod%02d changed: %v -> %v", movedTo, pod, before, after)
	}
	msg := fmt.Sprintf("compliance fix on %s: already conform, pod%02d's %d files unchanged (moved with its disk)", movedTo, pod, len(after))
	fmt.Fprintf(s.out, "   %s\n", msg)
	return msg, nil
}

// fileStamps maps the files under dir to their modification time and
// size.
func fileStamps(dir string) (map[string]string, error) {
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%d %d", fi.ModTime().UnixNano(), fi.Size())
		return nil
	})
	return out, err
}
