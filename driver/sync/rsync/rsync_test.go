package rsync_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/driver/sync/rsync"
	"github.com/svckit/svckit/resource"
)

// filePeers reads each node's config file from a directory of its own,
// as the peers of a cluster hold theirs: the checksums are real, a missing
// file is a node that cannot answer, and a FIFO is one that never does.
type filePeers struct {
	self  string
	files map[string]string
	// ignoreCtx reads without watching ctx, as a careless ConfigPeers
	// would.
	ignoreCtx bool
}

func checksum(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

func (p filePeers) ConfigChecksums(ctx context.Context, _ string, nodes []string) (syncdrv.Checksums, error) {
	out := syncdrv.Checksums{Nodes: map[string]string{}, Errors: map[string]error{}}
	self, err := checksum(p.files[p.self])
	if err != nil {
		return out, err
	}
	out.Self = self
	type answer struct {
		node, sum string
		err       error
	}
	ch := make(chan answer, len(nodes))
	for _, n := range nodes {
		go func() {
			s, err := checksum(p.files[n])
			ch <- answer{n, s, err}
		}()
	}
	for range nodes {
		var a answer
		if p.ignoreCtx {
			a = <-ch
		} else {
			select {
			case a = <-ch:
			case <-ctx.Done():
				for _, n := range nodes {
					if _, done := out.Nodes[n]; !done && out.Errors[n] == nil {
						out.Errors[n] = ctx.Err()
					}
				}
				return out, nil
			}
		}
		if a.err != nil {
			out.Errors[a.node] = a.err
		} else {
			out.Nodes[a.node] = a.sum
		}
	}
	return out, nil
}

type node struct {
	dir, conf, varDir string
}

// cluster writes the same config on every node.
func cluster(t *testing.T, names ...string) map[string]*node {
	dir := t.TempDir()
	out := map[string]*node{}
	for _, n := range names {
		nd := &node{dir: filepath.Join(dir, n)}
		nd.conf = filepath.Join(nd.dir, "etc", "svc1.conf")
		nd.varDir = filepath.Join(nd.dir, "var", "svc1")
		require.NoError(t, os.MkdirAll(filepath.Dir(nd.conf), 0o755))
		require.NoError(t, os.WriteFile(nd.conf, []byte("[DEFAULT]\nnodes = "+strings.Join(names, " ")+"\n"), 0o600))
		out[n] = nd
	}
	return out
}

func peersOf(self string, nodes map[string]*node) filePeers {
	p := filePeers{self: self, files: map[string]string{}}
	for n, nd := range nodes {
		p.files[n] = nd.conf
	}
	return p
}

func newSync(t *testing.T, self string, nodes, drp []string, varDir string, values map[string]string, opts ...rsync.Option) *rsync.Rsync {
	t.Helper()
	if values == nil {
		values = map[string]string{"type": "rsync", "target": "drpnodes nodes"}
	}
	cfg := driver.Config{RID: "sync#i0", Manifest: syncdrv.Rsync, Svcname: "svc1", Nodename: self,
		Nodes: nodes, DRPNodes: drp, VarDir: varDir, Values: values}
	r, err := rsync.NewFactory(opts...)(context.Background(), cfg)
	require.NoError(t, err)
	return r.(*rsync.Rsync)
}

func TestStatusSingleNode(t *testing.T) {
	nodes := cluster(t, "n1")
	for _, opts := range [][]rsync.Option{nil, {rsync.WithPeers(peersOf("n1", nodes))}} {
		r := newSync(t, "n1", []string{"n1"}, nil, nodes["n1"].varDir, nil, opts...)
		st, err := r.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, resource.NotApplicable, st, "no other node to compare with")
		require.Equal(t, "rsync svc config to drpnodes, nodes", r.Label())
		require.Empty(t, r.TargetNodes())
	}
}

