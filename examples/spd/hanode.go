package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/svckit/svckit/driver/disk"
	diskgce "github.com/svckit/svckit/driver/disk/gce"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster/ha"
	"github.com/svckit/svckit/svc/cluster/spdplanner"
)

// haNodeCommand is the hidden subcommand that runs one node daemon of
// -ha: spd __ha-node -node spd01 ... (a stand-in for nodemgr daemon run
// until the node daemon embeds the agent).
const haNodeCommand = "__ha-node"

// runHANode runs the HA agent of one node of -ha until SIGTERM: fake host
// drivers (their state in this process: a killed node loses it, as a
// dead host does), the real disk.gce against the parent's fake compute
// API as this node, and a ledger that reports to the parent every pod
// this node starts or stops (the invariant checker's view).
func runHANode(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(haNodeCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	node := fs.String("node", "", "node name")
	config := fs.String("config", "", "service config file")
	etcd := fs.String("etcd", "", "etcd endpoints, comma-separated")
	gceURL := fs.String("gce", "", "compute API endpoint")
	metadata := fs.String("metadata", "", "metadata server host:port of this node's instance")
	root := fs.String("root", "", "node root directory")
	ledger := fs.String("ledger", "", "URL of the parent's ledger")
	ttl := fs.Duration("ttl", ha.DefaultLeaseTTL, "lease ttl")
	minNodes := fs.Int("min-nodes", 2, "flex_min_nodes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := haNode(ctx, *node, *config, *etcd, *gceURL, *metadata, *root, *ledger, *ttl, *minNodes); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", *node, err)
		return 1
	}
	return 0
}

func haNode(ctx context.Context, node, configPath, etcd, gceURL, metadata, root, ledgerURL string, ttl time.Duration, minNodes int) error {
	cfg, err := os.ReadFile(configPath)
	if err != nil {
		return err
	}
	reg := fake.Registry(fake.Options{Memory: true})
	reg.Replace(disk.GCE, diskgce.NewFactory(diskgce.WithGCE(
		gce.WithEndpoint(gceURL), gce.WithMetadataHost(metadata), gce.WithPollInterval(0, 0))))
	gcetest.UseDevDir(reg, devDir(root))
	load := func(ctx context.Context, config []byte) (*svc.Service, error) {
		return svc.Parse(ctx, configPath, config, svc.Options{Node: node, Registry: reg, VarDir: filepath.Join(root, "var"), NoTriggers: true})
	}
	// The node-level part of the service first (its disk, fs#00, its
	// dockerd): the pods need it.
	base, err := load(ctx, cfg)
	if err != nil {
		return err
	}
	var rids []string
	for _, r := range base.Status(ctx).Resources {
		if !r.Disabled && !slices.ContainsFunc(r.Tags, func(t string) bool { return strings.HasPrefix(t, "pod") }) {
			rids = append(rids, r.RID)
		}
	}
	if _, err := base.Provision(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: rids}}); err != nil {
		return err
	}
	cli, err := ha.NewClient(ha.ClientOptions{Endpoints: strings.Split(etcd, ","), LeaseTTL: ttl})
	if err != nil {
		return err
	}
	defer cli.Close()
	l := &ledgerClient{url: ledgerURL, node: node}
	var agent *ha.Agent
	// The service's keywords (ha_lease_ttl, flex_min_nodes, ...), the
	// scenario's flags over them.
	hc, err := ha.ConfigOf(base, layoutOf(cfg))
	if err != nil {
		return err
	}
	hc.LeaseTTL, hc.Grace, hc.FenceMargin, hc.MinNodes, hc.Parallel = ttl, 0, 0, minNodes, 8
	hc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	hc.OnEvent = func(ev ha.Event) {
		if ev.Kind == "fence" && strings.HasPrefix(ev.Msg, "self-fence") && !strings.HasPrefix(ev.Msg, "self-fencing") {
			fences := agent.Fences()
			if len(fences) > 0 {
				go l.fence(fences[len(fences)-1])
			}
		}
	}
	agent, err = ha.NewAgent(hc, cli, &ledgerPods{inner: ha.NewServicePods(node, cfg, spdplanner.Planner{}, load), l: l})
	if err != nil {
		return err
	}
	return agent.Run(ctx)
}

// ledgerClient reports to the parent's ledger.
type ledgerClient struct {
	url, node string
}

func (l *ledgerClient) post(path string, v url.Values) error {
	v.Set("node", l.node)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.url+path, strings.NewReader(v.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("ledger %s: %s", path, resp.Status)
	}
	return nil
}

func (l *ledgerClient) pod(ev, pod string) error {
	return l.post("/pod", url.Values{"ev": {ev}, "pod": {pod}, "t": {fmt.Sprint(time.Now().UnixNano())}})
}

func (l *ledgerClient) fence(f ha.FenceReport) {
	_ = l.post("/fence", url.Values{"stopped": {fmt.Sprint(f.Stopped.UnixNano())}, "expiry": {fmt.Sprint(f.LeaseExpiry.UnixNano())},
		"pods": {fmt.Sprint(f.Pods)}})
}

// ledgerPods tells the parent before a pod starts (a start it cannot
// record does not happen) and after it stopped.
type ledgerPods struct {
	inner ha.Pods
	l     *ledgerClient
}

func (p *ledgerPods) Start(ctx context.Context, pod string) error {
	if err := p.l.pod("start", pod); err != nil {
		return fmt.Errorf("not started: %w", err)
	}
	if err := p.inner.Start(ctx, pod); err != nil {
		return err
	}
	// "up" only times the move: the pod is up whether it arrives or not.
	_ = p.l.pod("up", pod)
	return nil
}

func (p *ledgerPods) Stop(ctx context.Context, pod string) error {
	if err := p.inner.Stop(ctx, pod); err != nil {
		return err
	}
	_ = p.l.pod("stop", pod)
	return nil
}

func (p *ledgerPods) Running(ctx context.Context) ([]string, error) { return p.inner.Running(ctx) }
