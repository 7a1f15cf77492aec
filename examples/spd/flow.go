package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/examples/collector/client"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/cluster/spdplanner"
	"github.com/svckit/svckit/svc/store"
)

// The seed's form defaults.
const (
	svcname   = "spdsvc01"
	app       = "RIVER_SPD"
	smImage   = "tanji/spdc"
	smImage2  = "tanji/spdc:2"
	dbImage   = "mariadb"
	movedPod  = 16
	movedFrom = "spd02"
	movedTo   = "spd03"
)

// Options say how the scenario runs.
type Options struct {
	// Pods and Nodes size the service (the seed: 32 pods on 4 nodes);
	// relayout adds one node.
	Pods, Nodes int
	// Latency is the fake drivers' action latency.
	Latency time.Duration
	// Dir is where the temporary directory of the node roots is made
	// ("" is os.TempDir()).
	Dir string
	// Keep leaves the node roots for inspection.
	Keep bool
	// Faults make calls of the fake drivers fail (on every node, unless
	// a fault names its nodes), to watch a step fail and roll back.
	Faults []fake.Fault
	// Real runs the real drivers of the host (root, a Docker daemon):
	// ip.gce with its addresses on br0 of a network namespace per node,
	// fs (mkfs, mount), disk.loop standing in for disk.gce, container.docker
	// with local stand-ins of the seed's images, ip.docker into br0 of the
	// node's namespace. See hostNode for how the nodes share this host.
	Real bool
	// Store is where the config goes: StoreCollector (the default, ""),
	// the collector of examples/collector run in process on loopback with
	// SQLite in the run's directory: the form is submitted over HTTP, the
	// nodes register and pull from its API and read their compliance rules
	// from it; or StoreDir, a directory store, as before the collector.
	Store string
	// Out receives the progress lines (nil: none).
	Out io.Writer
}

// StepReport is the outcome of one step of the scenario.
type StepReport struct {
	Name     string        `json:"name"`
	Result   string        `json:"result"` // ok or failed
	Summary  string        `json:"summary"`
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	// Pods are the pods whose containers are up, per node, after the
	// step (cluster steps only).
	Pods map[string][]string `json:"pods,omitempty"`
}

// Report is what a run did.
type Report struct {
	Service string `json:"service"`
	Pods    int    `json:"pods"`
	// Nodes are the nodes at the end (after relayout).
	Nodes []string `json:"nodes"`
	// Drivers says, per driver id, whether the real driver or a fake ran.
	Drivers map[string]string `json:"drivers"`
	Real    bool              `json:"real"`
	// Collector is the URL of the run's collector (empty with the
	// directory store).
	Collector  string            `json:"collector,omitempty"`
	Root       string            `json:"root"`
	Kept       bool              `json:"kept"`
	Compliance []*nodeCompliance `json:"compliance,omitempty"`
	// SvcCompliance is what the service compliance step found.
	SvcCompliance *svcCompliance `json:"svc_compliance,omitempty"`
	Steps         []*StepReport  `json:"steps"`
	// Status is the cluster status after the last step.
	Status   *cluster.Status `json:"status,omitempty"`
	Duration time.Duration   `json:"duration_ns"`
}

// OK tells whether every step succeeded.
func (r *Report) OK() bool {
	for _, s := range r.Steps {
		if s.Result != "ok" {
			return false
		}
	}
	return len(r.Steps) > 0
}

func (o *Options) validate() error {
	var errs []error
	if o.Pods < 1 || o.Pods > spd.MaxPods {
		errs = append(errs, fmt.Errorf("-pods %d: expected 1 to %d", o.Pods, spd.MaxPods))
	}
	// The scenario migrates pod16 from spd02 to spd03 and adds a node.
	if o.Nodes < 3 || o.Nodes+1 > spd.MaxNodes {
		errs = append(errs, fmt.Errorf("-nodes %d: expected 3 to %d (the scenario moves a pod from spd02 to spd03, then adds a node)", o.Nodes, spd.MaxNodes-1))
	}
	// Every node runs a pod, as in the seed: the image replacement
	// selects the sm containers of every node.
	if o.Pods < o.Nodes {
		errs = append(errs, fmt.Errorf("-pods %d: expected at least one pod per node (-nodes %d)", o.Pods, o.Nodes))
	}
	if o.Real {
		if err := canReal(); err != nil {
			errs = append(errs, err)
		}
		if len(o.Faults) > 0 {
			errs = append(errs, errors.New("-faults makes fake drivers fail, and with -real every resource of the service runs a real driver: use one or the other"))
		}
	}
	for _, f := range o.Faults {
		if err := f.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("fault %+v: %w", f, err))
		}
	}
	if o.Store != "" && o.Store != StoreCollector && o.Store != StoreDir {
		errs = append(errs, fmt.Errorf("-store %q: expected %s or %s", o.Store, StoreCollector, StoreDir))
	}
	if o.Latency < 0 {
		errs = append(errs, fmt.Errorf("-latency %s: expected a positive duration", o.Latency))
	}
	return errors.Join(errs...)
}

