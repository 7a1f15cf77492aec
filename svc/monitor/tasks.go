package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/internal/inifile"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/schedule"
)

// Task names, as the API, the metrics and the last-run files
// (<root>/var/node/scheduler/<task>.json for the node,
// <root>/var/<svc>/scheduler/<task>.json for a service) name them.
const (
	TaskCompliance = "compliance"      // compliance auto: check, then fix the autofix modules
	TaskAsset      = "asset"           // push the node's asset to the collector
	TaskPackages   = "packages"        // push the node's packages to the collector
	TaskDequeue    = "dequeue_actions" // run the collector's queued actions
	TaskStatus     = "status"          // refresh the status of every resource
	TaskMonitor    = "monitor"         // the resource monitor pass
	// A service's sync tasks are named by their rid: "sync#i0" (sync
	// nodes, the configuration to the other nodes).
)

// Task results.
const (
	ResultOK      = "ok"
	ResultError   = "error"
	ResultSkipped = "skipped"
)

// NodeTask is a node task and where node.conf sets its schedule, with the
// reference's names and defaults (opensvc/core/node/nodedict.py).
type NodeTask struct {
	Name    string
	Section string // node.conf section; the keyword is "schedule"
	Default string // "" disables the task unless node.conf sets it
	// Collector tasks run only when node.conf names a collector
	// (node.dbopensvc and node.uuid, set by nodemgr register).
	Collector bool
	Text      string
}

// NodeTasks are the node tasks the daemon schedules when a runner is
// given for them (DaemonOptions.NodeRunners).
var NodeTasks = []NodeTask{
	{Name: TaskCompliance, Section: "compliance", Default: "~02:00-06:00", Text: "node compliance auto: check every module, fix the autofix ones"},
	{Name: TaskAsset, Section: "asset", Default: "~00:00-06:00", Collector: true, Text: "send the node's asset to the collector (nodemgr pushasset)"},
	{Name: TaskPackages, Section: "packages", Default: "~00:00-06:00", Collector: true, Text: "send the node's packages to the collector (nodemgr pushpkg)"},
	{Name: TaskDequeue, Section: "dequeue_actions", Collector: true, Text: "run the collector's queued actions (nodemgr dequeue actions); off unless set, as in the reference"},
}

// NodeConf is what the daemon reads of <root>/etc/node.conf: "section.key"
// to value.
type NodeConf map[string]string

// HasCollector tells whether the node is registered with a collector.
func (c NodeConf) HasCollector() bool {
	return strings.TrimSpace(c["node.dbopensvc"]) != "" && strings.TrimSpace(c["node.uuid"]) != ""
}

// maxNodeConf bounds what is read of node.conf.
const maxNodeConf = 16 << 20

// ReadNodeConf reads <root>/etc/node.conf (confined to <root>/etc: a
// symbolic link cannot lead out). A missing file is an empty config.
func ReadNodeConf(root string) (NodeConf, error) {
	path := filepath.Join(root, "etc", "node.conf")
	r, err := os.OpenRoot(filepath.Join(root, "etc"))
	if errors.Is(err, fs.ErrNotExist) {
		return NodeConf{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := r.Open("node.conf")
	if errors.Is(err, fs.ErrNotExist) {
		return NodeConf{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxNodeConf+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxNodeConf {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxNodeConf)
	}
	secs, err := inifile.Read(string(data), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := NodeConf{}
	for _, s := range secs {
		for _, k := range s.Keys {
			out[s.Name+"."+k.Name] = k.Value
		}
	}
	return out, nil
}

// nodeTaskDefs checks the node tasks' schedules of a node.conf: the
// definition of each task, or an error naming node.conf's key.
func nodeTaskDefs(root string, conf NodeConf) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for _, t := range NodeTasks {
		def, set := conf[t.Section+".schedule"]
		if !set {
			def = t.Default
		}
		if _, err := schedule.Parse(def, schedule.Options{}); err != nil {
			errs = append(errs, fmt.Errorf("%s: [%s] schedule: %w", filepath.Join(root, "etc", "node.conf"), t.Section, err))
			continue
		}
		out[t.Name] = def
	}
	if v, ok := conf[HostActionsKey]; ok {
		if _, err := driver.ParseBool(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: [monitor] allow_host_actions: %w", filepath.Join(root, "etc", "node.conf"), err))
		}
	}
	return out, errors.Join(errs...)
}

// serviceTaskDefs are the schedules of a service's tasks: status,
// compliance, monitor (monitor_schedule, else every interval) and one per
// sync resource. The loader validated them.
func serviceTaskDefs(s *svc.Service, interval string) map[string]string {
	out := map[string]string{
		TaskStatus:     s.Keyword("status_schedule"),
		TaskCompliance: s.Keyword("comp_schedule"),
		TaskMonitor:    s.Keyword("monitor_schedule"),
	}
	if strings.TrimSpace(out[TaskMonitor]) == "" {
		out[TaskMonitor] = "@" + interval
	}
	for _, r := range s.Resources() {
		if strings.HasPrefix(r.RID(), "sync#") && !r.Flags().Disabled {
			out[r.RID()] = s.SyncSchedule(r.RID())
		}
	}
	return out
}

// NodeRunner runs a node task; the text is its result for the event
// stream and the API.
type NodeRunner func(ctx context.Context) (string, error)

// ServiceRunner runs a service task.
type ServiceRunner func(ctx context.Context, s *svc.Service) (string, error)

// Skipped is what a runner returns when its task had nothing to do or
// could not run now (no rules, no collector): the run counts as skipped,
// neither ok nor failed.
func Skipped(format string, args ...any) error { return &skipError{fmt.Sprintf(format, args...)} }
