// Package all registers every driver of svckit: import it for its side
// effect when a program should run any configuration.
//
//	import _ "github.com/svckit/svckit/driver/all"
package all

import (
	_ "github.com/svckit/svckit/driver/container/docker"
	_ "github.com/svckit/svckit/driver/container/dockerd"
	_ "github.com/svckit/svckit/driver/disk/gce"
	_ "github.com/svckit/svckit/driver/disk/loop"
	_ "github.com/svckit/svckit/driver/fs/linux"
	_ "github.com/svckit/svckit/driver/ip/docker"
	_ "github.com/svckit/svckit/driver/ip/gce"
	_ "github.com/svckit/svckit/driver/ip/host"
	_ "github.com/svckit/svckit/driver/sync/rsync"
)
