package driver_test

import (
	"context"
	"fmt"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// note is a driver of a user's own: a resource that is up when a note has
// been written. A real driver would talk to the system in Start and Stop.
type note struct {
	resource.Base
	text  string
	after string // a rid, or ""
	up    bool
}

// Uses makes the graph scheduler start the note after the resource its
// after keyword names, and after nothing else: with no after, the note
// depends on nothing.
func (n *note) Uses() ([]string, resource.Ordering) {
	if n.after == "" {
		return nil, resource.OrderByUses
	}
	return []string{"rid:" + n.after}, resource.OrderByUses
}

func (n *note) Label() string { return "note " + n.text }
func (n *note) Status(context.Context) (resource.Status, error) {
	if n.up {
		return resource.Up, nil
	}
	return resource.Down, nil
}
func (n *note) Start(context.Context) error { n.up = true; return nil }
func (n *note) Stop(context.Context) error  { n.up = false; return nil }

// A driver is a manifest (its keywords) and a factory. Programs usually
// register into driver.Default() from an init function; a private
// registry keeps this example self-contained.
func ExampleRegistry_Register() {
	manifest := driver.Manifest{
		ID:   "app.note",
		Text: "a note",
		Keywords: []driver.Keyword{
			{Name: "text", Kind: driver.String, Required: true, Text: "what the note says"},
			{Name: "after", Kind: driver.String, Text: "the rid of a resource to start first"},
		},
	}
	reg := driver.NewRegistry()
	err := reg.Register(manifest, func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		return &note{Base: cfg.Base(), text: cfg.String("text"), after: cfg.String("after")}, nil
	})
	fmt.Println(err, reg.IDs())

	d, _ := reg.Lookup("app.note")
	r, _ := d.New(context.Background(), driver.Config{RID: "app#1", Manifest: d.Manifest, Values: map[string]string{"text": "hello", "tags": "a b", "after": "fs#1"}})
	r.Start(context.Background())
	st, _ := r.Status(context.Background())
	fmt.Println(r.RID(), r.DriverID(), r.Tags(), r.Label(), st)
	uses, order := r.(resource.User).Uses()
	fmt.Println(uses, order == resource.OrderByUses)
	// Output:
	// <nil> [app.note]
	// app#1 app.note [a b] note hello up
	// [rid:fs#1] true
}