func TestStatusNoPeers(t *testing.T) {
	nodes := cluster(t, "n1", "n2")
	r := newSync(t, "n1", []string{"n1", "n2"}, nil, nodes["n1"].varDir, nil)
	st, err := r.Status(context.Background())
	require.Equal(t, resource.Warn, st)
	require.EqualError(t, err, "no cluster transport to compare configs")
}

func TestStatusCompares(t *testing.T) {
	ctx := context.Background()
	names := []string{"n1", "n2", "n3", "n4", "d1"}
	nodes := cluster(t, names...)
	peers := peersOf("n1", nodes)
	r := newSync(t, "n1", []string{"n1", "n2", "n3", "n4"}, []string{"d1"}, nodes["n1"].varDir, nil, rsync.WithPeers(peers))
	require.Equal(t, []string{"d1", "n2", "n3", "n4"}, r.TargetNodes(), "nodes and drpnodes but this one")

	st, err := r.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st, "the same config everywhere")
	require.Equal(t, "rsync svc config to drpnodes, nodes", r.Label(), "no sync nodes ran yet")

	// A config changed by hand on n3, and n4's gone.
	require.NoError(t, os.WriteFile(nodes["n3"].conf, []byte("[DEFAULT]\nnodes = n1 n2 n3 n4\n# edited\n"), 0o600))
	require.NoError(t, os.Remove(nodes["n4"].conf))
	self, err := checksum(nodes["n1"].conf)
	require.NoError(t, err)
	st, err = r.Status(ctx)
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, "config differs from this node's (sha256 "+self[:12]+") on n3: svcmgr sync nodes")
	require.ErrorContains(t, err, "config not compared on n4 (open "+nodes["n4"].conf)
	require.NotContains(t, err.Error(), "n2")
	require.NotContains(t, err.Error(), "d1")

	// target = nodes leaves the drpnodes out.
	only := newSync(t, "n1", []string{"n1", "n2"}, []string{"d1"}, nodes["n1"].varDir, map[string]string{"type": "rsync", "target": "nodes"}, rsync.WithPeers(peers))
	require.Equal(t, []string{"n2"}, only.TargetNodes())
	st, err = only.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)

	// This node's own config unreadable: nothing to compare.
	require.NoError(t, os.Remove(nodes["n1"].conf))
	st, err = r.Status(ctx)
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, "compare configs: open "+nodes["n1"].conf)
}

func TestStatusLastSync(t *testing.T) {
	ctx := context.Background()
	nodes := cluster(t, "n1", "n2", "n3")
	r := newSync(t, "n1", []string{"n1", "n2", "n3"}, nil, nodes["n1"].varDir, nil, rsync.WithPeers(peersOf("n1", nodes)))
	when := time.Date(2026, 12, 3, 11, 20, 34, 0, time.UTC)
	require.NoError(t, syncdrv.WriteLastSync(nodes["n1"].varDir, syncdrv.LastSync{Time: when, Nodes: map[string]string{"n2": "", "n3": "n3: ssh 10.0.0.3:22: connection refused"}}))
	st, err := r.Status(ctx)
	require.NoError(t, err, "the configs are equal now, whatever the last sync said")
	require.Equal(t, resource.Up, st)
	require.Equal(t, "rsync svc config to drpnodes, nodes (last sync 2026-12-03 11:20:34Z)", r.Label())

	require.NoError(t, os.WriteFile(nodes["n3"].conf, []byte("other"), 0o600))
	st, err = r.Status(ctx)
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, "on n3: svcmgr sync nodes")
	require.ErrorContains(t, err, "last sync nodes failed on n3: ssh 10.0.0.3:22: connection refused")

	// A damaged record is said, with its path; a huge one is not read
	// whole.
	rec := filepath.Join(nodes["n1"].varDir, syncdrv.LastSyncFile)
	require.NoError(t, os.WriteFile(rec, []byte("{not json"), 0o644))
	st, err = r.Status(ctx)
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, rec+": ")
	require.ErrorContains(t, err, "expected the JSON record of the last sync nodes")
	require.NoError(t, os.WriteFile(rec, []byte(`{"time":"2026-12-03T11:20:34Z","nodes":{"n2":"`+strings.Repeat("x", 2<<20)+`"}}`), 0o644))
	_, _, err = syncdrv.ReadLastSync(nodes["n1"].varDir)
	require.ErrorContains(t, err, "larger than")
}

