package cluster

import (
	"context"
	"fmt"
	"sync"

	syncdrv "github.com/svckit/svckit/driver/sync"
)

// ConfigChecksum is what svcmgr print config checksum prints with
// --format json: the sha256 of the node's config file.
type ConfigChecksum struct {
	Service  string `json:"service"`
	Node     string `json:"node"`
	Checksum string `json:"checksum"`
}

// PeerChecksums reads the config checksums of a service on this node
// (Self) and on its peers (through Transport), concurrently. It is the
// syncdrv.ConfigPeers the real sync.rsync driver takes
// (rsync.WithPeers), so that the status of sync#i0 compares the configs
// of the nodes; it asks each peer for its checksum only (Peer.
// ConfigChecksum), never for its status.
type PeerChecksums struct {
	Self      *Agent
	Transport Transport
	// Workers bounds how many peers are asked at once; default 8.
	Workers int
}

var _ syncdrv.ConfigPeers = PeerChecksums{}

// ConfigChecksums returns Self's checksum of svcname's config and each of
// nodes'; a node that cannot be asked before ctx ends is in Errors.
func (p PeerChecksums) ConfigChecksums(ctx context.Context, svcname string, nodes []string) (syncdrv.Checksums, error) {
	out := syncdrv.Checksums{Nodes: map[string]string{}, Errors: map[string]error{}}
	if p.Self == nil {
		return out, fmt.Errorf("no agent for this node")
	}
	self, err := p.Self.ConfigChecksum(ctx, svcname)
	if err != nil {
		return out, err
	}
	out.Self = self
	workers := p.Workers
	if workers <= 0 {
		workers = 8
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers)
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sum, err := p.one(ctx, sem, svcname, n)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				out.Errors[n] = err
				return
			}
			out.Nodes[n] = sum
		}()
	}
	wg.Wait()
	return out, nil
}

func (p PeerChecksums) one(ctx context.Context, sem chan struct{}, svcname, node string) (string, error) {
	select {
	case sem <- struct{}{}:
		defer func() { <-sem }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if node == p.Self.Node {
		return p.Self.ConfigChecksum(ctx, svcname)
	}
	if p.Transport == nil {
		return "", fmt.Errorf("node %s: no transport to reach it", node)
	}
	peer, err := p.Transport.Peer(node)
	if err != nil {
		return "", err
	}
	return peer.ConfigChecksum(ctx, svcname)
}
