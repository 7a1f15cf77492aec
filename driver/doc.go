// Package driver is the registry of resource drivers and the description
// of their keywords (manifests).
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
// Manifests of the standard drivers live in the group packages (driver/fs,
// driver/ip, ...) that import nothing heavy, so that driver/fake can stand
// in for a real driver with the very same keywords.
package driver
