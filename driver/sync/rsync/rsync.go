// Package rsync is the sync.rsync driver on real nodes: the status of the
// implicit sync#i0 ("rsync svc config to drpnodes, nodes") says whether
// the service's config on the other nodes equals this node's.
//
// Import it for its side effect of registering "sync.rsync" without
// peers, or register a factory that reaches them:
//
//	import _ "github.com/svckit/svckit/driver/sync/rsync"
//
//	reg.Replace(syncdrv.Rsync, rsync.NewFactory(rsync.WithPeers(cluster.PeerChecksums{Self: a, Transport: t})))
//
// Status compares checksums only (syncdrv.ConfigPeers): it never asks a peer
// for its status, whose sync would ask back. It is n/a on a service with no
// other node, up when every target node runs the same config, and warn
// naming the nodes whose config differs or that could not be asked within
// the timeout (WithTimeout). The copy itself is svcmgr sync nodes
// (svc/cluster's Cluster.SyncNodes), which records its time and outcome in
// the service's var directory: the label shows the time, a warn its
// failures.
//
// Start and Stop do nothing and never contact a peer: a sync never blocks
// a start, and a stop leaves it up, as the reference does. A sync.rsync
// section with src (files to copy) is not run by this driver: its status
// says so.
package rsync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/driver"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(syncdrv.Rsync, NewFactory()) }

// DefaultTimeout bounds how long a status waits for the peers.
const DefaultTimeout = 10 * time.Second

// answerGrace is how long a status waits, after its deadline, for the
// partial answer of a ConfigPeers.
const answerGrace = 500 * time.Millisecond

type options struct {
	peers   syncdrv.ConfigPeers
	timeout time.Duration
}

// Option configures NewFactory.
type Option func(*options)

// WithPeers sets how the peers' config checksums are read. Without it,
// a service with other nodes is warn: nothing can compare the configs.
func WithPeers(p syncdrv.ConfigPeers) Option { return func(o *options) { o.peers = p } }

// WithTimeout bounds how long a status waits for the peers (default
// DefaultTimeout); a peer that has not answered by then is named as
// unreachable.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// NewFactory returns the sync.rsync factory.
func NewFactory(opts ...Option) driver.Factory {
	o := options{timeout: DefaultTimeout}
	for _, f := range opts {
		f(&o)
	}
	return func(_ context.Context, cfg driver.Config) (resource.Resource, error) {
		s, err := syncdrv.ParseRsyncSpec(cfg)
		if err != nil {
			return nil, err
		}
		return &Rsync{Base: cfg.Base(), RsyncSpec: *s, svcname: cfg.Svcname, varDir: cfg.VarDir,
			targets: syncdrv.TargetNodes(s.Targets, cfg.Nodes, cfg.DRPNodes, cfg.Nodename), opts: o}, nil
	}
}

// Rsync is a sync.rsync resource.
type Rsync struct {
	resource.Base
	syncdrv.RsyncSpec
	svcname string
	varDir  string
	// targets are the other nodes the config goes to.
	targets []string
	opts    options

	mu sync.Mutex
	// last is the time of the last sync nodes the last status read, for
	// Label.
	last string
}

// TargetNodes returns the other nodes the config is compared with.
func (r *Rsync) TargetNodes() []string { return append([]string(nil), r.targets...) }

// Label is the spec's, with the time of the last sync nodes once one ran.
func (r *Rsync) Label() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == "" {
		return r.RsyncSpec.Label()
	}
	return r.RsyncSpec.Label() + " (last sync " + r.last + ")"
}

// Start does nothing: the copy is svcmgr sync nodes, and a peer that is
// down must not fail the service's start.
func (r *Rsync) Start(context.Context) error { return nil }

// Stop does nothing: a stop leaves the config replication up.
func (r *Rsync) Stop(context.Context) error { return nil }

// Status compares this node's config with the target nodes'.
func (r *Rsync) Status(ctx context.Context) (resource.Status, error) {
	if len(r.Src) > 0 {
		return resource.Undef, fmt.Errorf("src %s: copying files is not done by this driver, only the service config is compared (sync#i0)", strings.Join(r.Src, " "))
	}
	last, hasLast, lerr := syncdrv.ReadLastSync(r.varDir)
	r.mu.Lock()
	r.last = ""
	if hasLast {
		r.last = last.Time.UTC().Format("2006-01-02 15:04:05Z")
	}
	r.mu.Unlock()
	if len(r.targets) == 0 {
		return resource.NotApplicable, nil
	}
	var problems []string
	if lerr != nil {
		problems = append(problems, lerr.Error())
	}
	if r.opts.peers == nil {
		return resource.Warn, errors.New(join(append(problems, "no cluster transport to compare configs")))
	}
	sums, err := r.ask(ctx)
	if err != nil {
		return resource.Warn, errors.New(join(append(problems, "compare configs: "+err.Error())))
	}
	var differ, unreachable []string
	for _, n := range r.targets {
		if e, ok := sums.Errors[n]; ok && e != nil {
			unreachable = append(unreachable, n+" ("+e.Error()+")")
			continue
		}
		sum, ok := sums.Nodes[n]
		switch {
		case !ok:
			unreachable = append(unreachable, n+" (no answer)")
		case sum != sums.Self:
			differ = append(differ, n)
		}
	}
	if len(differ) > 0 {
		problems = append(problems, fmt.Sprintf("config differs from this node's (sha256 %s) on %s: svcmgr sync nodes", short(sums.Self), strings.Join(differ, ", ")))
	}
	if len(unreachable) > 0 {
		problems = append(problems, "config not compared on "+strings.Join(unreachable, ", "))
	}
	if len(problems) == 0 {
		return resource.Up, nil
	}
	if hasLast && len(last.Failed()) > 0 {
		var f []string
		for _, n := range last.Failed() {
			// The error may already start with the node's name.
			f = append(f, n+": "+strings.TrimPrefix(last.Nodes[n], n+": "))
		}
		problems = append(problems, "last sync nodes failed on "+strings.Join(f, "; "))
	}
	return resource.Warn, errors.New(join(problems))
}

// ask reads the checksums within the timeout, also from a ConfigPeers
// that would not honour ctx: a status never hangs on a peer.
func (r *Rsync) ask(ctx context.Context) (syncdrv.Checksums, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.timeout)
	defer cancel()
	type answer struct {
		sums syncdrv.Checksums
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		s, err := r.opts.peers.ConfigChecksums(ctx, r.svcname, r.TargetNodes())
		ch <- answer{s, err}
	}()
	select {
	case a := <-ch:
		return a.sums, a.err
	case <-ctx.Done():
	}
	// A ConfigPeers that honours ctx returns now, with the peers that
	// answered in time: wait for that, briefly.
	select {
	case a := <-ch:
		return a.sums, a.err
	case <-time.After(answerGrace):
		// Every target is unreachable: none answered in time.
		s := syncdrv.Checksums{Errors: map[string]error{}}
		for _, n := range r.targets {
			s.Errors[n] = fmt.Errorf("no answer within %s: %w", r.opts.timeout, ctx.Err())
		}
		return s, nil
	}
}

func join(l []string) string { return strings.Join(l, "; ") }

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	return sum
}
