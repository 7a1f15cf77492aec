package fake

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/ip"
	syncdrv "github.com/svckit/svckit/driver/sync"
)

// build makes the fake of one section from the driver's spec
// (driver.ParseSpec): the label, the provided and used names and the
// errors of the real driver, since both parse the section with the same
// code. What is added here is fake state only. It does no I/O.
func build(cfg driver.Config) (*Resource, error) {
	r := &Resource{
		Base:    cfg.Base(),
		node:    cfg.Nodename,
		svcname: cfg.Svcname,
		varDir:  cfg.VarDir,
	}
	if r.Driver == "" {
		return nil, fmt.Errorf("the config has no driver manifest")
	}
	spec, err := driver.ParseSpec(cfg)
	if err != nil {
		return nil, err
	}
	r.label = spec.Label()
	if cfg.Manifest.Spec == nil {
		// Nothing is known of it: Replace may learn more from the
		// program's own factory.
		r.label = "fake " + cfg.Manifest.ID
	}
	r.provides = absPaths(spec.Provides()...)
	r.uses, r.order = spec.Uses()
	switch s := spec.(type) {
	case *container.DockerSpec:
		// A fake container has a fake id, shown as docker shows ids.
		r.containerID = ContainerID(cfg.Svcname, cfg.RID)
		r.label = r.containerID[:12] + "@" + s.Image
	case *ip.DockerSpec:
		// The address lives in the container's namespace: down when the
		// container restarted since it was plumbed.
		r.netnsOf = s.ContainerRID
		r.label = s.Label() + "@" + ContainerID(cfg.Svcname, s.ContainerRID)[:12]
	case *syncdrv.RsyncSpec:
		// The reference never starts a sync in a service start: a sync
		// with nothing to report is up (the seed's sync#i0).
		r.initiallyUp = true
	}
	return r, nil
}

// ContainerID returns the id of the fake container of rid in service
// svcname: 64 hex digits, the same in every process. Labels show its first
// 12 digits, as docker does.
func ContainerID(svcname, rid string) string {
	sum := sha256.Sum256([]byte("svckit fake container\x00" + svcname + "\x00" + rid))
	return hex.EncodeToString(sum[:])
}

func absPaths(l ...string) []string {
	out := []string{}
	for _, p := range l {
		if filepath.IsAbs(p) {
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}
