package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/cluster/ha"
)

// statusWithHA is print status --cluster --format json with --ha-etcd:
// the nodes' status reports and the HA view under "ha".
type statusWithHA struct {
	*cluster.Status
	HA *ha.ClusterStatus `json:"ha,omitempty"`
}

// printStatusClusterHA prints the nodes' status (what answered) and the
// HA view read from etcd.
func (g *globals) printStatusClusterHA(ctx context.Context, nodes []string, st *cluster.Status, stErr error) error {
	hs, err := readHAStatus(ctx, g.cl.haEtcd, g.svcname, nodes)
	if err != nil && stErr != nil {
		fmt.Fprintln(g.stderr, "svcmgr: warning:", err)
	}
	if g.format == "json" {
		g.writeJSON(statusWithHA{Status: st, HA: hs})
	} else {
		if st != nil {
			io.WriteString(g.stdout, st.Render(nodes))
		}
		if hs != nil {
			io.WriteString(g.stdout, "\nhigh availability (etcd)\n"+hs.Render(20))
		}
	}
	if st != nil {
		for _, w := range st.Warnings {
			fmt.Fprintln(g.stderr, "svcmgr: warning:", w)
		}
	}
	if stErr != nil {
		return exitFor(stErr)
	}
	return exitFor(err)
}

func readHAStatus(ctx context.Context, endpoints, svcname string, nodes []string) (*ha.ClusterStatus, error) {
	cli, err := ha.NewClient(ha.ClientOptions{Endpoints: strings.Split(endpoints, ",")})
	if err != nil {
		return nil, fmt.Errorf("ha: etcd %s: %w", endpoints, err)
	}
	defer cli.Close()
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return ha.ReadStatus(cctx, cli, "", svcname, nodes)
}
