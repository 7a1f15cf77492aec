package gce

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/proto"
)

// GetDisk returns the disk name of zone; IsNotFound(err) when it does not
// exist.
func (c *Client) GetDisk(ctx context.Context, project, zone, name string) (*computepb.Disk, error) {
	d, err := c.disks.Get(ctx, &computepb.GetDiskRequest{Project: project, Zone: zone, Disk: name}, c.callOpts()...)
	if err != nil {
		return nil, &Error{Op: "get disk " + name, Err: err}
	}
	return d, nil
}

// InsertDisk creates d in zone and waits for the operation.
func (c *Client) InsertDisk(ctx context.Context, project, zone string, d *computepb.Disk) error {
	what := "create disk " + d.GetName()
	return c.mutate(ctx, what, func() (*compute.Operation, error) {
		return c.disks.Insert(ctx, &computepb.InsertDiskRequest{
			Project: project, Zone: zone, DiskResource: d, RequestId: requestID(),
		}, c.callOpts()...)
	})
}

// DeleteDisk deletes the disk name of zone and waits for the operation.
func (c *Client) DeleteDisk(ctx context.Context, project, zone, name string) error {
	what := "delete disk " + name
	return c.mutate(ctx, what, func() (*compute.Operation, error) {
		return c.disks.Delete(ctx, &computepb.DeleteDiskRequest{
			Project: project, Zone: zone, Disk: name, RequestId: requestID(),
		}, c.callOpts()...)
	})
}

// GetInstance returns the instance name of zone.
func (c *Client) GetInstance(ctx context.Context, project, zone, name string) (*computepb.Instance, error) {
	i, err := c.instances.Get(ctx, &computepb.GetInstanceRequest{Project: project, Zone: zone, Instance: name}, c.callOpts()...)
	if err != nil {
		return nil, &Error{Op: "get instance " + name, Err: err}
	}
	return i, nil
}

// AttachDisk attaches the disk of zone to instance, read-write, under
// deviceName, and waits for the operation.
func (c *Client) AttachDisk(ctx context.Context, project, zone, instance, disk, deviceName string) error {
	what := fmt.Sprintf("attach disk %s to %s as %s", disk, instance, deviceName)
	release, err := c.holdInstance(ctx, project, zone, instance)
	if err != nil {
		return err
	}
	defer release()
	return c.mutate(ctx, what, func() (*compute.Operation, error) {
		return c.instances.AttachDisk(ctx, &computepb.AttachDiskInstanceRequest{
			Project: project, Zone: zone, Instance: instance, RequestId: requestID(),
			AttachedDiskResource: &computepb.AttachedDisk{
				Source:     proto.String(DiskLink(project, zone, disk)),
				DeviceName: proto.String(deviceName),
				Mode:       proto.String("READ_WRITE"),
				Type:       proto.String("PERSISTENT"),
				AutoDelete: proto.Bool(false),
			},
		}, c.callOpts()...)
	})
}

// DetachDisk detaches the disk attached to instance as deviceName and
// waits for the operation.
func (c *Client) DetachDisk(ctx context.Context, project, zone, instance, deviceName string) error {
	what := fmt.Sprintf("detach %s from %s", deviceName, instance)
	release, err := c.holdInstance(ctx, project, zone, instance)
	if err != nil {
		return err
	}
	defer release()
	return c.mutate(ctx, what, func() (*compute.Operation, error) {
		return c.instances.DetachDisk(ctx, &computepb.DetachDiskInstanceRequest{
			Project: project, Zone: zone, Instance: instance, DeviceName: deviceName, RequestId: requestID(),
		}, c.callOpts()...)
	})
}

// GetRoute returns the route name; IsNotFound(err) when it does not exist.
func (c *Client) GetRoute(ctx context.Context, project, name string) (*computepb.Route, error) {
	r, err := c.routes.Get(ctx, &computepb.GetRouteRequest{Project: project, Route: name}, c.callOpts()...)
	if err != nil {
		return nil, &Error{Op: "get route " + name, Err: err}
	}
	return r, nil
}

// InsertRoute creates r and waits for the operation.
func (c *Client) InsertRoute(ctx context.Context, project string, r *computepb.Route) error {
	what := fmt.Sprintf("create route %s (%s via %s)", r.GetName(), r.GetDestRange(), LastSegment(r.GetNextHopInstance()))
	return c.mutate(ctx, what, func() (*compute.Operation, error) {
		return c.routes.Insert(ctx, &computepb.InsertRouteRequest{
			Project: project, RouteResource: r, RequestId: requestID(),
		}, c.callOpts()...)
	})
}

// DeleteRoute deletes the route name and waits for the operation.
func (c *Client) DeleteRoute(ctx context.Context, project, name string) error {
	what := "delete route " + name
	return c.mutate(ctx, what, func() (*compute.Operation, error) {
		return c.routes.Delete(ctx, &computepb.DeleteRouteRequest{
			Project: project, Route: name, RequestId: requestID(),
		}, c.callOpts()...)
	})
}

