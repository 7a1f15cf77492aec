// Package etcdtest runs an etcd cluster inside the calling process
// (go.etcd.io/etcd/server/v3/embed) on loopback, for tests and for the
// simulated cluster of examples/spd: nothing to install. It is apart from
// svc/cluster/ha so that a program importing the HA library never links
// an etcd server.
//
// It also has Proxy, a loopback TCP proxy that a test cuts to partition
// one client from etcd without touching any network but its own sockets.
package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Cluster is n etcd members in this process.
type Cluster struct {
	mu      sync.Mutex
	cfgs    []*embed.Config
	members []*embed.Etcd
}

// Start runs an n-member cluster with its data under dir, and waits until
// every member is ready (or ctx ends).
func Start(ctx context.Context, dir string, n int) (*Cluster, error) {
	if n < 1 || n > 7 {
		return nil, fmt.Errorf("etcdtest: %d members: expected 1 to 7", n)
	}
	c := &Cluster{members: make([]*embed.Etcd, n)}
	var initial []string
	for i := range n {
		peer, err := freeURL()
		if err != nil {
			return nil, err
		}
		client, err := freeURL()
		if err != nil {
			return nil, err
		}
		cfg := embed.NewConfig()
		cfg.Name = fmt.Sprintf("m%d", i+1)
		cfg.Dir = filepath.Join(dir, cfg.Name)
		cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
		cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
		// Its errors at Close (listeners closed under it) say nothing.
		cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
		cfg.InitialClusterToken = "svckit-etcdtest"
		c.cfgs = append(c.cfgs, cfg)
		initial = append(initial, cfg.Name+"="+peer.String())
	}
	for _, cfg := range c.cfgs {
		cfg.InitialCluster = strings.Join(initial, ",")
	}
	// Members of a new cluster wait for each other: start them together.
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = c.start(ctx, i) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, i int) error {
	e, err := embed.StartEtcd(c.cfgs[i])
	if err != nil {
		return fmt.Errorf("etcdtest: member %s: %w", c.cfgs[i].Name, err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-ctx.Done():
		e.Close()
		return fmt.Errorf("etcdtest: member %s not ready: %w", c.cfgs[i].Name, ctx.Err())
	case <-time.After(60 * time.Second):
		e.Close()
		return fmt.Errorf("etcdtest: member %s not ready after 60s", c.cfgs[i].Name)
	}
	c.mu.Lock()
	c.members[i] = e
	c.mu.Unlock()
	return nil
}

// Endpoints are the members' client URLs (http://127.0.0.1:port).
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, cfg := range c.cfgs {
		out = append(out, cfg.AdvertiseClientUrls[0].String())
	}
	return out
}

// Stop stops member i (0-based); its data stays for Restart.
func (c *Cluster) Stop(i int) {
	c.mu.Lock()
	e := c.members[i]
	c.members[i] = nil
	c.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

// Restart starts a stopped member i again on its data and its ports, and
// waits until it is ready (it needs a quorum to be ready: restart enough
// members concurrently).
func (c *Cluster) Restart(ctx context.Context, i int) error {
	c.mu.Lock()
	running := c.members[i] != nil
	c.mu.Unlock()
	if running {
		return nil
	}
	c.cfgs[i].ClusterState = embed.ClusterStateFlagExisting
	return c.start(ctx, i)
}

// Leader returns the index of the member that leads, or -1.
func (c *Cluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, e := range c.members {
		if e != nil && e.Server.Leader() == e.Server.MemberID() {
			return i
		}
	}
	return -1
}

// Close stops every member.
func (c *Cluster) Close() {
	for i := range c.members {
		c.Stop(i)
	}
}

func freeURL() (url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, fmt.Errorf("etcdtest: free port: %w", err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}, nil
}
