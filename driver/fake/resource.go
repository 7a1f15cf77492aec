package fake

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/svckit/svckit/resource"
)

// ErrOrder is wrapped by the error of an action refused by an ordering
// check: the real driver would have failed (device missing, mount point
// busy) because a resource it depends on was not up, or one that depends
// on it still was.
var ErrOrder = errors.New("ordering violation")

// ErrInjected is wrapped by the error of a call failed by a Fault.
var ErrInjected = errors.New("injected fault")

// Resource is a fake resource. Type-assert a resource built by a fake
// registry to *Resource to read its state.
type Resource struct {
	resource.Base

	f       *fakes
	svc     *service
	node    string
	svcname string
	varDir  string

	label    string
	provides []string
	// uses is what the resource needs up; order tells whether the
	// scheduler orders it by uses or by group (uses then ignored).
	uses  []string
	order resource.Ordering
	// netnsOf is the container rid whose network namespace holds this
	// resource (ip.docker).
	netnsOf     string
	initiallyUp bool
	containerID string
}

var (
	_ resource.Resource           = (*Resource)(nil)
	_ resource.Provisioner        = (*Resource)(nil)
	_ resource.Unprovisioner      = (*Resource)(nil)
	_ resource.UnprovisionPlanner = (*Resource)(nil)
	_ resource.ProvisionChecker   = (*Resource)(nil)
	_ resource.Provider           = (*Resource)(nil)
	_ resource.User               = (*Resource)(nil)
)

// Label is the print status label of the real driver.
func (r *Resource) Label() string { return r.label }

// Provides returns the paths the resource makes available when up.
func (r *Resource) Provides() []string { return append([]string{}, r.provides...) }

// Uses returns what the resource needs up and how it is ordered: by group
// when the real driver cannot tell what it uses.
func (r *Resource) Uses() ([]string, resource.Ordering) {
	return slices.Clone(r.uses), r.order
}

// ContainerID returns the id of a fake container, "" for other resources.
func (r *Resource) ContainerID() string { return r.containerID }

// State returns the saved state of the resource.
func (r *Resource) State(ctx context.Context) (State, error) {
	if err := ctx.Err(); err != nil {
		return State{}, err
	}
	st, ok, err := r.svc.read(r.ID)
	if !ok && err == nil {
		st.Driver, st.Up = r.Driver, r.initiallyUp
	}
	return st, err
}

// isUp tells whether the resource runs: its saved state, and for an
// address in a container, that the container still runs in the namespace
// the address was plumbed into.
func (r *Resource) isUp() (bool, error) {
	st, ok, err := r.svc.read(r.ID)
	if err != nil {
		return false, err
	}
	if !ok {
		return r.initiallyUp, nil
	}
	return r.upWith(st)
}

func (r *Resource) upWith(st State) (bool, error) {
	if !st.Up || r.netnsOf == "" {
		return st.Up, nil
	}
	cst, _, err := r.svc.read(r.netnsOf)
	if err != nil {
		return false, err
	}
	return cst.Up && cst.Starts == st.Netns, nil
}

// Status is up or down (stdby up, stdby down for standby resources).
func (r *Resource) Status(ctx context.Context) (st resource.Status, err error) {
	err = r.call(ctx, ActionStatus, func(ctx context.Context, began time.Time) error {
		up, err := r.isUp()
		if err != nil {
			return err
		}
		switch {
		case up && r.FlagSet.Standby:
			st = resource.StandbyUp
		case up:
			st = resource.Up
		case r.FlagSet.Standby:
			st = resource.StandbyDown
		default:
			st = resource.Down
		}
		return nil
	})
	if err != nil {
		return resource.Undef, err
	}
	return st, nil
}

// Provisioned tells whether Provision ran since the last Unprovision.
func (r *Resource) Provisioned(ctx context.Context) (bool, error) {
	st, err := r.State(ctx)
	return st.Provisioned, err
}