// scenario holds the simulated cluster.
type scenario struct {
	opts  Options
	out   io.Writer
	dir   string
	cloud *cloud
	store *store.Dir
	// coll is the run's collector (nil with -store dir).
	coll *collectorRun
	// paths are the PATH of each node's compliance runs (the stand-in
	// commands of prepareNodeRoot first).
	paths  map[string]string
	fopts  fake.Options
	agents map[string]*cluster.Agent
	// peers reaches every agent: the real sync.rsync of -real compares
	// the nodes' config checksums through it.
	peers *cluster.Local
	netns map[string]*nodeNetNS
	// host and hosts are -real's: the run's Docker client, images and
	// SAN directory, and each node's adapter of the host drivers.
	host  *realHost
	hosts map[string]*hostNode
	rep   *Report
	// password is the generated root password: it goes in the config and
	// nowhere else.
	password spd.Secret
	// pending is the generated config, stored by the next step.
	pending []byte
	// compobj is the program the service compliance module calls as the
	// com.opensvc objects.
	compobj string
}

func nodeName(i int) string { return fmt.Sprintf("spd%02d", i) }

// Run plays the seed's scenario on a simulated cluster and returns what
// each step did. The error is the first failed step's.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	dir, err := os.MkdirTemp(opts.Dir, "svckit-spd-")
	if err != nil {
		return nil, err
	}
	// The path the mount table shows: the end of a -real run looks there
	// for what is still mounted under dir before it removes dir.
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	s := &scenario{opts: opts, out: out, dir: dir, agents: map[string]*cluster.Agent{}, paths: map[string]string{}, peers: cluster.NewLocal(), netns: map[string]*nodeNetNS{}, hosts: map[string]*hostNode{},
		fopts: fake.Options{Latency: opts.Latency, Memory: true, Faults: opts.Faults},
		rep:   &Report{Service: svcname, Pods: opts.Pods, Root: dir, Kept: opts.Keep, Real: opts.Real}}
	start := time.Now()
	defer func() {
		s.rep.Duration = time.Since(start)
		remove := !opts.Keep
		if s.host != nil {
			// A context of its own: the run's may be cancelled (^C).
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			if err := s.host.cleanup(cctx, s, dir); err != nil {
				fmt.Fprintf(out, "cleanup: %v\n", err)
				remove = false
			}
			cancel()
			s.host.Close()
		}
		if s.cloud != nil {
			s.cloud.Close()
		}
		if s.coll != nil {
			s.coll.Close()
		}
		for _, n := range s.netns {
			n.Close()
		}
		if remove {
			os.RemoveAll(dir)
		}
	}()
	if s.password, err = newPassword(); err != nil {
		return s.rep, err
	}
	if err := s.setup(ctx); err != nil {
		return s.rep, err
	}
	steps := []struct {
		name string
		fn   func(context.Context, *StepReport) error
	}{
		{"generate config", s.generate},
		{"store and pull", s.storeAndPull},
		{"node compliance", s.nodeCompliance},
		{"provision and start --cluster", s.provisionStart},
		{"service compliance --cluster", s.serviceCompliance},
		{"print status spd01", s.printStatus},
		{"replace spider image", s.replaceImage},
		{fmt.Sprintf("migrate a pod %s -> %s", movedFrom, movedTo), s.migrate},
		{fmt.Sprintf("relayout %d -> %d nodes", opts.Nodes, opts.Nodes+1), s.relayout},
		{"stop --cluster", s.stop},
	}
	for i, st := range steps {
		fmt.Fprintf(out, "\n== %d. %s\n", i+1, st.name)
		sr := &StepReport{Name: st.name}
		t0 := time.Now()
		err := st.fn(ctx, sr)
		sr.Duration = time.Since(t0)
		s.rep.Steps = append(s.rep.Steps, sr)
		if err != nil {
			sr.Result, sr.Error = "failed", err.Error()
			fmt.Fprintf(out, "   FAILED after %s: %v\n", round(sr.Duration), err)
			return s.rep, fmt.Errorf("step %d (%s): %w", i+1, st.name, err)
		}
		sr.Result = "ok"
		fmt.Fprintf(out, "   ok: %s (%s)\n", sr.Summary, round(sr.Duration))
	}
	return s.rep, nil
}

