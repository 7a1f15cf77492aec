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
	text string
	up   bool
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
		},
	}
	reg := driver.NewRegistry()
	err := reg.Register(manifest, func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		return &note{Base: cfg.Base(), text: cfg.String("text")}, nil
	})
	fmt.Println(err, reg.IDs())

	d, _ := reg.Lookup("app.note")
	r, _ := d.New(context.Background(), driver.Config{RID: "app#1", Manifest: d.Manifest, Values: map[string]string{"text": "hello", "tags": "a b"}})
	r.Start(context.Background())
	st, _ := r.Status(context.Background())
	fmt.Println(r.RID(), r.DriverID(), r.Tags(), r.Label(), st)
	// Output:
	// <nil> [app.note]
	// app#1 app.note [a b] note hello up
}