// ListRoutes returns the routes of project that match filter (the API's
// filter syntax: `destRange = "10.0.0.34/32"`), every page.
func (c *Client) ListRoutes(ctx context.Context, project, filter string) ([]*computepb.Route, error) {
	req := &computepb.ListRoutesRequest{Project: project}
	if filter != "" {
		req.Filter = proto.String(filter)
	}
	type result struct {
		routes []*computepb.Route
		err    error
	}
	// The generated List does not tie its HTTP requests to ctx: run it
	// aside so that the action returns when ctx ends.
	ch := make(chan result, 1)
	go func() {
		var out []*computepb.Route
		it := c.routes.List(ctx, req, c.callOpts()...)
		for {
			r, err := it.Next()
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				ch <- result{err: err}
				return
			}
			out = append(out, r)
		}
		ch <- result{routes: out}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, &Error{Op: "list routes " + filter, Err: r.err}
		}
		return r.routes, nil
	case <-ctx.Done():
		return nil, &Error{Op: "list routes " + filter, Err: ctx.Err()}
	}
}

// mutate issues a mutation with call (which makes a new request id each
// time) and waits for its operation. An operation that ends with a
// transient error is issued again after a backoff pause, up to
// OperationAttempts times; the error of the last attempt says how many
// were made.
func (c *Client) mutate(ctx context.Context, what string, call func() (*compute.Operation, error)) error {
	bo := gax.Backoff{Initial: c.opts.RetryInitial, Max: c.opts.RetryMax, Multiplier: 2}
	for attempt := 1; ; attempt++ {
		op, err := call()
		if err != nil {
			return &Error{Op: what, Err: err}
		}
		err = c.wait(ctx, what, op)
		var oe *OperationError
		if err == nil || !errors.As(err, &oe) || !oe.Transient() {
			return err
		}
		oe.Attempts = attempt
		if attempt >= c.opts.OperationAttempts {
			return oe
		}
		if serr := gax.Sleep(ctx, bo.Pause()); serr != nil {
			return fmt.Errorf("%w (retry stopped: %v)", oe, serr)
		}
	}
}

// wait waits for op to be done, then turns its error field into an
// *OperationError: a DONE operation that carries only an error field is a
// failure that compute.Operation.Wait does not report.
//
// It asks the API's operations.wait, which answers as soon as the
// operation is done (or after about two minutes, and then it asks
// again): polls at growing intervals would add up to half an operation's
// time to each one, and a node's attachments run one after another. A
// server that does not serve operations.wait (404, 405, 501) is polled.
func (c *Client) wait(ctx context.Context, what string, op *compute.Operation) error {
	p := op.Proto()
	for p.GetStatus() != computepb.Operation_DONE {
		q, err := c.waitOnce(ctx, p)
		if err == nil {
			p = q
			continue
		}
		if ctx.Err() != nil {
			return &Error{Op: fmt.Sprintf("%s: waiting for operation %s", what, op.Name()), Err: err}
		}
		switch HTTPCode(err) {
		case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented:
			return c.poll(ctx, what, op)
		}
		return &Error{Op: fmt.Sprintf("%s: wait for operation %s", what, op.Name()), Err: err}
	}
	if len(p.GetError().GetErrors()) > 0 || p.GetHttpErrorStatusCode() >= 300 {
		return operationError(what, p)
	}
	return nil
}

// waitOnce asks operations.wait of the operation's zone, or of the
// global operations when it has no zone.
func (c *Client) waitOnce(ctx context.Context, p *computepb.Operation) (*computepb.Operation, error) {
	project := projectOf(p.GetSelfLink())
	if z := p.GetZone(); z != "" {
		return c.zoneOps.Wait(ctx, &computepb.WaitZoneOperationRequest{Project: project, Zone: LastSegment(z), Operation: p.GetName()}, c.callOpts()...)
	}
	return c.globalOps.Wait(ctx, &computepb.WaitGlobalOperationRequest{Project: project, Operation: p.GetName()}, c.callOpts()...)
}

// projectOf is the project of a resource link (".../projects/P/...").
func projectOf(link string) string {
	_, rest, ok := strings.Cut(link, "projects/")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "/")
	return p
}

// poll polls op until it is done, at growing intervals (PollInitial to
// PollMax), for servers without operations.wait.
func (c *Client) poll(ctx context.Context, what string, op *compute.Operation) error {
	bo := gax.Backoff{Initial: c.opts.PollInitial, Max: c.opts.PollMax, Multiplier: 1.5}
	for !op.Done() {
		if err := gax.Sleep(ctx, bo.Pause()); err != nil {
			return &Error{Op: fmt.Sprintf("%s: waiting for operation %s", what, op.Name()), Err: err}
		}
		if err := op.Poll(ctx, c.callOpts()...); err != nil {
			// Poll fails on an operation that ended with an HTTP error
			// status, after recording it.
			if op.Done() {
				return operationError(what, op.Proto())
			}
			return &Error{Op: fmt.Sprintf("%s: poll operation %s", what, op.Name()), Err: err}
		}
	}
	if p := op.Proto(); len(p.GetError().GetErrors()) > 0 || p.GetHttpErrorStatusCode() >= 300 {
		return operationError(what, p)
	}
	return nil
}

// requestID makes the UUID the API uses to recognise a replayed mutation:
// a retry after a lost answer returns the first operation instead of
// failing with "already exists" or acting twice.
func requestID() *string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	return &s
}