// newPassword returns a random root password for the MariaDB and Spider
// instances. It is never printed.
func newPassword() (spd.Secret, error) {
	return spd.Secret(rand.Text()), nil
}

func round(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(10 * time.Millisecond)
	case d > time.Millisecond:
		return d.Round(100 * time.Microsecond)
	}
	return d
}

// setup makes the fake cloud, the store and one agent per node (the
// relayout's extra node included: it is a machine of the cluster that
// runs nothing of the service until the relayout).
func (s *scenario) setup(ctx context.Context) error {
	s.cloud = newCloud()
	var err error
	if s.store, err = store.NewDir(filepath.Join(s.dir, "store")); err != nil {
		return err
	}
	if s.collector() {
		if s.coll, err = startCollector(ctx, s.dir); err != nil {
			return err
		}
		s.rep.Collector = s.coll.url
	}
	if s.opts.Real {
		if s.host, err = newRealHost(ctx, s.dir, smImage, smImage2, dbImage); err != nil {
			return err
		}
	}
	s.rep.Drivers = map[string]string{}
	for i := 1; i <= s.opts.Nodes+1; i++ {
		node := nodeName(i)
		root := filepath.Join(s.dir, node)
		if s.paths[node], err = prepareNodeRoot(root, node); err != nil {
			return err
		}
		reg, kinds, err := nodeRegistry(s.cloud, node, root, s.fopts)
		if err != nil {
			return err
		}
		if s.opts.Real {
			ns, err := newNodeNetNS(fmt.Sprintf("svckit-spd-%d-%s", os.Getpid(), node), fmt.Sprintf("10.0.0.%d", i))
			if err != nil {
				return err
			}
			s.netns[node] = ns
			if kinds["ip.gce"], err = useRealIPGCE(reg, s.cloud, node, ns); err != nil {
				return err
			}
			s.hosts[node] = s.host.node(node, root, ns)
			useRealHost(reg, s.hosts[node], kinds)
		}
		a := &cluster.Agent{Node: node, Root: root, Registry: reg, NoTriggers: true, Store: s.store}
		if s.opts.Real {
			useRealSync(reg, a, s.peers, kinds)
		}
		s.rep.Drivers = kinds
		s.agents[node] = a
		s.peers.Agents[node] = a
	}
	fmt.Fprintf(s.out, "svckit spd scenario: %s, %d pods on %d nodes (+1 for the relayout), roots under %s\n", svcname, s.opts.Pods, s.opts.Nodes, s.dir)
	if s.coll != nil {
		fmt.Fprintf(s.out, "collector at %s%s (examples/collector on SQLite in %s), the form at %s%s\n", s.coll.url, client.APIPrefix, filepath.Join(s.dir, "collector"), s.coll.url, formPath)
	} else {
		fmt.Fprintf(s.out, "directory store in %s (-store dir)\n", s.store)
	}
	fmt.Fprintf(s.out, "fake GCE compute API at %s (project %s, zone %s); latency of fake actions %s\n", s.cloud.srv.URL, gceProject, gceZone, s.opts.Latency)
	var real, fakes []string
	for _, id := range slices.Sorted(maps.Keys(s.rep.Drivers)) {
		if k := s.rep.Drivers[id]; strings.HasPrefix(k, "real") {
			real = append(real, id+" "+strings.TrimPrefix(k, "real "))
		} else {
			fakes = append(fakes, id)
		}
	}
	fmt.Fprintf(s.out, "real drivers: %s\n", strings.Join(real, ", "))
	if s.opts.Real {
		fmt.Fprintf(s.out, "fake drivers: %s (not in the seed's config)\n", strings.Join(fakes, " "))
		fmt.Fprintf(s.out, "local stand-ins of the seed's images (no registry): %s\n", imageNames(s.host.images))
		return nil
	}
	fmt.Fprintf(s.out, "fake drivers: %s (ip.gce: its address needs netlink; fs, disk.loop, docker, ip.docker: root, loop devices and a Docker daemon: run with -real as root)\n", strings.Join(fakes, " "))
	return nil
}

// collector tells whether the config goes through the collector.
func (s *scenario) collector() bool { return s.opts.Store != StoreDir }

func (s *scenario) nodes() []string {
	var out []string
	for i := 1; i <= s.opts.Nodes; i++ {
		out = append(out, nodeName(i))
	}
	return out
}

