package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/internal/atomicfile"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/store"
)

// Agent runs the operations of one node on its own root: the actions of
// a service, its status, and the installation of a new configuration
// (pull from a store, or received from the flex primary). It is what a
// Peer does on the node itself: svcmgr runs an Agent for the commands the
// SSH transport sends, and the local transport calls Agents directly.
type Agent struct {
	// Node is this node's name.
	Node string
	// Root holds etc/<svc>.conf and var/<svc>/.
	Root string
	// Registry builds the resources; default driver.Default().
	Registry *driver.Registry
	// NoTriggers disables the pre_/post_ commands (fake runs).
	NoTriggers bool
	// Store is where pull fetches and push stores configs; nil: pull and
	// push are refused.
	Store store.Store
}

// ConfigPath is <Root>/etc/<svc>.conf.
func (a *Agent) ConfigPath(svcname string) string {
	return filepath.Join(a.Root, "etc", svcname+".conf")
}

// PrevPath is where the config replaced by the last install is kept.
func (a *Agent) PrevPath(svcname string) string { return a.ConfigPath(svcname) + ".prev" }

func (a *Agent) revPath(svcname string) string {
	return filepath.Join(a.Root, "var", svcname, "config.rev")
}

func (a *Agent) options(svcname string) svc.Options {
	return svc.Options{Node: a.Node, Svcname: svcname, Registry: a.Registry, Root: a.Root, NoTriggers: a.NoTriggers}
}

// Load reads and validates the service config for this node.
func (a *Agent) Load(ctx context.Context, svcname string) (*svc.Service, error) {
	if err := store.ValidServiceName(svcname); err != nil {
		return nil, err
	}
	return svc.Load(ctx, a.ConfigPath(svcname), a.options(svcname))
}

// ReadConfig returns the bytes of the installed config.
func (a *Agent) ReadConfig(svcname string) ([]byte, error) {
	if err := store.ValidServiceName(svcname); err != nil {
		return nil, err
	}
	return os.ReadFile(a.ConfigPath(svcname))
}

// Do runs action on the node.
func (a *Agent) Do(ctx context.Context, svcname string, action svc.Action, opts svc.ActionOptions) (*svc.Result, error) {
	s, err := a.Load(ctx, svcname)
	if err != nil {
		return &svc.Result{Service: svcname, Node: a.Node, Action: action, Error: err.Error()}, err
	}
	return s.Do(ctx, action, opts)
}

// NodeStatus is the status of a service on one node, with the checksum of
// the config the node runs.
type NodeStatus struct {
	*svc.StatusReport
	// ConfigChecksum is the sha256 of the node's config file.
	ConfigChecksum string `json:"config_checksum,omitempty"`
}

// Status returns the status of the service on the node, without the
// disabled resources unless the service shows them.
func (a *Agent) Status(ctx context.Context, svcname string) (*NodeStatus, error) {
	s, err := a.Load(ctx, svcname)
	if err != nil {
		return nil, err
	}
	data, err := a.ReadConfig(svcname)
	if err != nil {
		return nil, err
	}
	return &NodeStatus{StatusReport: s.Status(ctx).Visible(svc.StatusOptions{ShowDisabled: s.ShowDisabled()}), ConfigChecksum: store.Checksum(data)}, nil
}

// ConfigChecksum returns the sha256 of the installed config, without
// loading the service.
func (a *Agent) ConfigChecksum(ctx context.Context, svcname string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	data, err := a.ReadConfig(svcname)
	if err != nil {
		return "", fmt.Errorf("%s: %w", a.Node, err)
	}
	return store.Checksum(data), nil
}

