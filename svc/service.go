package svc

import (
	"maps"
	"slices"

	"github.com/svckit/svckit/resource"
)

// A Service is read-only once loaded: its accessors return copies, so
// that a program holding one cannot change what the scheduler reads at
// action time. Load the config again to see a changed one.

// Name is the service name.
func (s *Service) Name() string { return s.name }

// Node is the node the service was loaded for.
func (s *Service) Node() string { return s.node }

// File is the config file the service was read from.
func (s *Service) File() string { return s.file }

// Nodes returns the nodes of the service (DEFAULT's nodes; this node
// when unset).
func (s *Service) Nodes() []string { return slices.Clone(s.nodes) }

// DRPNodes returns the disaster recovery nodes of the service.
func (s *Service) DRPNodes() []string { return slices.Clone(s.drpNodes) }

// FlexPrimary is the node that drives cluster actions (DEFAULT's
// flex_primary; the first node when unset).
func (s *Service) FlexPrimary() string { return s.flexPrimary }

// Topology is DEFAULT's topology (failover, flex).
func (s *Service) Topology() string { return s.topology }

// Keyword returns the value of a DEFAULT keyword, scoped for this node,
// with its default.
func (s *Service) Keyword(name string) string { return s.keywords[name] }

// Keywords returns a copy of the DEFAULT section scoped for this node,
// with defaults.
func (s *Service) Keywords() map[string]string { return maps.Clone(s.keywords) }

// Resources returns every resource of the service, disabled ones
// included, sorted by group order then rid. The slice is a copy; the
// resources are the service's own.
func (s *Service) Resources() []resource.Resource { return slices.Clone(s.resources) }

// Env returns a copy of the [env] section, scoped and resolved for this
// node: what {env.x} references read. Values may be secrets: mask them
// with Redact before showing them.
func (s *Service) Env() map[string]string { return maps.Clone(s.env) }
