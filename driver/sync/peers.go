package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/svckit/svckit/internal/atomicfile"
)

// Checksums are the sha256 digests of a service's config file on this
// node and on its peers, as a ConfigPeers read them.
type Checksums struct {
	// Self is this node's.
	Self string
	// Nodes holds the checksum of each peer that answered.
	Nodes map[string]string
	// Errors says why a peer's checksum could not be read (unreachable,
	// no config, timed out).
	Errors map[string]error
}

// ConfigPeers reads the checksums of a service's config on the nodes of
// a cluster. It is how a sync.rsync driver compares configs without
// knowing the cluster transport: svc/cluster provides one over its
// Transport (cluster.PeerChecksums) that satisfies this interface without
// importing any driver.
//
// An implementation asks the peers concurrently, honours ctx (its
// deadline bounds the whole call), and must ask only for the checksum,
// never for a peer's status: a peer's status includes its own sync,
// which would ask back.
type ConfigPeers interface {
	// ConfigChecksums returns this node's checksum of svcname's config
	// and each of nodes'. The error is for this node's own config; a
	// peer that cannot be read is in Checksums.Errors.
	ConfigChecksums(ctx context.Context, svcname string, nodes []string) (Checksums, error)
}

// TargetNodes returns the nodes a sync of targets copies to: the
// service's nodes and/or drpnodes, without self, sorted, once each.
func TargetNodes(targets, nodes, drpNodes []string, self string) []string {
	var out []string
	for _, t := range targets {
		switch t {
		case "nodes":
			out = append(out, nodes...)
		case "drpnodes":
			out = append(out, drpNodes...)
		}
	}
	out = slices.DeleteFunc(out, func(n string) bool { return n == self || n == "" })
	sort.Strings(out)
	return slices.Compact(out)
}

// LastSync is the record of the last copy of the config to the other
// nodes (svcmgr sync nodes), which svc/cluster writes in the service's
// var directory and the sync.rsync driver shows.
type LastSync struct {
	Time time.Time `json:"time"`
	// Checksum is the config that was copied.
	Checksum string `json:"checksum"`
	// Nodes holds the outcome per node: "" when installed (or already
	// there), else the error.
	Nodes map[string]string `json:"nodes"`
}

// Failed returns the nodes where the sync failed, sorted.
func (l LastSync) Failed() []string {
	var out []string
	for n, e := range l.Nodes {
		if e != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// LastSyncFile is the name of the record in the service's var directory.
const LastSyncFile = "sync_nodes.json"

// maxLastSync bounds what ReadLastSync reads: the record names a few
// nodes, never megabytes.
const maxLastSync = 1 << 20

// WriteLastSync records l in varDir, atomically.
func WriteLastSync(varDir string, l LastSync) error {
	if varDir == "" {
		return errors.New("record the last sync: no var directory")
	}
	if err := os.MkdirAll(varDir, 0o755); err != nil {
		return fmt.Errorf("record the last sync: %w", err)
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("record the last sync: %w", err)
	}
	return atomicfile.Write(filepath.Join(varDir, LastSyncFile), append(b, '\n'), 0o644)
}

// ReadLastSync returns the record of varDir, and false when there is none
// (no sync ran yet).
func ReadLastSync(varDir string) (LastSync, bool, error) {
	if varDir == "" {
		return LastSync{}, false, nil
	}
	path := filepath.Join(varDir, LastSyncFile)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return LastSync{}, false, nil
	}
	if err != nil {
		return LastSync{}, false, err
	}
	defer f.Close()
	var l LastSync
	dec := json.NewDecoder(&limitReader{f: f, n: maxLastSync})
	if err := dec.Decode(&l); err != nil {
		return LastSync{}, false, fmt.Errorf("%s: %w: expected the JSON record of the last sync nodes", path, err)
	}
	return l, true, nil
}

type limitReader struct {
	f *os.File
	n int64
}

func (r *limitReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, fmt.Errorf("larger than %d bytes", maxLastSync)
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n, err := r.f.Read(p)
	r.n -= int64(n)
	return n, err
}
