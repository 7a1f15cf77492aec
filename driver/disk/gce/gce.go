// Package gce is the disk.gce driver: Google Compute Engine persistent
// disks, created at provision, attached to the node that starts the
// resource (moved from the node that had them), detached at stop.
//
// Import it for its side effect to register disk.gce in the default
// registry, or register NewFactory with options in a registry of your own
// (tests point it at a gcetest server):
//
//	reg.Register(disk.GCE, diskgce.NewFactory(diskgce.WithGCE(gce.WithEndpoint(url))))
//
// A disk of [disk#01] in service spdsvc01 is attached with the device
// name spdsvc01.disk.01.<index in names>, so that udev shows it as
// /dev/disk/by-id/google-spdsvc01.disk.01.0 (dev_dir changes the
// directory where start waits for it).
//
// Provision records the id and self link of each disk it creates in the
// service's state directory on the node that ran it; unprovision deletes a
// disk only when that record matches the disk there now (a disk deleted
// and created again by someone else under the same name has another id),
// and keeps and logs any other disk (one that existed before provision,
// or created by another node's provision) unless forced
// (resource.WithForce, svcmgr unprovision --force).
package gce

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/disk"
	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/internal/created"
	"github.com/svckit/svckit/resource"
)

func init() { driver.Register(disk.GCE, NewFactory()) }

// Option configures the factory.
type Option func(*factory)

// WithGCE sets the compute client options (endpoint, metadata host,
// retry and poll pacing). The gce_endpoint keyword wins over the endpoint
// set here.
func WithGCE(opts ...gcec.Option) Option {
	return func(f *factory) { f.gce.Apply(opts...) }
}

type factory struct {
	gce *gcec.Shared
}

// NewFactory returns the disk.gce factory. The resources it makes share
// one compute client per endpoint.
func NewFactory(opts ...Option) driver.Factory {
	f := &factory{gce: gcec.NewShared()}
	for _, o := range opts {
		o(f)
	}
	return f.new
}

func (f *factory) new(_ context.Context, cfg driver.Config) (resource.Resource, error) {
	s, err := disk.ParseGCESpec(cfg)
	if err != nil {
		return nil, err
	}
	return &Disk{
		Base:    cfg.Base(),
		GCESpec: *s,
		API:     f.gce.API(cfg),
		created: created.Open(cfg.VarDir),
	}, nil
}

// Disk is a disk.gce resource, one or more persistent disks: the spec,
// and the compute API at action time.
type Disk struct {
	resource.Base
	disk.GCESpec
	gcec.API
	// created keeps the records of the disks provision created.
	created created.Store
}

var (
	_ resource.Provisioner        = (*Disk)(nil)
	_ resource.Unprovisioner      = (*Disk)(nil)
	_ resource.UnprovisionPlanner = (*Disk)(nil)
	_ resource.ProvisionChecker   = (*Disk)(nil)
)

func (d *Disk) client(ctx context.Context, action string) (*gcec.Client, gcec.Location, error) {
	return d.API.Client(ctx, d.RID(), action)
}

// diskState is what one disk looks like from this instance.
type diskState struct {
	disk      *computepb.Disk // nil when it does not exist
	here      *computepb.AttachedDisk
	elsewhere []string // other instances it is attached to
}

func (d *Disk) state(ctx context.Context, c *gcec.Client, loc gcec.Location, me *computepb.Instance, name string) (diskState, error) {
	var st diskState
	pd, err := c.GetDisk(ctx, loc.Project, loc.Zone, name)
	if gcec.IsNotFound(err) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.disk = pd
	for _, a := range me.GetDisks() {
		if gcec.SameResource(a.GetSource(), pd.GetSelfLink()) || gcec.SameResource(a.GetSource(), gcec.DiskLink(loc.Project, loc.Zone, name)) {
			st.here = a
		}
	}
	for _, u := range pd.GetUsers() {
		if !gcec.SameResource(u, gcec.InstanceLink(loc.Project, loc.Zone, loc.Instance)) {
			st.elsewhere = append(st.elsewhere, u)
		}
	}
	return st, nil
}