// Start marks the resource up, after checking that what it uses is up.
func (r *Resource) Start(ctx context.Context) error {
	return r.call(ctx, ActionStart, func(ctx context.Context, began time.Time) error {
		if err := r.checkUses(); err != nil {
			return err
		}
		return r.change(ctx, began, ActionStart, func(st *State, up bool) error {
			if !up {
				st.Starts++
			}
			st.Up = true
			if r.containerID != "" {
				st.ContainerID = r.containerID
			}
			if r.netnsOf != "" {
				cst, _, err := r.svc.read(r.netnsOf)
				if err != nil {
					return err
				}
				st.Netns = cst.Starts
			}
			return nil
		})
	})
}

// Stop marks the resource down, after checking that no sibling using it
// is up.
func (r *Resource) Stop(ctx context.Context) error {
	return r.call(ctx, ActionStop, func(ctx context.Context, began time.Time) error {
		if err := r.checkUsers(); err != nil {
			if r.Driver == "container.dockerd" && errors.Is(err, ErrOrder) {
				// As the real private daemon: kept while containers
				// still run on it (a stop of some pods only).
				resource.Logger(ctx).Info("dockerd kept: containers still run on it", "rid", r.ID, "users", err.Error())
				return nil
			}
			return err
		}
		return r.change(ctx, began, ActionStop, func(st *State, up bool) error {
			st.Up = false
			return nil
		})
	})
}

// Provision marks the resource provisioned; it does not start it. Like
// the real drivers (mkfs needs the device), it needs what it uses up.
func (r *Resource) Provision(ctx context.Context) error {
	return r.call(ctx, ActionProvision, func(ctx context.Context, began time.Time) error {
		if err := r.checkUses(); err != nil {
			return err
		}
		return r.change(ctx, began, ActionProvision, func(st *State, up bool) error {
			if !st.Provisioned {
				st.CreatedByProvision = true
			}
			st.Provisioned = true
			if r.containerID != "" {
				st.ContainerID = r.containerID
			}
			return nil
		})
	})
}

// Unprovision marks the resource not provisioned; it refuses while the
// resource is up, as deleting a disk in use would fail. A sync, up without
// being started, holds nothing to delete and is not refused. A disk that
// this fake's Provision did not create is kept (and logged) unless
// resource.IsForced(ctx).
func (r *Resource) Unprovision(ctx context.Context) error {
	return r.call(ctx, ActionUnprovision, func(ctx context.Context, began time.Time) error {
		up, err := r.isUp()
		if err != nil {
			return err
		}
		if up && !r.initiallyUp {
			return fmt.Errorf("refused: %s is up, stop it first", r.ID)
		}
		return r.change(ctx, began, ActionUnprovision, func(st *State, up bool) error {
			if up && !r.initiallyUp {
				return fmt.Errorf("refused: %s is up, stop it first", r.ID)
			}
			if resource.Group(r.Driver) == "disk" && st.Provisioned && !st.CreatedByProvision && !resource.IsForced(ctx) {
				resource.Logger(ctx).Warn("kept: not created by this service (--force deletes it)", "rid", r.ID)
				return nil
			}
			st.Provisioned = false
			st.CreatedByProvision = false
			st.ContainerID = ""
			return nil
		})
	})
}

// PlanUnprovision says, for a disk, whether Unprovision would delete it or
// keep it (not created by its Provision); other groups say nothing.
func (r *Resource) PlanUnprovision(ctx context.Context) ([]string, error) {
	if resource.Group(r.Driver) != "disk" {
		return nil, nil
	}
	st, err := r.State(ctx)
	switch {
	case err != nil:
		return nil, err
	case !st.Provisioned:
		return []string{"nothing to delete: " + r.label + " is not provisioned"}, nil
	case st.CreatedByProvision:
		return []string{"delete " + r.label}, nil
	case resource.IsForced(ctx):
		return []string{"delete " + r.label + " (forced; not created by this service)"}, nil
	}
	return []string{"kept " + r.label + ": not created by this service (--force deletes it)"}, nil
}

