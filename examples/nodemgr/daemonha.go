package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/internal/atomicfile"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster/ha"
	"github.com/svckit/svckit/svc/cluster/spdplanner"
	"github.com/svckit/svckit/svc/monitor"
	"github.com/svckit/svckit/svc/store"
)

// EventHA is the kind of the HA agents' events on the daemon's stream.
const EventHA = "ha"

// runWithHA runs the daemon with the flex HA agent of every flex service
// of <root>/etc whose config is an spd layout (the planner that moves
// its pods): the agent's events go on the daemon's stream, the config
// that places a pod here is installed as <root>/etc/<svc>.conf before the
// pod starts (the daemon's monitor reads it). The services are those
// present when the daemon starts.
func (g *globals) runWithHA(ctx context.Context, d *monitor.Daemon, f *daemonFlags, stderr io.Writer) error {
	reg, err := daemonRegistry(f)
	if err != nil {
		return err
	}
	dir := filepath.Join(g.root, "etc")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("ha: %w", err)
	}
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	eps := strings.Split(f.haEtcd, ",")
	ttl := f.haTTL
	if v := os.Getenv("SVCKIT_HA_LEASE_TTL"); ttl == 0 && v != "" {
		if ttl, err = time.ParseDuration(v); err != nil || ttl < time.Second {
			return usagef("SVCKIT_HA_LEASE_TTL=%q: expected a duration of 1s or more", v)
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, ent := range ents {
		name, ok := strings.CutSuffix(ent.Name(), ".conf")
		if !ok || !ent.Type().IsRegular() || slices.Contains([]string{"node", "nodes", "svckit"}, name) || store.ValidServiceName(name) != nil {
			continue
		}
		path := filepath.Join(dir, ent.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("ha: %w", err)
		}
		opts := svc.Options{Node: g.node, Svcname: name, Registry: reg, Root: g.root, NoTriggers: f.fake}
		s, err := svc.Parse(ctx, path, data, opts)
		if err != nil {
			logger.Warn("ha: no high availability for a service that does not load", "service", name, "error", err)
			continue
		}
		if s.Topology() != "flex" {
			continue // a failover service has no pods to move
		}
		l, err := spd.ParseLayout(data)
		if err != nil {
			d.Emit(EventHA, name, "", fmt.Sprintf("no high availability: the config is not an spd layout the planner can move pods of: %v", err))
			continue
		}
		layout := map[string]string{}
		for _, p := range l.Pods {
			layout[p.Tag()] = p.Node
		}
		hc, err := ha.ConfigOf(s, layout)
		if err != nil {
			return fmt.Errorf("ha: %s: %w", name, err)
		}
		if ttl > 0 {
			// The flag wins; grace and margin follow it.
			hc.LeaseTTL, hc.Grace, hc.FenceMargin = ttl, 0, 0
		}
		hc.Logger = logger
		hc.OnEvent = func(ev ha.Event) { d.Emit(EventHA, name, ev.Pod, ev.Msg) }
		cli, err := ha.NewClient(ha.ClientOptions{Endpoints: eps, LeaseTTL: hc.LeaseTTL})
		if err != nil {
			return fmt.Errorf("ha: %s: %w", name, err)
		}
		pods := ha.NewServicePods(g.node, data, spdplanner.Planner{}, func(ctx context.Context, config []byte) (*svc.Service, error) {
			return svc.Parse(ctx, path, config, opts)
		})
		pods.SetInstall(func(ctx context.Context, config []byte) error { return atomicfile.Write(path, config, 0o600) })
		a, err := ha.NewAgent(hc, cli, pods)
		if err != nil {
			cli.Close()
			return fmt.Errorf("ha: %s: %w", name, err)
		}
		wg.Go(func() {
			defer cli.Close()
			if err := a.Run(actx); err != nil && actx.Err() == nil {
				d.Emit(EventHA, name, "", fmt.Sprintf("the HA agent stopped: %v", err))
			}
		})
	}
	err = d.Run(ctx)
	cancel()
	return err
}
