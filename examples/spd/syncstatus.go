package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/svckit/svckit/driver"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/driver/sync/rsync"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
)

// useRealSync registers the real sync.rsync in reg for agent a: the status
// of sync#i0 compares a's config with the other nodes' through peers.
func useRealSync(reg *driver.Registry, a *cluster.Agent, peers *cluster.Local, kinds driverKinds) {
	reg.Replace(syncdrv.Rsync, rsync.NewFactory(rsync.WithPeers(cluster.PeerChecksums{Self: a, Transport: peers})))
	kinds[syncdrv.Rsync.ID] = "real (config checksums of the nodes over the local transport)"
}

// syncOf returns the sync#i0 row of node's status.
func (s *scenario) syncOf(ctx context.Context, node string) (svc.ResourceStatus, error) {
	st, err := s.agents[node].Status(ctx, svcname)
	if err != nil {
		return svc.ResourceStatus{}, err
	}
	for _, r := range st.Resources {
		if r.RID == "sync#i0" {
			return r, nil
		}
	}
	return svc.ResourceStatus{}, fmt.Errorf("%s: no sync#i0 in the status", node)
}

// checkSync shows the real sync#i0 at work: up while the nodes run the
// same config, warn naming the node whose config is changed by hand, and
// up again once sync nodes put the primary's config back there.
func (s *scenario) checkSync(ctx context.Context, sr *StepReport) error {
	self, edited := nodeName(1), nodeName(s.opts.Nodes)
	r, err := s.syncOf(ctx, self)
	if err != nil {
		return err
	}
	if r.Status != resource.Up {
		return fmt.Errorf("%s: sync#i0 %s %v, expected up: the %d nodes run the same config", self, r.Status, r.Log, s.opts.Nodes)
	}
	path := s.agents[edited].ConfigPath(svcname)
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(append([]byte{}, data...), "\n# edited by hand on "+edited+"\n"...), 0o600); err != nil {
		return err
	}
	r, err = s.syncOf(ctx, self)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   config of %s edited by hand: %s sync#i0 %s: %s\n", edited, self, r.Status, strings.Join(r.Log, "; "))
	if r.Status != resource.Warn || len(r.Log) == 0 || !strings.Contains(r.Log[0], "on "+edited+": svcmgr sync nodes") {
		return fmt.Errorf("%s: sync#i0 %s %v after %s's config was edited, expected warn naming %s", self, r.Status, r.Log, edited, edited)
	}
	fmt.Fprintf(s.out, "   $ svcmgr -s %s sync nodes\n", svcname)
	if _, err := s.primary().SyncNodes(ctx, svcname, cluster.InstallOptions{}); err != nil {
		return err
	}
	r, err = s.syncOf(ctx, self)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   %s sync#i0 %s  %s\n", self, r.Status, r.Label)
	if r.Status != resource.Up || !strings.Contains(r.Label, "(last sync ") {
		return fmt.Errorf("%s: sync#i0 %s %q %v after sync nodes, expected up with the time of the sync", self, r.Status, r.Label, r.Log)
	}
	sr.Summary += "; sync#i0 up, warn after a config edited by hand on " + edited + ", up after sync nodes"
	return nil
}