// Status is up when every disk is attached to this instance under its
// device name, down when none is, warn in between.
func (d *Disk) Status(ctx context.Context) (resource.Status, error) {
	c, loc, err := d.client(ctx, "status")
	if err != nil {
		return resource.Undef, err
	}
	me, err := c.GetInstance(ctx, loc.Project, loc.Zone, loc.Instance)
	if err != nil {
		return resource.Undef, err
	}
	var up int
	var notes []string
	for i, name := range d.Names {
		st, err := d.state(ctx, c, loc, me, name)
		if err != nil {
			return resource.Undef, err
		}
		switch {
		case st.disk == nil:
			notes = append(notes, name+" does not exist")
		case st.here != nil && st.here.GetDeviceName() != d.DeviceName(i):
			notes = append(notes, fmt.Sprintf("%s is attached as %s, expected %s", name, st.here.GetDeviceName(), d.DeviceName(i)))
		case st.here != nil:
			up++
		case len(st.elsewhere) > 0:
			notes = append(notes, fmt.Sprintf("%s is attached to %s", name, names(st.elsewhere)))
		}
	}
	var note error
	if len(notes) > 0 {
		note = fmt.Errorf("%s", strings.Join(notes, "; "))
	}
	switch {
	case up == len(d.Names) && note == nil:
		return resource.Up, nil
	case up == 0:
		return resource.Down, note
	}
	return resource.Warn, note
}

// Provisioned tells whether every disk exists.
func (d *Disk) Provisioned(ctx context.Context) (bool, error) {
	c, loc, err := d.client(ctx, "provisioned")
	if err != nil {
		return false, err
	}
	for _, name := range d.Names {
		if _, err := c.GetDisk(ctx, loc.Project, loc.Zone, name); gcec.IsNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, resource.Errorf(d.RID(), "provisioned", "%w", err)
		}
	}
	return true, nil
}

// Provision creates the disks that do not exist. A disk that exists is
// left as it is: never re-created, never resized.
func (d *Disk) Provision(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", d.RID())
	c, loc, err := d.client(ctx, "provision")
	if err != nil {
		return err
	}
	for _, name := range d.Names {
		pd, err := c.GetDisk(ctx, loc.Project, loc.Zone, name)
		if err == nil {
			if want := gib(d.Size); want > 0 && pd.GetSizeGb() != want {
				log.Warn("disk exists with another size: left as is", "disk", name, "size_gb", pd.GetSizeGb(), "configured_gb", want)
			} else {
				log.Info("disk exists", "disk", name)
			}
			continue
		}
		if !gcec.IsNotFound(err) {
			return resource.Errorf(d.RID(), "provision", "%w", err)
		}
		if d.Size <= 0 && d.Image == "" && d.SourceSnapshot == "" {
			return resource.Errorf(d.RID(), "provision", "disk %s does not exist and size is not set: set size (like size = 17g) or image or source_snapshot", name)
		}
		pd = &computepb.Disk{Name: proto.String(name), Type: proto.String(d.typeLink(loc))}
		if g := gib(d.Size); g > 0 {
			pd.SizeGb = proto.Int64(g)
		}
		if d.Description != "" {
			pd.Description = proto.String(d.Description)
		}
		if d.Image != "" {
			pd.SourceImage = proto.String(d.Image)
		}
		if d.SourceSnapshot != "" {
			pd.SourceSnapshot = proto.String(d.SourceSnapshot)
		}
		if resource.IsDryRun(ctx) {
			log.Info("would create disk", "disk", name, "size_gb", pd.GetSizeGb(), "type", d.DiskType)
			continue
		}
		log.Info("create disk", "disk", name, "size_gb", pd.GetSizeGb(), "type", d.DiskType)
		if err := c.InsertDisk(ctx, loc.Project, loc.Zone, pd); err != nil {
			if gcec.IsConflict(err) {
				// Another node created it meanwhile: it exists, as asked.
				log.Info("disk created meanwhile by another node", "disk", name)
				continue
			}
			return resource.Errorf(d.RID(), "provision", "%w", err)
		}
		if err := d.record(ctx, c, loc, name); err != nil {
			return err
		}
	}
	return nil
}