// ConfigChange reports a config installation (pull, receive) or a push.
type ConfigChange struct {
	Service string `json:"service"`
	Node    string `json:"node"`
	// Source is where the config came from: a store, "primary spd01",
	// or the store written by a push.
	Source   string `json:"source"`
	Checksum string `json:"checksum"`
	// Previous is the checksum of the config it replaced ("" if none).
	Previous string `json:"previous,omitempty"`
	// PrevFile keeps the replaced config.
	PrevFile string `json:"prev_file,omitempty"`
	Revision string `json:"revision,omitempty"`
	Changed  bool   `json:"changed"`
	DryRun   bool   `json:"dry_run,omitempty"`
}

// revRecord remembers which store revision the local config came from, so
// that a push can be conditional on it.
type revRecord struct {
	Store    string    `json:"store"`
	Revision string    `json:"revision"`
	Checksum string    `json:"checksum"`
	Time     time.Time `json:"time"`
}

func (a *Agent) readRev(svcname string) (revRecord, bool) {
	b, err := os.ReadFile(a.revPath(svcname))
	if err != nil {
		return revRecord{}, false
	}
	var r revRecord
	if json.Unmarshal(b, &r) != nil {
		return revRecord{}, false
	}
	return r, true
}

func (a *Agent) writeRev(svcname string, r revRecord) error {
	if err := os.MkdirAll(filepath.Dir(a.revPath(svcname)), 0o755); err != nil {
		return err
	}
	b, _ := json.Marshal(r)
	return atomicfile.Write(a.revPath(svcname), b, 0o644)
}

// Install validates data as the config of svcname for this node and, when
// valid, replaces the local config atomically, keeping the previous one
// in <svc>.conf.prev. A config that does not validate never lands.
func (a *Agent) Install(ctx context.Context, svcname string, data []byte, source string, opts InstallOptions) (*ConfigChange, error) {
	if err := store.ValidServiceName(svcname); err != nil {
		return nil, err
	}
	path := a.ConfigPath(svcname)
	ch := &ConfigChange{Service: svcname, Node: a.Node, Source: source, Checksum: store.Checksum(data), DryRun: opts.DryRun}
	s, err := svc.Parse(ctx, path, data, a.options(svcname))
	if err == nil {
		err = a.checkInstallable(s)
	}
	if err != nil {
		return ch, fmt.Errorf("%s: config of %s from %s (sha256 %s) refused, the local config is unchanged: %w", a.Node, svcname, source, store.Short(ch.Checksum), err)
	}
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return ch, fmt.Errorf("%s: install %s: %w", a.Node, svcname, err)
	default:
		ch.Previous = store.Checksum(old)
	}
	ch.Changed = ch.Previous != ch.Checksum
	if opts.DryRun || !ch.Changed {
		return ch, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return ch, fmt.Errorf("%s: install %s: %w", a.Node, svcname, err)
	}
	if old != nil {
		if err := atomicfile.Write(a.PrevPath(svcname), old, 0o600); err != nil {
			return ch, fmt.Errorf("%s: install %s: keep the previous config: %w", a.Node, svcname, err)
		}
		ch.PrevFile = a.PrevPath(svcname)
	}
	// Configs hold passwords: owner only.
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return ch, fmt.Errorf("%s: install %s: %w", a.Node, svcname, err)
	}
	return ch, nil
}

// checkInstallable refuses a config that parses but cannot be this
// node's: one whose nodes and drpnodes do not name this node (a config
// without nodes would otherwise default to whatever node loads it). An
// empty one never gets here: svc.Parse reports it as a problem, so an
// empty store file never replaces a working config.
func (a *Agent) checkInstallable(s *svc.Service) error {
	named := append(strings.Fields(s.Keywords()["nodes"]), strings.Fields(s.Keywords()["drpnodes"])...)
	if !slices.Contains(named, a.Node) {
		return fmt.Errorf("its nodes and drpnodes (%s) do not include this node %s: expected a config that names it", strings.Join(named, " "), a.Node)
	}
	return nil
}