func (s *scenario) primary() *cluster.Cluster {
	self := s.agents[nodeName(1)]
	agents := make([]*cluster.Agent, 0, len(s.agents))
	for _, n := range slices.Sorted(maps.Keys(s.agents)) {
		agents = append(agents, s.agents[n])
	}
	return &cluster.Cluster{Self: self, Transport: cluster.NewLocal(agents...), Planner: spdplanner.Planner{}}
}

func (s *scenario) inputs(sm string) spd.Inputs {
	return spd.Inputs{NPods: s.opts.Pods, Svcname: svcname, App: app, Nodes: s.nodes(),
		SMImage: sm, DBImage: dbImage, RootPassword: s.password}
}

// generate submits the seed's form with its defaults and renders the
// config.
func (s *scenario) generate(ctx context.Context, sr *StepReport) error {
	var cfg []byte
	var err error
	if s.collector() {
		cfg, err = s.submitForm(ctx, smImage)
	} else {
		cfg, err = s.configFor(smImage)
	}
	if err != nil {
		return err
	}
	l, err := spd.ParseLayout(cfg)
	if err != nil {
		return err
	}
	var counts []string
	for _, n := range l.NodeNames() {
		counts = append(counts, fmt.Sprintf("%s:%d", n, l.Counts()[n]))
	}
	sections := strings.Count(string(cfg), "\n[")
	fmt.Fprintf(s.out, "   form: npods=%d svcname=%s app=%s nodes=%q dism=%s didb=%s myrootpwd=(random, not shown)\n",
		s.opts.Pods, svcname, app, strings.Join(s.nodes(), " "), smImage, dbImage)
	fmt.Fprintf(s.out, "   layout: %s\n", strings.Join(counts, " "))
	sr.Summary = fmt.Sprintf("%d sections, %d bytes", sections, len(cfg))
	if s.collector() {
		sr.Summary += ", in the collector"
		return nil
	}
	s.pending = cfg
	return nil
}

// submitForm posts the seed's form to the collector as a browser does
// and returns the config the collector then holds.
func (s *scenario) submitForm(ctx context.Context, sm string) ([]byte, error) {
	in := s.inputs(sm)
	rc, size, err := s.coll.submitForm(ctx, formAnswers(in))
	if err != nil {
		return nil, err
	}
	cfg, err := s.coll.admin.Services().Get(ctx, svcname)
	if err != nil {
		return nil, err
	}
	if err := s.coll.checkLatest(ctx, svcname, rc.Revision, cfg.Checksum); err != nil {
		return nil, err
	}
	fmt.Fprintf(s.out, "   $ POST %s%s (form-encoded, as a browser, logged in as admin): %d bytes generated, stored as revision %s of %s%s (sha256 %.12s)\n",
		s.coll.url, formPath, size, rc.Revision, s.coll.url, rc.Location, cfg.Checksum)
	return cfg.Data, nil
}

// configFor renders the config through the seed's form: the answers go
// through Submit, which applies the form's and the spd checks.
func (s *scenario) configFor(sm string) ([]byte, error) {
	in := s.inputs(sm)
	answers := map[string]any{
		spd.InputNPods:   in.NPods,
		spd.InputSvcname: in.Svcname,
		spd.InputApp:     in.App,
		spd.InputNodes:   strings.Join(in.Nodes, " "),
		spd.InputSMImage: in.SMImage,
		spd.InputDBImage: in.DBImage,
		spd.InputRootPwd: in.RootPassword.Reveal(),
	}
	got, err := spd.Submit(answers)
	if err != nil {
		return nil, err
	}
	return spd.Generate(got)
}

// storeAndPull pushes the config from the flex primary and pulls it on
// every node.
func (s *scenario) storeAndPull(ctx context.Context, sr *StepReport) error {
	self := s.agents[nodeName(1)]
	var rev string
	if s.collector() {
		var err error
		if rev, err = s.registerNodes(ctx); err != nil {
			return err
		}
	} else {
		ch, err := self.PushData(ctx, svcname, s.pending, cluster.PushOptions{})
		if err != nil {
			return err
		}
		rev = ch.Revision
		fmt.Fprintf(s.out, "   push to %s: revision %.12s\n", s.store, ch.Revision)
	}
	fmt.Fprintf(s.out, "   $ svcmgr -s %s pull; svcmgr -s %s --cluster pull\n", svcname, svcname)
	// The primary pulls first: the cluster pull reads the node list
	// from its config.
	if _, err := self.Pull(ctx, svcname, cluster.InstallOptions{}); err != nil {
		return err
	}
	res, err := s.primary().Pull(ctx, svcname, cluster.InstallOptions{})
	s.printConfigResult(res)
	if err != nil {
		return err
	}
	sr.Summary = fmt.Sprintf("stored revision %.12s, pulled on %d nodes", rev, len(res.Nodes))
	if s.collector() {
		sr.Summary = fmt.Sprintf("%d nodes registered, revision %.12s pulled from the collector on %d nodes", len(s.coll.nodes), rev, len(res.Nodes))
	}
	return nil
}

