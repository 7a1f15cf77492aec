// Command spdbench measures svckit's schedulers on the seed's sharded
// MariaDB/Spider service (spd-flex-howto.txt) with fake drivers.
//
// It generates the service configuration the seed's form produces for
// -pods pods on -nodes nodes, loads it on the first node, and runs
// provision, stop and start with the graph scheduler and with the
// reference's group by group order (scheduler = groups), every driver
// operation taking -latency. For each action it prints the wall time of
// both schedulers and the critical path: the longest chain of dependent
// operations of the graph, times the latency, which no schedule can beat.
//
//	go run ./examples/spdbench
//	go run ./examples/spdbench -pods 110 -latency 5ms -format json
//
// With -cloud (as root), it runs provision --cluster of the pods on the
// nodes with the real disk.gce and ip.gce against gcetest's latency model
// (GCE's typical operation times, one disk operation at a time per
// instance, the project's mutation rate; the other drivers are fakes of
// -fake-latency), then a migration and the relayout to one more node, and
// prints each against the least time the model allows and, for
// provision, against the reference's order (every cloud mutation one
// after another). -scale shrinks every time of the model, of the fakes and
// of the client's pauses, so that the same run takes less:
//
//	go run ./examples/spdbench -cloud
//	go run ./examples/spdbench -cloud -scale 0.1 -format json
//
// Each node's addresses go on br0 of a network namespace of its own.
// Nothing outside a temporary directory is touched: the service keeps its
// action lock and the fakes their state there (under /dev/shm by default),
// and the configuration's post_provision commands are not run.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/internal/spdconf"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "spdbench:", err)
		}
		os.Exit(2)
	}
}

// config is what the flags ask for.
type config struct {
	pods, nodes, maxParallel int
	latency                  time.Duration
	format, dir              string
	cloud                    bool
	scale                    float64
	fakeLatency              time.Duration
	parallel                 int
}

// Figures are the measures of one action.
type Figures struct {
	GraphS        float64 `json:"graph_s"`
	GroupsS       float64 `json:"groups_s"`
	CriticalPathS float64 `json:"critical_path_s"`
}

// Report holds the figures of every action measured.
type Report struct {
	Start     Figures `json:"start"`
	Stop      Figures `json:"stop"`
	Provision Figures `json:"provision"`
}

// actions are run in this order on a fresh service: provision brings it up
// from nothing, stop takes it down, start brings it up again.
var actions = []svc.Action{svc.Provision, svc.Stop, svc.Start}

