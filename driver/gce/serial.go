package gce

import (
	"context"
	"fmt"
)

// holdInstance waits until no other attach or detach of this client runs
// on the instance, or ctx ends, and returns the function that lets the
// next one go. GCE runs one disk operation at a time on an instance and
// fails the others with RESOURCE_NOT_READY: a node provisioning its eight
// pods' disks at once would spend its OperationAttempts on those failures
// and give up, where waiting its turn here costs nothing. Other clients
// (other processes) can still meet RESOURCE_NOT_READY, which mutate
// retries.
func (c *Client) holdInstance(ctx context.Context, project, zone, instance string) (func(), error) {
	key := project + "/" + zone + "/" + instance
	c.instMu.Lock()
	if c.instOps == nil {
		c.instOps = map[string]chan struct{}{}
	}
	ch, ok := c.instOps[key]
	if !ok {
		ch = make(chan struct{}, 1)
		c.instOps[key] = ch
	}
	c.instMu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, &Error{Op: fmt.Sprintf("wait for the other disk operations of instance %s", instance), Err: ctx.Err()}
	}
}