// record keeps the id and self link of the disk name that provision just
// created, so that unprovision knows it for this service's.
func (d *Disk) record(ctx context.Context, c *gcec.Client, loc gcec.Location, name string) error {
	log := resource.Logger(ctx).With("rid", d.RID())
	pd, err := c.GetDisk(ctx, loc.Project, loc.Zone, name)
	if err != nil {
		return resource.Errorf(d.RID(), "provision", "disk %s created, but reading it back to record its id failed: %w (unprovision will keep it unless forced)", name, err)
	}
	err = d.created.PutGCEDisk(d.RID(), gcec.DiskLink(loc.Project, loc.Zone, name), pd.GetId(), pd.GetSelfLink())
	switch {
	case errors.Is(err, created.ErrNoStateDir):
		log.Warn("disk created but not recorded", "disk", name, "reason", err.Error())
	case err != nil:
		return resource.Errorf(d.RID(), "provision", "disk %s created, but its record was not kept: %w (unprovision will keep it unless forced)", name, err)
	}
	return nil
}

// unprovisionStep is what unprovision does with one disk.
type unprovisionStep struct {
	name   string
	st     diskState
	delete bool
	line   string // "delete disk d1 (id 7)", "kept disk d1: ..."
}

// decide says what unprovision does with each disk under ctx (forced or
// not), reading their state and this service's records.
func (d *Disk) decide(ctx context.Context, c *gcec.Client, loc gcec.Location) ([]unprovisionStep, error) {
	me, err := c.GetInstance(ctx, loc.Project, loc.Zone, loc.Instance)
	if err != nil {
		return nil, err
	}
	steps := make([]unprovisionStep, len(d.Names))
	for i, name := range d.Names {
		s := &steps[i]
		s.name = name
		if s.st, err = d.state(ctx, c, loc, me, name); err != nil {
			return nil, err
		}
		if s.st.disk == nil {
			s.line = "nothing to delete: disk " + name + " does not exist"
			continue
		}
		id := s.st.disk.GetId()
		owned, why, err := d.created.OwnsGCEDisk(gcec.DiskLink(loc.Project, loc.Zone, name), id)
		switch {
		case err != nil:
			return nil, err
		case owned:
			s.delete, s.line = true, fmt.Sprintf("delete disk %s (id %d)", name, id)
		case resource.IsForced(ctx):
			s.delete, s.line = true, fmt.Sprintf("delete disk %s (id %d; forced; %s)", name, id, why)
		default:
			s.line = fmt.Sprintf("kept disk %s (id %d): %s (--force deletes it)", name, id, why)
		}
		if s.delete && len(s.st.elsewhere) > 0 {
			s.line = fmt.Sprintf("refuse: disk %s is attached to %s", name, names(s.st.elsewhere))
		}
	}
	return steps, nil
}

// PlanUnprovision says what Unprovision would do with each disk.
func (d *Disk) PlanUnprovision(ctx context.Context) ([]string, error) {
	c, loc, err := d.client(ctx, "unprovision")
	if err != nil {
		return nil, err
	}
	steps, err := d.decide(ctx, c, loc)
	if err != nil {
		return nil, resource.Errorf(d.RID(), "unprovision", "%w", err)
	}
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.line
	}
	return out, nil
}