func (r *Report) figures(a svc.Action) *Figures {
	switch a {
	case svc.Start:
		return &r.Start
	case svc.Stop:
		return &r.Stop
	default:
		return &r.Provision
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("spdbench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var c config
	fl.IntVar(&c.pods, "pods", 32, "number of pods of the service (1 to 110)")
	fl.IntVar(&c.nodes, "nodes", 4, "number of nodes the pods are spread over; the service is loaded on the first")
	fl.DurationVar(&c.latency, "latency", 20*time.Millisecond, "time every fake start, stop and provision takes")
	fl.IntVar(&c.maxParallel, "max-parallel", 0, "the most resource actions run at once (0: no limit)")
	fl.StringVar(&c.format, "format", "table", "output format: table or json")
	fl.StringVar(&c.dir, "dir", defaultDir(), "directory for a temporary var directory, removed at exit (a tmpfs, so that the fakes' fsyncs cost nothing)")
	fl.BoolVar(&c.cloud, "cloud", false, "cloud mode: provision --cluster, a migration and a relayout with the real disk.gce and ip.gce on gcetest's latency model (needs root)")
	fl.Float64Var(&c.scale, "scale", 1, "cloud mode: multiply the model's latencies by this (0.1: ten times faster, same ratios)")
	fl.DurationVar(&c.fakeLatency, "fake-latency", defaultFakeLatency, "cloud mode: time of each fake action (fs, containers) before -scale")
	fl.IntVar(&c.parallel, "parallel", 8, "cloud mode: how many moves the relayout runs at once")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: expected flags only", fl.Args())
	}
	if c.format != "table" && c.format != "json" {
		return fmt.Errorf("-format %q: expected table or json", c.format)
	}
	if c.cloud {
		o := cloudOptions{pods: c.pods, nodes: c.nodes, scale: c.scale, fakeLatency: c.fakeLatency, parallel: c.parallel, dir: c.dir}
		if c.scale <= 0 || c.fakeLatency < 0 || c.parallel < 1 {
			return fmt.Errorf("expected -scale > 0, -fake-latency >= 0 and -parallel >= 1")
		}
		rep, err := runCloud(ctx, o)
		if err != nil {
			return err
		}
		if c.format == "json" {
			return json.NewEncoder(stdout).Encode(rep)
		}
		return printCloud(stdout, o, rep)
	}
	if c.nodes < 1 || c.latency < 0 || c.maxParallel < 0 {
		return fmt.Errorf("expected -nodes >= 1, -latency >= 0 and -max-parallel >= 0")
	}
	p := spdconf.Defaults()
	p.Pods, p.Nodes = c.pods, spdconf.Nodes(c.nodes)
	conf, err := spdconf.Generate(p)
	if err != nil {
		return err
	}
	// The fakes keep their state in the service's var directory, and
	// fsync every write: on a disk that adds milliseconds to each
	// operation, which is not what is measured here. A tmpfs makes the
	// fsync free.
	dir, err := os.MkdirTemp(c.dir, "spdbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var rep Report
	var info string
	chains := map[svc.Action][]string{}
	for _, sched := range []string{svc.SchedulerGraph, svc.SchedulerGroups} {
		root := filepath.Join(dir, sched)
		rec := fake.NewRecorder()
		reg := fake.Registry(fake.Options{Latency: c.latency, Recorder: rec})
		s, err := svc.Parse(ctx, p.Svcname+".conf", conf, svc.Options{Node: p.Nodes[0], Registry: reg, Root: root, NoTriggers: true})
		if err != nil {
			return err
		}
		sel, err := s.Select(svc.Selection{})
		if err != nil {
			return err
		}
		info = fmt.Sprintf("%s: %d pods on %d nodes, loaded on %s (%d resources), fake latency %s, max parallel %s",
			s.Name(), c.pods, c.nodes, s.Node(), len(sel), c.latency, parallelText(c.maxParallel))
		for _, a := range actions {
			rec.Reset()
			t0 := time.Now()
			res, err := s.Do(ctx, a, svc.ActionOptions{Scheduler: sched, MaxParallel: c.maxParallel})
			wall := time.Since(t0)
			if err != nil {
				return fmt.Errorf("%s with scheduler %s: %w", a, sched, err)
			}
			// A fast action that did not do its job measures nothing.
			// After a stop only the standby disks are up: "stdby up".
			avail := s.Status(ctx).Avail
			if up := avail.Final() == resource.Up; up != (a != svc.Stop) {
				return fmt.Errorf("%s with scheduler %s: the service is %s after it", a, sched, avail)
			}
			f := rep.figures(a)
			if sched == svc.SchedulerGroups {
				f.GroupsS = wall.Seconds()
				continue
			}
			f.GraphS = wall.Seconds()
			// Each resource weighs the driver operations it really ran
			// (a standby disk is not stopped, an up sync not started).
			ops := map[string]int{}
			for _, call := range rec.Calls() {
				if call.Action != fake.ActionStatus {
					ops[call.RID]++
				}
			}
			var cp time.Duration
			cp, chains[a] = res.CriticalPath(func(rid string) time.Duration { return time.Duration(ops[rid]) * c.latency })
			f.CriticalPathS = cp.Seconds()
		}
	}

	if c.format == "json" {
		enc := json.NewEncoder(stdout)
		return enc.Encode(rep)
	}
	fmt.Fprintln(stdout, info)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "action\tgraph_s\tgroups_s\tcritical_path_s\tgraph/critical\tgroups/graph\t")
	for _, a := range []svc.Action{svc.Start, svc.Stop, svc.Provision} {
		f := rep.figures(a)
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%s\t%s\t\n", a, f.GraphS, f.GroupsS, f.CriticalPathS, ratio(f.GraphS, f.CriticalPathS), ratio(f.GroupsS, f.GraphS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "critical paths:")
	for _, a := range []svc.Action{svc.Start, svc.Stop, svc.Provision} {
		fmt.Fprintf(stdout, "  %-9s  %s\n", a, strings.Join(chains[a], " -> "))
	}
	return nil
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func parallelText(n int) string {
	if n == 0 {
		return "unbounded"
	}
	return fmt.Sprint(n)
}

// defaultDir is /dev/shm when it is there (a tmpfs on Linux), else the
// system's temporary directory.
func defaultDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}