// Pull fetches the config of svcname from the store and installs it.
func (a *Agent) Pull(ctx context.Context, svcname string, opts InstallOptions) (*ConfigChange, error) {
	if a.Store == nil {
		return nil, fmt.Errorf("%s: pull %s: no config store configured", a.Node, svcname)
	}
	cfg, err := a.Store.Get(ctx, svcname)
	if err != nil {
		return nil, fmt.Errorf("%s: pull %s: %w", a.Node, svcname, err)
	}
	ch, err := a.Install(ctx, svcname, cfg.Data, a.Store.String(), opts)
	if ch != nil {
		ch.Revision = cfg.Revision
	}
	if err != nil || opts.DryRun {
		return ch, err
	}
	if err := a.writeRev(svcname, revRecord{Store: a.Store.String(), Revision: cfg.Revision, Checksum: cfg.Checksum, Time: time.Now().UTC()}); err != nil {
		return ch, fmt.Errorf("%s: pull %s: record the revision: %w", a.Node, svcname, err)
	}
	return ch, nil
}

// PushOptions are the flags of Push and PushData.
type PushOptions struct {
	// Force stores the config whatever revision the store holds, instead
	// of only over the revision this node last pulled or pushed.
	Force bool
	// DryRun reports the change, and a conflict, without storing.
	DryRun bool
}

// InstallOptions are the flags of the calls that install a config on a
// node: Install, Pull, and Cluster's Pull and SyncNodes.
type InstallOptions struct {
	// DryRun reports the change without writing the config.
	DryRun bool
}

// PushData stores data as the new config of svcname, conditional on the
// store still holding the revision this node last pulled or pushed
// (opts.Force: unconditional). It does not change the local config.
func (a *Agent) PushData(ctx context.Context, svcname string, data []byte, opts PushOptions) (*ConfigChange, error) {
	if a.Store == nil {
		return nil, fmt.Errorf("%s: push %s: no config store configured", a.Node, svcname)
	}
	if _, err := svc.Parse(ctx, a.ConfigPath(svcname), data, a.options(svcname)); err != nil {
		return nil, fmt.Errorf("%s: push %s: the config does not validate, nothing stored: %w", a.Node, svcname, err)
	}
	expect := store.Absent
	if r, ok := a.readRev(svcname); ok && r.Store == a.Store.String() {
		expect = r.Revision
	}
	if opts.Force {
		expect = store.AnyRevision
	}
	ch := &ConfigChange{Service: svcname, Node: a.Node, Source: a.Store.String(), Checksum: store.Checksum(data), DryRun: opts.DryRun}
	if cur, err := a.Store.Get(ctx, svcname); err == nil {
		ch.Previous = cur.Checksum
		if opts.DryRun && expect != store.AnyRevision && cur.Revision != expect {
			return ch, &store.ConflictError{Store: a.Store.String(), Service: svcname, Expected: expect, Actual: cur.Revision}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return ch, fmt.Errorf("%s: push %s: %w", a.Node, svcname, err)
	}
	ch.Changed = ch.Previous != ch.Checksum
	if opts.DryRun {
		return ch, nil
	}
	cfg, err := a.Store.Put(ctx, svcname, data, expect)
	if err != nil {
		return ch, fmt.Errorf("%s: push %s: %w", a.Node, svcname, err)
	}
	ch.Revision = cfg.Revision
	if err := a.writeRev(svcname, revRecord{Store: a.Store.String(), Revision: cfg.Revision, Checksum: cfg.Checksum, Time: time.Now().UTC()}); err != nil {
		return ch, fmt.Errorf("%s: push %s: record the revision: %w", a.Node, svcname, err)
	}
	return ch, nil
}

// Push stores the local config of svcname as a new version.
func (a *Agent) Push(ctx context.Context, svcname string, opts PushOptions) (*ConfigChange, error) {
	data, err := a.ReadConfig(svcname)
	if err != nil {
		return nil, fmt.Errorf("%s: push %s: %w", a.Node, svcname, err)
	}
	return a.PushData(ctx, svcname, data, opts)
}
