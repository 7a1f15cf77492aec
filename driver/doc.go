// Package driver is the registry of resource drivers, the description of
// their keywords (manifests) and the contract of their specs.
//
// # Using drivers
//
// A driver package registers itself in init, the way database/sql drivers
// do, and a program chooses its drivers by importing them:
//
//	import _ "github.com/svckit/svckit/driver/fs/linux"
//
// The svc package never imports a driver: it looks drivers up by the
// "group.type" id of each configuration section ("fs.ext4" for a [fs#01]
// section with type = ext4), validates the section against the manifest,
// and calls the factory.
//
// # Writing a driver
//
// A driver is three pieces, each written once:
//
//  1. A Manifest: the id and the keywords (kind, default, required,
//     scopable, candidates, text, claim). svc validates every section
//     against it before anything else runs: unknown keywords get a "did
//     you mean", bad values are reported at their line. A keyword is
//     secret by its name (the rule of resource/secret).
//  2. A spec: a type holding what the driver knows of a section without
//     any I/O (its parsed values, its Label, what it Provides and Uses),
//     with a parser func(Config) (*YourSpec, error) set as Manifest.Spec
//     through SpecOf. Errors about one keyword are KeywordError
//     (KeywordErrorf), without the rid: svc reports them at the line of
//     that keyword, in its section. Read values with Config's getters:
//     they apply the manifest's defaults, so the parser never repeats
//     them, and the *Of getters (SizeOf, DurationOf, BoolOf, OneOf) report
//     malformed values of a Config built by hand.
//  3. A Factory that parses the spec and returns the resource: a struct
//     embedding resource.Base and the spec, adding the I/O (Status, Start,
//     Stop, and the optional interfaces of package resource). It does no
//     I/O itself.
//
// driver/fake builds its stand-in of a driver from the same spec, so a
// program's unit tests on fakes see the labels, the ordering and the
// refusals of the real driver. The standard drivers follow this pattern:
// their manifests and specs live in the group packages (driver/fs,
// driver/disk, driver/ip, driver/container, driver/sync), which import
// nothing heavy, and their I/O in the subpackages (driver/fs/linux,
// driver/disk/gce, ...). See the example of Registry.Register for a
// complete driver.
package driver
