package resource

import (
	"context"
	"slices"
)

// Resource is one managed thing of a service: a disk, a filesystem, an IP,
// a container. A driver returns one per configuration section.
//
// Start and Stop must be idempotent: starting a resource that is up, or
// stopping one that is down, succeeds without change.
type Resource interface {
	// RID is the section name, "fs#01".
	RID() string
	// DriverID is "group.type", "fs.ext4".
	DriverID() string
	// Tags are the words of the tags keyword.
	Tags() []string
	// Subset is the name of the subset the resource belongs to, or "".
	Subset() string
	// Flags are the boolean resource keywords (disable, optional, ...).
	Flags() Flags
	// Label is the short description shown by print status.
	Label() string
	// Status checks the resource. A non-nil error is shown as the
	// resource's log line next to the returned status: return Undef when
	// the state could not be determined, Warn for a degraded state.
	Status(ctx context.Context) (Status, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Provisioner is implemented by resources that can create what they manage
// (allocate a disk, make a filesystem). Provision must never destroy data:
// a disk that exists is not re-created, a device that holds a filesystem
// is not formatted again.
type Provisioner interface {
	Provision(ctx context.Context) error
}

// Unprovisioner is implemented by resources that can delete what they
// manage. It is only ever called by an explicit unprovision action. It
// deletes only what the service created, as recorded when it created it,
// and keeps (and logs) anything else unless IsForced(ctx).
type Unprovisioner interface {
	Unprovision(ctx context.Context) error
}

// UnprovisionPlanner is implemented by resources that can say, without
// changing anything, what their unprovision would delete or keep under
// ctx (IsForced included): one line per thing, naming it ("delete file
// /srv/d1.img", "keep disk d1: not created by this service").
type UnprovisionPlanner interface {
	PlanUnprovision(ctx context.Context) ([]string, error)
}

// ProvisionChecker tells whether what the resource manages exists.
type ProvisionChecker interface {
	Provisioned(ctx context.Context) (bool, error)
}

// Provider is implemented by resources that can name what they make
// available when up. The scheduler uses these names to order resources by
// real dependencies. A name is either an absolute path (a device node, a
// mount point) or "rid:<rid>" (the resource itself, always implied). A
// path that a User names is provided by the Provider of the longest path
// that equals it or is a parent directory of it: a container using
// /spdsvc01/pod01/db/data depends on the fs mounted on /spdsvc01/pod01
// rather than on the one mounted on /spdsvc01.
type Provider interface {
	Provides() []string
}

// User is implemented by resources that can name what they need up before
// they start (and that must stay up until they are stopped), with the names
// Provider describes. A name no resource provides is ignored (a host path
// like /etc/localtime).
//
// Uses also says how the graph scheduler orders the resource:
//
//   - OrderByUses: after the providers of the names in uses, and after
//     nothing else. No names means the resource depends on nothing and may
//     start first.
//   - OrderByGroup: as the reference does, after every resource of the
//     groups before its own (see Ordering); uses is then ignored. For a
//     resource that cannot tell what it needs before it runs: an fs whose
//     dev is LABEL=... may sit on any disk of the service.
//
// A resource that does not implement User is ordered by group.
type User interface {
	Uses() (uses []string, order Ordering)
}

// Ordering is how the graph scheduler orders a resource (see User). The
// group scheduler orders every resource by group whatever it says.
type Ordering int

const (
	// OrderByGroup starts the resource after every resource of the groups
	// before its own (ip, disk, fs, share, container, app) and after the
	// resource providing the directory its own provided paths live in.
	OrderByGroup Ordering = iota
	// OrderByUses starts the resource as soon as the providers of what it
	// uses are up, and only then.
	OrderByUses
)

// Flags are the boolean keywords common to every resource.
type Flags struct {
	Disabled bool `json:"disable"`
	Optional bool `json:"optional"`
	// Standby resources are started even when the service is stopped on
	// this node (always_on / standby keywords).
	Standby bool `json:"standby"`
	Monitor bool `json:"monitor"`
	Encap   bool `json:"encap"`
}

// String renders the 4-character flags column of print status: M (monitor),
// D (disabled), O (optional), E (encap), '.' when false.
func (f Flags) String() string {
	b := []byte("....")
	if f.Monitor {
		b[0] = 'M'
	}
	if f.Disabled {
		b[1] = 'D'
	}
	if f.Optional {
		b[2] = 'O'
	}
	if f.Encap {
		b[3] = 'E'
	}
	return string(b)
}

// Base holds what every resource has from its configuration section. A
// driver embeds it (driver.Config.Base fills it) and only adds Label,
// Status, Start and Stop.
type Base struct {
	ID       string
	Driver   string
	TagList  []string
	SubsetID string
	FlagSet  Flags
}

func (b *Base) RID() string      { return b.ID }
func (b *Base) DriverID() string { return b.Driver }
func (b *Base) Tags() []string   { return b.TagList }
func (b *Base) Subset() string   { return b.SubsetID }
func (b *Base) Flags() Flags     { return b.FlagSet }

// Group returns the group part of a driver id ("fs" of "fs.ext4") or of a
// rid ("fs" of "fs#01").
func Group(id string) string {
	// A loop, not strings.IndexAny: it builds a byte set at every call,
	// and a load asks this of every section several times.
	for i := 0; i < len(id); i++ {
		if id[i] == '.' || id[i] == '#' {
			return id[:i]
		}
	}
	return id
}

// HasTag tells whether r carries tag t.
func HasTag(r Resource, t string) bool { return slices.Contains(r.Tags(), t) }