// change waits until the latency of action has passed since the call
// began, and saves the state edit makes. The rid lock is held from the
// read to the write, so that concurrent calls on one resource apply one
// after the other.
func (r *Resource) change(ctx context.Context, began time.Time, action string, edit func(st *State, up bool) error) error {
	if err := sleepUntil(ctx, began.Add(r.f.latency(r.ID, r.Driver, action))); err != nil {
		return err
	}
	l := r.svc.lock(r.ID)
	l.Lock()
	defer l.Unlock()
	st, ok, err := r.svc.read(r.ID)
	if err != nil {
		return err
	}
	up := r.initiallyUp
	if ok {
		if up, err = r.upWith(st); err != nil {
			return err
		}
	} else {
		st.Up = r.initiallyUp
	}
	st.RID, st.Driver = r.ID, r.Driver
	if err := edit(&st, up); err != nil {
		return err
	}
	st.Updated = time.Now().UTC()
	return r.svc.write(st)
}

// call runs one action: records it, skips it in a dry run, counts it and
// injects the fault the options ask for.
func (r *Resource) call(ctx context.Context, action string, do func(ctx context.Context, began time.Time) error) (err error) {
	c := Call{
		Service:  r.svcname,
		Node:     r.node,
		RID:      r.ID,
		DriverID: r.Driver,
		Action:   action,
		Start:    time.Now(),
		DryRun:   resource.IsDryRun(ctx),
	}
	defer func() {
		if rec := r.f.opts.Recorder; rec != nil {
			c.End = time.Now()
			if err != nil {
				c.Err = err.Error()
			}
			rec.add(c)
		}
	}()
	log := resource.Logger(ctx).With("rid", r.ID, "driver", r.Driver, "fake", true)
	if err := ctx.Err(); err != nil {
		return resource.Errorf(r.ID, action, "%w", err)
	}
	if c.DryRun && action != ActionStatus {
		log.Debug("would " + action)
		return nil
	}
	n, fault := r.f.count(r.svc.key, r.node, r.ID, action)
	if fault == nil && r.f.takeFailNext(r.svc.key, r.ID, action) {
		fault = &Fault{RID: r.ID, Action: action, Message: fmt.Sprintf("%s call #%d (fail next)", action, n)}
	}
	if fault != nil {
		msg := fault.Message
		if msg == "" {
			msg = fmt.Sprintf("%s call #%d", action, n)
		}
		// The call still takes its time: a real failure is not instant.
		if err := sleepUntil(ctx, c.Start.Add(r.f.latency(r.ID, r.Driver, action))); err != nil {
			return resource.Errorf(r.ID, action, "%w", err)
		}
		log.Debug(action+" failed", "error", msg)
		return resource.Errorf(r.ID, action, "%s: %w", msg, ErrInjected)
	}
	if action == ActionStatus {
		if err := sleepUntil(ctx, c.Start.Add(r.f.latency(r.ID, r.Driver, action))); err != nil {
			return resource.Errorf(r.ID, action, "%w", err)
		}
	}
	if err := do(ctx, c.Start); err != nil {
		log.Debug(action+" failed", "error", err)
		return resource.Errorf(r.ID, action, "%w", err)
	}
	if action != ActionStatus {
		log.Debug(action + " done")
	}
	return nil
}

// checkUses refuses when a sibling providing something r uses is not up.
func (r *Resource) checkUses() error {
	var missing []string
	for _, e := range r.svc.deps().uses[r.ID] {
		up, err := e.provider.isUp()
		if err != nil {
			return err
		}
		if !up {
			missing = append(missing, fmt.Sprintf("%s (providing %s)", e.provider.ID, e.name))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	return fmt.Errorf("%s %s not up: %w", strings.Join(missing, ", "), verb, ErrOrder)
}

// checkUsers refuses when a sibling using r is up. An address in r's
// network namespace does not count: it goes away with the container.
func (r *Resource) checkUsers() error {
	var busy []string
	for _, e := range r.svc.deps().usedBy[r.ID] {
		if e.user.netnsOf == r.ID {
			continue
		}
		up, err := e.user.isUp()
		if err != nil {
			return err
		}
		if up {
			busy = append(busy, fmt.Sprintf("%s (using %s)", e.user.ID, e.name))
		}
	}
	if len(busy) == 0 {
		return nil
	}
	verb := "is"
	if len(busy) > 1 {
		verb = "are"
	}
	return fmt.Errorf("%s %s still up: %w", strings.Join(busy, ", "), verb, ErrOrder)
}
