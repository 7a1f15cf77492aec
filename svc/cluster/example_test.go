package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/store"
)

// Two nodes in one process: the flex primary pulls the config from a
// directory store, syncs it to the other node and starts the service on
// both.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "svckit-example")
	defer os.RemoveAll(dir)
	st, _ := store.NewDir(filepath.Join(dir, "store"))
	st.Put(ctx, "web", []byte("[DEFAULT]\nnodes = n1 n2\n\n[fs#01]\ntype = ext4\ndev = /dev/vdb\nmnt = /srv/web\n"), store.Absent)

	agent := func(node string) *cluster.Agent {
		return &cluster.Agent{Node: node, Root: filepath.Join(dir, node), Registry: fake.Registry(fake.Options{}), NoTriggers: true, Store: st}
	}
	n1, n2 := agent("n1"), agent("n2")
	c := &cluster.Cluster{Self: n1, Transport: cluster.NewLocal(n1, n2)}

	if _, err := n1.Pull(ctx, "web", cluster.InstallOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.SyncNodes(ctx, "web", cluster.InstallOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := c.Do(ctx, "web", svc.Start, svc.ActionOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range []string{"n1", "n2"} {
		fmt.Println(n, res.Nodes[n].Result.Action, len(res.Nodes[n].Result.Steps), "steps")
	}
	status, _ := c.Status(ctx, "web")
	fmt.Println(status.Nodes["n2"].Overall, len(status.Warnings), "warnings")
	// Output:
	// n1 start 2 steps
	// n2 start 2 steps
	// up 0 warnings
}