func (s *scenario) printConfigResult(res *cluster.Result) {
	if res == nil {
		return
	}
	for _, n := range slices.Sorted(maps.Keys(res.Nodes)) {
		nr := res.Nodes[n]
		switch {
		case nr.Error != "":
			fmt.Fprintf(s.out, "   %s: error: %s\n", n, nr.Error)
		case nr.Config != nil:
			fmt.Fprintf(s.out, "   %s: config %.12s changed=%v\n", n, nr.Config.Checksum, nr.Config.Changed)
		}
	}
}

// nodeCompliance runs spdc.node on every node's root, in parallel.
func (s *scenario) nodeCompliance(ctx context.Context, sr *StepReport) error {
	nodes := s.nodes()
	exports, err := s.nodeRules(ctx, nodes)
	if err != nil {
		return err
	}
	results := make([]*nodeCompliance, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			results[i], errs[i] = runNodeCompliance(ctx, exports[i], s.agents[n].Root, n, s.paths[n], fmt.Sprintf("10.0.0.%d", i+1))
		})
	}
	wg.Wait()
	ok := 0
	for i, r := range results {
		if r == nil {
			continue
		}
		s.rep.Compliance = append(s.rep.Compliance, r)
		fmt.Fprintf(s.out, "   %s: check %d ok %d nok (%s) | fix %d ok %d nok | check %d ok %d nok\n", nodes[i],
			r.Before.OK, r.Before.NOK+r.Before.Failed, strings.Join(r.Before.NotOK, " "), r.Fix.OK, r.Fix.NOK+r.Fix.Failed, r.After.OK, r.After.NOK+r.After.Failed)
		for _, sk := range r.Skipped {
			fmt.Fprintf(s.out, "   %s: skipped %s\n", nodes[i], sk)
		}
		if errs[i] == nil {
			ok++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	sr.Summary = fmt.Sprintf("spdc.node conform on %d/%d nodes", ok, len(nodes))
	return nil
}

// doCluster runs a cluster action from the flex primary and prints one
// line per node.
func (s *scenario) doCluster(ctx context.Context, action svc.Action, sel svc.Selection) (string, error) {
	res, err := s.primary().Do(ctx, svcname, action, svc.ActionOptions{Selection: sel})
	total := map[string]int{}
	if res != nil {
		for _, n := range slices.Sorted(maps.Keys(res.Nodes)) {
			nr := res.Nodes[n]
			counts := map[string]int{}
			var reasons []string
			var dur time.Duration
			if nr.Result != nil {
				for _, st := range nr.Result.Steps {
					counts[st.Result]++
					total[st.Result]++
					if st.Reason != "" && !slices.Contains(reasons, st.Reason) {
						reasons = append(reasons, st.Reason)
					}
				}
				dur = nr.Result.Duration
			}
			line := fmt.Sprintf("   %s: %s %d events:", n, action, len(nr.Result.Steps))
			for _, k := range slices.Sorted(maps.Keys(counts)) {
				line += fmt.Sprintf(" %s %d", k, counts[k])
			}
			if len(reasons) > 0 {
				line += " (" + strings.Join(reasons, "; ") + ")"
			}
			if nr.Error != "" {
				line += " error: " + nr.Error
			}
			fmt.Fprintf(s.out, "%s (%s)\n", line, round(dur))
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(total)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, total[k]))
	}
	return fmt.Sprintf("%s: %s", action, strings.Join(parts, ", ")), err
}

func (s *scenario) provisionStart(ctx context.Context, sr *StepReport) error {
	fmt.Fprintf(s.out, "   $ svcmgr -s %s provision --cluster; svcmgr -s %s start --cluster\n", svcname, svcname)
	sum1, err := s.doCluster(ctx, svc.Provision, svc.Selection{})
	if err != nil {
		return err
	}
	sum2, err := s.doCluster(ctx, svc.Start, svc.Selection{})
	if err != nil {
		return err
	}
	pods, err := s.podsUp(ctx)
	sr.Pods = pods
	if err != nil {
		return err
	}
	if n := countPods(pods); n != s.opts.Pods {
		return fmt.Errorf("%d pods up, expected %d", n, s.opts.Pods)
	}
	if s.opts.Real {
		return s.checkRealProvision(sr, sum1, sum2, pods)
	}
	disks := 0
	for _, d := range s.cloud.srv.Disks() {
		if strings.HasPrefix(d.GetName(), svcname+"-") {
			disks++
		}
	}
	sr.Summary = fmt.Sprintf("%s; %s; %d pods up, %d GCE disks", sum1, sum2, countPods(pods), disks)
	fmt.Fprintf(s.out, "   GCE: %d disks of %s in the fake project (routes: ip.gce is a fake without -real)\n", disks, svcname)
	return nil
}