// Unprovision deletes the disks this service created (or, forced, every
// disk). It refuses, before deleting any, when a disk to delete is
// attached to another instance; a disk attached here is detached first.
// A disk it keeps is logged with the reason.
func (d *Disk) Unprovision(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", d.RID())
	c, loc, err := d.client(ctx, "unprovision")
	if err != nil {
		return err
	}
	steps, err := d.decide(ctx, c, loc)
	if err != nil {
		return resource.Errorf(d.RID(), "unprovision", "%w", err)
	}
	for _, s := range steps {
		if s.delete && len(s.st.elsewhere) > 0 {
			return resource.Errorf(d.RID(), "unprovision", "disk %s is attached to %s: stop the service there first; nothing deleted", s.name, names(s.st.elsewhere))
		}
	}
	for _, s := range steps {
		switch {
		case s.st.disk == nil:
			log.Info("disk does not exist", "disk", s.name)
			continue
		case !s.delete:
			log.Warn(s.line, "disk", s.name)
			continue
		case resource.IsDryRun(ctx):
			log.Info("would "+s.line, "disk", s.name)
			continue
		}
		if s.st.here != nil {
			log.Info("detach disk", "disk", s.name, "device", s.st.here.GetDeviceName())
			if err := c.DetachDisk(ctx, loc.Project, loc.Zone, loc.Instance, s.st.here.GetDeviceName()); err != nil {
				return resource.Errorf(d.RID(), "unprovision", "%w", err)
			}
		}
		log.Info(s.line, "disk", s.name)
		if err := c.DeleteDisk(ctx, loc.Project, loc.Zone, s.name); err != nil && !gcec.IsNotFound(err) {
			return resource.Errorf(d.RID(), "unprovision", "%w", err)
		}
		if err := d.created.Delete(created.KindGCEDisk, gcec.DiskLink(loc.Project, loc.Zone, s.name)); err != nil {
			log.Warn("disk deleted, its record not", "disk", s.name, "error", err.Error())
		}
	}
	return nil
}

