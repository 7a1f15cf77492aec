package main

import (
	"context"
	"io"
	"time"

	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/monitor"
)

// printDaemonStatus prints the status the node daemon of --root holds
// for the service, when it is fresh (monitor.CachedStatus says when),
// without reading a resource; false when the caller must read them.
func (g *globals) printDaemonStatus(ctx context.Context) (bool, error) {
	if g.svcname == "" || (g.format != "text" && g.format != "json") {
		return false, nil
	}
	st, ok := monitor.CachedStatus(ctx, g.root, g.svcname, time.Now())
	if !ok || st.Status.Node != g.node {
		return false, nil
	}
	opts := svc.StatusOptions{ShowDisabled: st.ShowDisabled}
	if g.format == "json" {
		return true, g.writeJSON(&cluster.NodeStatus{StatusReport: st.Status.Visible(opts), ConfigChecksum: st.Checksum})
	}
	_, err := io.WriteString(g.stdout, st.Status.Render(opts))
	return true, err
}