func (s *scenario) printStatus(ctx context.Context, sr *StepReport) error {
	st, err := s.agents[nodeName(1)].Status(ctx, svcname)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   $ svcmgr -s %s print status   (on %s)\n", svcname, nodeName(1))
	fmt.Fprint(s.out, indent(st.Render(svc.StatusOptions{}), "   "))
	sr.Summary = fmt.Sprintf("%s overall %s, %d resources shown", nodeName(1), st.Overall, len(st.Resources))
	if st.Overall != resource.Up {
		return fmt.Errorf("%s overall %s, expected up", nodeName(1), st.Overall)
	}
	if s.opts.Real {
		return s.checkSync(ctx, sr)
	}
	return nil
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(pre + l)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// replaceImage is the seed's global image change of the Spider
// containers: stop them, remove them (docker rm), install the config
// with the new image everywhere, start them.
func (s *scenario) replaceImage(ctx context.Context, sr *StepReport) error {
	fmt.Fprintf(s.out, "   $ svcmgr -s %s stopcontainer --tags sm --cluster\n", svcname)
	if _, err := s.doCluster(ctx, svc.StopContainer, svc.Selection{Tags: "sm"}); err != nil {
		return err
	}
	// docker rm %instances%: the container ids of each node's sm
	// containers, as its status labels show them.
	st, err := s.primary().Status(ctx, svcname)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   $ svcmgr -s %s --cluster docker rm %%instances%%   (on the fakes: unprovision --rid 'container#*sm' --cluster)\n", svcname)
	removed := 0
	for _, n := range s.nodes() {
		var ids []string
		for _, r := range st.Nodes[n].Resources {
			if ok, _ := path.Match("container#*sm", r.RID); ok && !r.Disabled {
				id, _, _ := strings.Cut(r.Label, "@")
				ids = append(ids, id)
			}
		}
		removed += len(ids)
		fmt.Fprintf(s.out, "   %s: docker rm %s\n", n, strings.Join(ids, " "))
	}
	if _, err := s.doCluster(ctx, svc.Unprovision, svc.Selection{RIDs: []string{"container#*sm"}}); err != nil {
		return err
	}
	if s.collector() {
		if _, err := s.submitForm(ctx, smImage2); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "   form with dism=%s submitted to the collector\n   $ svcmgr -s %s --cluster pull\n", smImage2, svcname)
	} else {
		cfg, err := s.configFor(smImage2)
		if err != nil {
			return err
		}
		ch, err := s.agents[nodeName(1)].PushData(ctx, svcname, cfg, cluster.PushOptions{})
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "   form with dism=%s: new config pushed, revision %.12s\n   $ svcmgr -s %s --cluster pull\n", smImage2, ch.Revision, svcname)
	}
	res, err := s.primary().Pull(ctx, svcname, cluster.InstallOptions{})
	s.printConfigResult(res)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   $ svcmgr -s %s startcontainer --tags sm --cluster\n", svcname)
	if _, err := s.doCluster(ctx, svc.StartContainer, svc.Selection{Tags: "sm"}); err != nil {
		return err
	}
	st, err = s.primary().Status(ctx, svcname)
	if err != nil {
		return err
	}
	images := 0
	for _, n := range s.nodes() {
		for _, r := range st.Nodes[n].Resources {
			if ok, _ := path.Match("container#*sm", r.RID); ok && !r.Disabled && r.Status == resource.Up && strings.HasSuffix(r.Label, "@"+s.image(smImage2)) {
				images++
			}
		}
	}
	pods, err := s.podsUp(ctx)
	sr.Pods = pods
	if err != nil {
		return err
	}
	if images != s.opts.Pods {
		return fmt.Errorf("%d spider containers up on %s, expected %d", images, s.image(smImage2), s.opts.Pods)
	}
	sr.Summary = fmt.Sprintf("%d spider containers removed, %d up on %s", removed, images, s.image(smImage2))
	if s.opts.Real {
		n, err := s.checkStandInFiles(smImage2)
		if err != nil {
			return err
		}
		sr.Summary += fmt.Sprintf(", %d of them wrote on their pod's disk", n)
	}
	return nil
}

