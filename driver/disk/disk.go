// Package disk holds the keyword manifests and the specs of the disk
// drivers (disk.gce, disk.loop). The implementations live in the
// subpackages (disk/gce, disk/loop); this package imports nothing heavy so
// that driver/fake builds its stand-ins from the same specs.
package disk

import "github.com/svckit/svckit/driver"

// GCE is the manifest of disk.gce: Google Compute Engine persistent disks.
var GCE = driver.Manifest{
	ID:   "disk.gce",
	Text: "Google Compute Engine persistent disks, attached to the node that runs the resource",
	Spec: driver.SpecOf(ParseGCESpec),
	Keywords: []driver.Keyword{
		{Name: "names", Kind: driver.List, Required: true, Scopable: true, Claim: "disk.gce.name", Text: "the names of the disks"},
		{Name: "gce_zone", Kind: driver.String, Scopable: true, Text: "the zone of the disks (default: the instance's, from the metadata server)"},
		{Name: "gce_project", Kind: driver.String, Scopable: true, Text: "the project (default: the instance's, from the metadata server)"},
		{Name: "gce_instance", Kind: driver.String, Scopable: true, Text: "the instance to attach to (default: the node's, from the metadata server)"},
		{Name: "gce_endpoint", Kind: driver.String, Scopable: true, Text: "a compute API endpoint to use instead of Google's (tests, compatible clouds)"},
		{Name: "size", Kind: driver.Size, Scopable: true, Text: "the size of each disk to create at provision"},
		{Name: "disk_type", Kind: driver.String, Scopable: true, Default: "pd-standard", Text: "the disk type to create at provision (pd-standard, pd-ssd, pd-balanced)"},
		{Name: "description", Kind: driver.String, Scopable: true, Text: "the description of the disks created at provision"},
		{Name: "image", Kind: driver.String, Scopable: true, Text: "the image to create the disks from (provision only)"},
		{Name: "source_snapshot", Kind: driver.String, Scopable: true, Text: "the snapshot to create the disks from (provision only)"},
		{Name: "attach_timeout", Kind: driver.Duration, Default: "60s", Text: "how long start waits for the device node of an attached disk"},
		{Name: "dev_dir", Kind: driver.String, Default: GCEDevDir, Text: "the directory where udev names attached disks google-<device name> (tests point it elsewhere)"},
	},
}

// Loop is the manifest of disk.loop: a file-backed loop device.
var Loop = driver.Manifest{
	ID:   "disk.loop",
	Text: "a loop device backed by a file: an on-premise or development stand-in for cloud disks",
	Spec: driver.SpecOf(ParseLoopSpec),
	Keywords: []driver.Keyword{
		{Name: "file", Kind: driver.String, Required: true, Scopable: true, Claim: "disk.loop.file", Text: "the backing file"},
		{Name: "size", Kind: driver.Size, Scopable: true, Text: "the size of the file created at provision"},
		{Name: "link", Kind: driver.String, Scopable: true, Text: "a path that start points to the attached /dev/loopN (a stable dev for an fs resource; the loop device number changes between attaches)"},
	},
}

// Manifests lists every disk manifest.
func Manifests() []driver.Manifest { return []driver.Manifest{GCE, Loop} }
