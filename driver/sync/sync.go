// Package sync holds the keyword manifests and the specs of the sync
// drivers.
package sync

import (
	"slices"
	"sort"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// Rsync is the manifest of sync.rsync: files copied to peer nodes.
var Rsync = driver.Manifest{
	ID:   "sync.rsync",
	Text: "files copied to the other nodes of the service",
	Spec: driver.SpecOf(ParseRsyncSpec),
	Keywords: []driver.Keyword{
		{Name: "src", Kind: driver.List, Scopable: true, Text: "the paths to copy"},
		{Name: "dst", Kind: driver.String, Scopable: true, Text: "the destination path on the peers"},
		{Name: "target", Kind: driver.List, Scopable: true, Default: "nodes", Text: "nodes, drpnodes, or both"},
		{Name: "schedule", Kind: driver.String, Scopable: true, Text: "when the sync runs"},
	},
}

// Manifests lists every sync manifest.
func Manifests() []driver.Manifest { return []driver.Manifest{Rsync} }

// RsyncSpec is a sync.rsync section, parsed.
type RsyncSpec struct {
	Src []string
	Dst string
	// Targets are the node sets the files go to (nodes, drpnodes),
	// sorted.
	Targets  []string
	Schedule string
}

// ParseRsyncSpec reads a sync.rsync section.
func ParseRsyncSpec(cfg driver.Config) (*RsyncSpec, error) {
	s := &RsyncSpec{Src: cfg.List("src"), Dst: strings.TrimSpace(cfg.String("dst")), Targets: cfg.List("target"), Schedule: strings.TrimSpace(cfg.String("schedule"))}
	if len(s.Targets) == 0 {
		s.Targets = []string{"nodes"}
	}
	for _, t := range s.Targets {
		if t != "nodes" && t != "drpnodes" {
			return nil, driver.KeywordErrorf("target", "%q: expected nodes, drpnodes, or both", t)
		}
	}
	sort.Strings(s.Targets)
	s.Targets = slices.Compact(s.Targets)
	return s, nil
}

// Label is "rsync svc config to <targets>", as the reference shows the
// implicit sync#i0.
func (s *RsyncSpec) Label() string { return "rsync svc config to " + strings.Join(s.Targets, ", ") }

// Provides names nothing.
func (s *RsyncSpec) Provides() []string { return nil }

// Uses names nothing: a sync depends on no resource of the service.
func (s *RsyncSpec) Uses() ([]string, resource.Ordering) { return nil, resource.OrderByUses }