// image is the image the containers run for a seed image: itself, or its
// local stand-in with -real.
func (s *scenario) image(ref string) string {
	if s.host != nil {
		return s.host.images[ref]
	}
	return ref
}

// layout reads the pods' placement from spd01's config.
func (s *scenario) layout() (spd.Layout, error) {
	data, err := s.agents[nodeName(1)].ReadConfig(svcname)
	if err != nil {
		return spd.Layout{}, err
	}
	return spd.ParseLayout(data)
}

// migratePod is the pod the scenario moves from spd02 to spd03: the seed's
// pod16 when spd02 has it (32 pods on 4 nodes), else spd02's last pod.
func (s *scenario) migratePod() (int, error) {
	l, err := s.layout()
	if err != nil {
		return 0, err
	}
	pods := l.PodsOn(movedFrom)
	if len(pods) == 0 {
		return 0, fmt.Errorf("%s runs no pod to migrate", movedFrom)
	}
	for _, p := range pods {
		if p.Num == movedPod {
			return movedPod, nil
		}
	}
	return pods[len(pods)-1].Num, nil
}

func (s *scenario) migrate(ctx context.Context, sr *StepReport) error {
	pod, err := s.migratePod()
	if err != nil {
		return err
	}
	tag := fmt.Sprintf("pod%02d", pod)
	fmt.Fprintf(s.out, "   $ svcmgr -s %s migrate --pod %d --to %s (the seed's stop --tags %s, new config, --cluster pull, start --tags %s)\n", svcname, pod, movedTo, tag, tag)
	rep, err := s.primary().Migrate(ctx, svcname, pod, movedTo, cluster.MigrateOptions{})
	if rep != nil {
		for _, l := range rep.Steps {
			fmt.Fprintf(s.out, "   %s\n", l)
		}
	}
	pods, perr := s.podsUp(ctx)
	sr.Pods = pods
	if err != nil {
		var me *cluster.MigrationError
		if errors.As(err, &me) {
			where := "nowhere"
			for n, ps := range pods {
				if slices.Contains(ps, tag) {
					where = n
				}
			}
			fmt.Fprintf(s.out, "   migration failed; restored to the previous placement: %v; %s up on %s\n", me.Restored, tag, where)
		}
		return err
	}
	if perr != nil {
		return perr
	}
	if !slices.Contains(pods[movedTo], tag) {
		return fmt.Errorf("%s is not up on %s after the migration", tag, movedTo)
	}
	if slices.Contains(pods[movedFrom], tag) {
		return fmt.Errorf("%s is still up on %s after the migration", tag, movedFrom)
	}
	if s.opts.Real {
		if err := s.checkPodNetwork(pod, movedTo, movedFrom); err != nil {
			return err
		}
	}
	sr.Summary = fmt.Sprintf("%s now up on %s (%d pods there), down on %s", tag, movedTo, len(pods[movedTo]), movedFrom)
	if msg, err := s.fixAfterMigration(ctx, pod); err != nil {
		return err
	} else if msg != "" {
		sr.Summary += "; " + msg
	}
	return nil
}

func (s *scenario) relayout(ctx context.Context, sr *StepReport) error {
	nodes := append(s.nodes(), nodeName(s.opts.Nodes+1))
	fmt.Fprintf(s.out, "   $ svcmgr -s %s relayout --nodes %q --parallel 3\n", svcname, strings.Join(nodes, " "))
	rep, err := s.primary().Relayout(ctx, svcname, nodes, cluster.MigrateOptions{Parallel: 3})
	if rep != nil {
		for _, mv := range rep.Done {
			fmt.Fprintf(s.out, "   moved %s\n", mv)
		}
	}
	if err != nil {
		return err
	}
	s.rep.Nodes = nodes
	pods, err := s.podsUp(ctx)
	sr.Pods = pods
	if err != nil {
		return err
	}
	var counts []string
	for _, n := range nodes {
		counts = append(counts, fmt.Sprintf("%s:%d", n, len(pods[n])))
	}
	fmt.Fprintf(s.out, "   pods up per node: %s\n", strings.Join(counts, " "))
	if n := countPods(pods); n != s.opts.Pods {
		return fmt.Errorf("%d pods up after the relayout, expected %d", n, s.opts.Pods)
	}
	sr.Summary = fmt.Sprintf("%d pods moved in %d moves; %s", len(rep.Done), len(rep.Moves), strings.Join(counts, " "))
	return nil
}

