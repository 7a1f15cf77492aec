package svc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/svckit/svckit/internal/atomicfile"
)

// lockHolder is written next to the lock so that a waiting action can say
// who holds it.
type lockHolder struct {
	PID    int       `json:"pid"`
	Node   string    `json:"node"`
	Action string    `json:"action"`
	Since  time.Time `json:"since"`
}

// lock takes the service's action lock (<var>/lock), waiting up to
// timeout; a timeout of 0 tries once and does not wait. One action at a
// time per service, across processes.
func (s *Service) lock(ctx context.Context, action string, timeout time.Duration) (func(), error) {
	if s.varDir == "" {
		return nil, fmt.Errorf("service %s: no var directory to hold the action lock (set Options.Root or Options.VarDir)", s.name)
	}
	if err := os.MkdirAll(s.varDir, 0o755); err != nil {
		return nil, fmt.Errorf("service %s: lock: %w", s.name, err)
	}
	path := filepath.Join(s.varDir, "lock")
	fl := flock.New(path)
	var ok bool
	var err error
	if timeout <= 0 {
		ok, err = fl.TryLock()
	} else {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		ok, err = fl.TryLockContext(wctx, 50*time.Millisecond)
	}
	if !ok || err != nil {
		holder := "unknown holder"
		if b, rerr := os.ReadFile(path + ".holder"); rerr == nil {
			var h lockHolder
			if json.Unmarshal(b, &h) == nil {
				holder = fmt.Sprintf("pid %d (%s on %s since %s)", h.PID, h.Action, h.Node, h.Since.Format(time.RFC3339))
			}
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("service %s: %s: lock %s: %w", s.name, action, path, err)
		}
		waited := "waited " + timeout.String()
		if timeout <= 0 {
			waited = "did not wait (lock wait 0)"
		}
		return nil, fmt.Errorf("service %s: %s: another action holds the lock %s: %s; %s", s.name, action, path, holder, waited)
	}
	h, _ := json.Marshal(lockHolder{PID: os.Getpid(), Node: s.node, Action: action, Since: time.Now()})
	if err := atomicfile.Write(path+".holder", h, 0o644); err != nil {
		fl.Unlock()
		return nil, fmt.Errorf("service %s: lock holder: %w", s.name, err)
	}
	return func() {
		os.Remove(path + ".holder")
		fl.Unlock()
	}, nil
}
