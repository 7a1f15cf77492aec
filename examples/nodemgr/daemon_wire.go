package main

import "github.com/svckit/svckit/svc/monitor"

// wireMonitor plugs the resource monitor into the daemon's options. The
// monitor (svc/monitor's Monitor) is not on this branch yet: the monitor
// task reads the status only.
func wireMonitor(opts *monitor.DaemonOptions) {}