func (s *scenario) stop(ctx context.Context, sr *StepReport) error {
	fmt.Fprintf(s.out, "   $ svcmgr -s %s stop --cluster\n", svcname)
	sum, err := s.doCluster(ctx, svc.Stop, svc.Selection{})
	if err != nil {
		return err
	}
	st, err := s.primary().Status(ctx, svcname)
	s.rep.Status = st
	if err != nil {
		return err
	}
	pods, err := s.podsUp(ctx)
	sr.Pods = pods
	if err != nil {
		return err
	}
	var overall []string
	for _, n := range slices.Sorted(maps.Keys(st.Nodes)) {
		overall = append(overall, fmt.Sprintf("%s:%s", n, st.Nodes[n].Overall))
	}
	fmt.Fprintf(s.out, "   overall: %s\n", strings.Join(overall, " "))
	// stdby up: the always_on disks; down everywhere else. A warn means a
	// resource reported a problem.
	for _, n := range slices.Sorted(maps.Keys(st.Nodes)) {
		if o := st.Nodes[n].Overall; o != resource.StandbyUp && o != resource.Down {
			return fmt.Errorf("%s: overall %s after the stop, expected stdby up (the always_on disks) or down", n, o)
		}
	}
	if n := countPods(pods); n != 0 {
		return fmt.Errorf("%d pods still up", n)
	}
	// Everything is down but the standby (always_on) disks, which a stop
	// leaves attached so that the next start finds them.
	standby := 0
	var up []string
	for _, n := range slices.Sorted(maps.Keys(st.Nodes)) {
		for _, r := range st.Nodes[n].Resources {
			switch {
			case r.Disabled || r.Status == resource.Down || r.Status == resource.StandbyDown:
			case resource.Group(r.RID) == "sync":
				// A stop leaves the config replication up, as the reference does.
			case r.Standby:
				standby++
			default:
				up = append(up, n+":"+r.RID+"="+r.Status.String())
			}
		}
	}
	if len(up) > 0 {
		return fmt.Errorf("not down after the stop: %s", strings.Join(up, " "))
	}
	if standby > 0 {
		fmt.Fprintf(s.out, "   %d always_on disks stay attached (stdby up), ready for the next start\n", standby)
	}
	sr.Summary = fmt.Sprintf("%s; every resource down but %d standby disks (always_on)", sum, standby)
	return nil
}

// podsUp reads the cluster status and returns, per node, the pods whose
// containers are all up.
func (s *scenario) podsUp(ctx context.Context) (map[string][]string, error) {
	st, err := s.primary().Status(ctx, svcname)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for n, ns := range st.Nodes {
		up := map[string]int{}
		for _, r := range ns.Resources {
			if r.Disabled || !strings.HasPrefix(r.RID, "container#") {
				continue
			}
			pod := podTag(r.Tags)
			if pod == "" {
				continue
			}
			if r.Status == resource.Up {
				up[pod]++
			} else {
				up[pod] -= 100
			}
		}
		for pod, c := range up {
			if c == 2 {
				out[n] = append(out[n], pod)
			}
		}
		sort.Strings(out[n])
	}
	return out, nil
}

func podTag(tags []string) string {
	for _, t := range tags {
		if strings.HasPrefix(t, "pod") {
			return t
		}
	}
	return ""
}

func countPods(m map[string][]string) int {
	n := 0
	for _, p := range m {
		n += len(p)
	}
	return n
}

// checkPodNetwork verifies, with the real ip.gce, that the pod's GCE
// routes lead to node to and that its addresses are on to's br0, not on
// from's.
func (s *scenario) checkPodNetwork(pod int, to, from string) error {
	l, err := s.layout()
	if err != nil {
		return err
	}
	p, _ := l.Pod(pod)
	for _, name := range p.RouteNames() {
		rt, ok := s.cloud.srv.Route(name)
		if !ok {
			return fmt.Errorf("GCE route %s missing", name)
		}
		fmt.Fprintf(s.out, "   GCE route %s %s -> %s\n", name, rt.GetDestRange(), path.Base(rt.GetNextHopInstance()))
		if path.Base(rt.GetNextHopInstance()) != to {
			return fmt.Errorf("GCE route %s leads to %s, expected %s", name, rt.GetNextHopInstance(), to)
		}
	}
	for _, n := range []string{to, from} {
		addrs, err := s.netns[n].Addrs()
		if err != nil {
			return err
		}
		has := slices.Contains(addrs, p.SMIP.String()+"/32")
		fmt.Fprintf(s.out, "   %s br0 has %s: %v\n", n, p.SMIP, has)
		if has != (n == to) {
			return fmt.Errorf("%s: br0 addresses %v", n, addrs)
		}
	}
	return nil
}
