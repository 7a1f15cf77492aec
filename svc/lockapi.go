package svc

import (
	"context"
	"time"
)

// Lock takes the service's action lock (<var>/lock), the one every action
// of Do takes, for a caller that acts on the service outside Do (the node
// daemon's compliance fix): while it is held, no action of svcmgr or of
// another process runs on the service. It waits up to timeout (0: tries
// once) and names the holder when it gives up. Call the returned function
// to release it; never call Do while holding it (Do would wait for it).
func (s *Service) Lock(ctx context.Context, action string, timeout time.Duration) (func(), error) {
	return s.lock(ctx, action, timeout)
}
