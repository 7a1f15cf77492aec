// Package fs holds what the filesystem drivers (fs.ext4, fs.xfs,
// fs.btrfs) know without I/O: their manifests (the keywords a [fs#...]
// section accepts) and their Spec, parsed from a section by ParseSpec.
//
// It is the pattern of every driver group (see package driver): the
// implementation, fs/linux, embeds Spec in its resource and adds mkfs,
// mount and blkid; driver/fake embeds nothing but builds its stand-in
// from the same ParseSpec, so that a fake fs has the label ("<dev>@<mnt>"),
// the provided mount point, the used device and parent mount point, and
// the refusals (a relative mnt, a label too long for the type) of the
// real one. This package imports nothing heavy, so that fakes and
// generators (formtemplate/spd) can use it without pulling in the system
// code.
package fs

import "github.com/svckit/svckit/driver"

func manifest(typ, text string) driver.Manifest {
	return driver.Manifest{
		ID:   "fs." + typ,
		Text: text,
		Spec: driver.SpecOf(ParseSpec),
		Keywords: []driver.Keyword{
			{Name: "dev", Kind: driver.String, Required: true, Scopable: true, Claim: "fs.dev", Text: "the block device: a path, LABEL=<label> or UUID=<uuid>"},
			{Name: "mnt", Kind: driver.String, Required: true, Scopable: true, Claim: "fs.mnt", Text: "the mount point"},
			{Name: "mnt_opt", Kind: driver.String, Scopable: true, Text: "the mount options (comma separated)"},
			{Name: "mkfs_opt", Kind: driver.Shell, Scopable: true, Text: "options given to mkfs at provision, shell-quoted"},
			{Name: "label", Kind: driver.String, Scopable: true, Text: "the label given at provision (default: the LABEL= of dev)"},
			{Name: "mkfs_destroys_data", Kind: driver.Bool, Scopable: true, Default: "false", Text: "let provision make the filesystem on a device whose first or last MiB is not blank although no signature is found on it (an archive, an image, random data): that data is destroyed. A device with a known signature (a filesystem, a partition table) is refused whatever this says"},
			{Name: "mkfs_dev", Kind: driver.String, Scopable: true, Text: "the device path provision formats when dev is LABEL=<label> or UUID=<uuid> and no device carries it yet; the filesystem gets that label or uuid"},
		},
	}
}

var (
	Ext4  = manifest("ext4", "an ext4 filesystem")
	XFS   = manifest("xfs", "an xfs filesystem")
	Btrfs = manifest("btrfs", "a btrfs filesystem")
)

// Manifests lists every fs manifest.
func Manifests() []driver.Manifest { return []driver.Manifest{Ext4, XFS, Btrfs} }