// Start attaches every disk to this instance, detaching it first from
// another instance that has it (a move), and waits for the device nodes.
// When one disk fails, the disks this start attached are detached again.
func (d *Disk) Start(ctx context.Context) (err error) {
	log := resource.Logger(ctx).With("rid", d.RID())
	c, loc, err := d.client(ctx, "start")
	if err != nil {
		return err
	}
	me, err := c.GetInstance(ctx, loc.Project, loc.Zone, loc.Instance)
	if err != nil {
		return resource.Errorf(d.RID(), "start", "%w", err)
	}
	var attached []string // device names attached by this call
	defer func() {
		if err == nil || len(attached) == 0 || resource.IsDryRun(ctx) {
			return
		}
		// The action's context may be what failed: undo with a fresh
		// deadline.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		for _, dev := range attached {
			log.Info("start failed: detach again", "device", dev)
			if derr := c.DetachDisk(uctx, loc.Project, loc.Zone, loc.Instance, dev); derr != nil {
				log.Error("detach after failed start", "device", dev, "error", derr)
			}
		}
	}()
	for i, name := range d.Names {
		dev := d.DeviceName(i)
		st, err := d.state(ctx, c, loc, me, name)
		if err != nil {
			return resource.Errorf(d.RID(), "start", "%w", err)
		}
		if st.disk == nil {
			return resource.Errorf(d.RID(), "start", "disk %s does not exist: provision the service first", name)
		}
		if st.here != nil {
			if st.here.GetDeviceName() != dev {
				return resource.Errorf(d.RID(), "start", "disk %s is attached to %s as %s, expected %s: detach it by hand if it is not in use", name, loc.Instance, st.here.GetDeviceName(), dev)
			}
			log.Info("disk already attached", "disk", name, "device", dev)
			if err := d.waitDevice(ctx, i); err != nil {
				return err
			}
			continue
		}
		// A move: the disk is read-write, attached to one instance at a
		// time. If the attach below then fails, the disk is left attached
		// nowhere, which the next start of either node repairs.
		for _, u := range st.elsewhere {
			if err := d.detachFrom(ctx, c, loc, u, st.disk); err != nil {
				return resource.Errorf(d.RID(), "start", "move disk %s: %w", name, err)
			}
		}
		if resource.IsDryRun(ctx) {
			log.Info("would attach disk", "disk", name, "device", dev)
			continue
		}
		log.Info("attach disk", "disk", name, "device", dev)
		if err := c.AttachDisk(ctx, loc.Project, loc.Zone, loc.Instance, name, dev); err != nil {
			return resource.Errorf(d.RID(), "start", "%w", err)
		}
		attached = append(attached, dev)
		if err := d.waitDevice(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// detachFrom detaches pd from the instance at link (another node).
func (d *Disk) detachFrom(ctx context.Context, c *gcec.Client, loc gcec.Location, link string, pd *computepb.Disk) error {
	log := resource.Logger(ctx).With("rid", d.RID())
	other := gcec.LastSegment(link)
	otherZone := loc.Zone
	if parts := strings.Split(link, "/"); len(parts) >= 4 && parts[len(parts)-4] == "zones" {
		otherZone = parts[len(parts)-3]
	}
	in, err := c.GetInstance(ctx, loc.Project, otherZone, other)
	if err != nil {
		return err
	}
	for _, a := range in.GetDisks() {
		if !gcec.SameResource(a.GetSource(), pd.GetSelfLink()) {
			continue
		}
		if resource.IsDryRun(ctx) {
			log.Info("would detach disk from the other instance", "disk", pd.GetName(), "instance", other, "device", a.GetDeviceName())
			return nil
		}
		log.Info("detach disk from the other instance", "disk", pd.GetName(), "instance", other, "device", a.GetDeviceName())
		return c.DetachDisk(ctx, loc.Project, otherZone, other, a.GetDeviceName())
	}
	return nil
}

// waitDevice waits until udev shows the i-th disk.
func (d *Disk) waitDevice(ctx context.Context, i int) error {
	if resource.IsDryRun(ctx) {
		return nil
	}
	p := d.DevicePath(i)
	deadline := time.Now().Add(d.AttachTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return resource.Errorf(d.RID(), "start", "disk %s attached but %s did not appear within %s (attach_timeout)", d.Names[i], p, d.AttachTimeout)
		}
		select {
		case <-ctx.Done():
			return resource.Errorf(d.RID(), "start", "waiting for %s: %w", p, ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop detaches the disks from this instance. Standby disks (always_on)
// are kept attached by the scheduler, which does not stop them unless
// forced; the next start on another node moves them.
func (d *Disk) Stop(ctx context.Context) error {
	log := resource.Logger(ctx).With("rid", d.RID())
	c, loc, err := d.client(ctx, "stop")
	if err != nil {
		return err
	}
	me, err := c.GetInstance(ctx, loc.Project, loc.Zone, loc.Instance)
	if err != nil {
		return resource.Errorf(d.RID(), "stop", "%w", err)
	}
	for _, name := range d.Names {
		st, err := d.state(ctx, c, loc, me, name)
		if err != nil {
			return resource.Errorf(d.RID(), "stop", "%w", err)
		}
		if st.here == nil {
			log.Info("disk not attached here", "disk", name)
			continue
		}
		if resource.IsDryRun(ctx) {
			log.Info("would detach disk", "disk", name, "device", st.here.GetDeviceName())
			continue
		}
		log.Info("detach disk", "disk", name, "device", st.here.GetDeviceName())
		if err := c.DetachDisk(ctx, loc.Project, loc.Zone, loc.Instance, st.here.GetDeviceName()); err != nil {
			return resource.Errorf(d.RID(), "stop", "%w", err)
		}
	}
	return nil
}

func (d *Disk) typeLink(loc gcec.Location) string {
	t := d.DiskType
	if t == "" {
		t = "pd-standard"
	}
	if strings.Contains(t, "/") {
		return t
	}
	return "projects/" + loc.Project + "/zones/" + loc.Zone + "/diskTypes/" + t
}

// gib rounds a byte count up to GiB, the unit of sizeGb.
func gib(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return (n + 1<<30 - 1) >> 30
}

func names(links []string) string {
	out := make([]string, len(links))
	for i, l := range links {
		out[i] = gcec.LastSegment(l)
	}
	return strings.Join(out, ", ")
}