// hang makes n's config a FIFO without a writer: reading it blocks until
// the test ends (the cleanup opens the other end).
func hang(t *testing.T, nd *node) {
	require.NoError(t, os.Remove(nd.conf))
	require.NoError(t, syscall.Mkfifo(nd.conf, 0o600))
	t.Cleanup(func() {
		f, err := os.OpenFile(nd.conf, os.O_RDWR, 0)
		if err == nil {
			time.Sleep(10 * time.Millisecond)
			f.Close()
		}
	})
}

func TestStatusTimeout(t *testing.T) {
	nodes := cluster(t, "n1", "n2", "n3")
	hang(t, nodes["n3"])
	r := newSync(t, "n1", []string{"n1", "n2", "n3"}, nil, nodes["n1"].varDir, nil, rsync.WithPeers(peersOf("n1", nodes)), rsync.WithTimeout(100*time.Millisecond))
	st, err := r.Status(context.Background())
	require.Equal(t, resource.Warn, st)
	require.EqualError(t, err, "config not compared on n3 (context deadline exceeded)", "n2 answered in time")

	// A ConfigPeers that does not watch ctx still cannot hold the status.
	careless := peersOf("n1", nodes)
	careless.ignoreCtx = true
	r = newSync(t, "n1", []string{"n1", "n2", "n3"}, nil, nodes["n1"].varDir, nil, rsync.WithPeers(careless), rsync.WithTimeout(100*time.Millisecond))
	st, err = r.Status(context.Background())
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, "config not compared on n2 (no answer within 100ms: context deadline exceeded), n3 (no answer within 100ms")

	// The caller's ctx bounds it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = newSync(t, "n1", []string{"n1", "n2", "n3"}, nil, nodes["n1"].varDir, nil, rsync.WithPeers(careless))
	st, err = r.Status(ctx)
	require.Equal(t, resource.Warn, st)
	require.ErrorContains(t, err, "context canceled")
}

func TestStartStopNeverAskPeers(t *testing.T) {
	nodes := cluster(t, "n1", "n2")
	hang(t, nodes["n2"])
	careless := peersOf("n1", nodes)
	careless.ignoreCtx = true
	r := newSync(t, "n1", []string{"n1", "n2"}, nil, nodes["n1"].varDir, nil, rsync.WithPeers(careless), rsync.WithTimeout(time.Hour))
	// n2 never answers: a start or a stop that asked would hang here.
	require.NoError(t, r.Start(context.Background()))
	require.NoError(t, r.Stop(context.Background()))
}

func TestFilesNotCopied(t *testing.T) {
	nodes := cluster(t, "n1", "n2")
	r := newSync(t, "n1", []string{"n1", "n2"}, nil, nodes["n1"].varDir, map[string]string{"type": "rsync", "src": "/etc/x /etc/y"}, rsync.WithPeers(peersOf("n1", nodes)))
	st, err := r.Status(context.Background())
	require.Equal(t, resource.Undef, st)
	require.EqualError(t, err, "src /etc/x /etc/y: copying files is not done by this driver, only the service config is compared (sync#i0)")
}

func TestRegistered(t *testing.T) {
	d, ok := driver.Default().Lookup("sync.rsync")
	require.True(t, ok)
	require.Equal(t, syncdrv.Rsync.ID, d.Manifest.ID)
	_, err := d.New(context.Background(), driver.Config{RID: "sync#1", Manifest: syncdrv.Rsync, Values: map[string]string{"target": "everywhere"}})
	ke, ok := driver.AsKeywordError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "target", ke.Keyword)
}
