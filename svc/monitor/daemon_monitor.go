package monitor

import (
	"context"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/svc"
)

// HostActionsKey is the node.conf setting that lets the monitor_action
// reboot or crash the host ("[monitor] allow_host_actions = true");
// without it these are logged and refused.
const HostActionsKey = "monitor.allow_host_actions"

// wireMonitor sets the defaults that need the resource monitor: Frozen
// asks the service, and Pass runs opts.Monitor, or a Monitor on the
// daemon's clock publishing on its event stream.
func (d *Daemon) wireMonitor() {
	if d.opts.Frozen == nil {
		// A frozen state that cannot be read counts as frozen: the
		// daemon does not act when in doubt.
		d.opts.Frozen = func(s *svc.Service) bool {
			f, err := s.Frozen()
			return err != nil || f
		}
	}
	if d.opts.Pass != nil {
		return
	}
	m := d.opts.Monitor
	if m == nil {
		action := d.opts.MonitorAction
		// The daemon's monitor never acts on the host itself; a reboot
		// or a crash goes to hostMonitor only while node.conf allows it
		// (read at each action) and the drivers are real.
		hostMonitor := New(Options{Logger: d.opts.Logger, AllowHostActions: true})
		m = New(Options{
			Now: d.opts.Now, Sleep: d.opts.Sleep, Emit: d.Emit, Logger: d.opts.Logger,
			Action: func(ctx context.Context, s *svc.Service, word, reason string) error {
				if action != nil {
					return action(ctx, s, word, reason)
				}
				if (word == "reboot" || word == "crash") && d.hostActionsAllowed() {
					return hostMonitor.DefaultAction(ctx, s, word, reason)
				}
				return m.DefaultAction(ctx, s, word, reason)
			},
		})
	}
	d.opts.Pass = m.PassStatus
}

func (d *Daemon) hostActionsAllowed() bool {
	if d.opts.NoHostActions {
		return false
	}
	d.mu.Lock()
	v := d.nodeConf[HostActionsKey]
	d.mu.Unlock()
	ok, err := driver.ParseBool(strings.TrimSpace(v))
	return err == nil && ok
}
