// Package sync holds the keyword manifests of the sync drivers.
package sync

import "github.com/svckit/svckit/driver"

// Rsync is the manifest of sync.rsync: files copied to peer nodes.
var Rsync = driver.Manifest{
	ID:   "sync.rsync",
	Text: "files copied to the other nodes of the service",
	Keywords: []driver.Keyword{
		{Name: "src", Kind: driver.List, Scopable: true, Text: "the paths to copy"},
		{Name: "dst", Kind: driver.String, Scopable: true, Text: "the destination path on the peers"},
		{Name: "target", Kind: driver.List, Scopable: true, Default: "nodes", Candidates: nil, Text: "nodes, drpnodes, or both"},
		{Name: "schedule", Kind: driver.String, Scopable: true, Text: "when the sync runs"},
	},
}

// Manifests lists every sync manifest.
func Manifests() []driver.Manifest { return []driver.Manifest{Rsync} }
