package driver_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// noteSpec is what the note driver knows of a section without any I/O:
// a driver's spec. The manifest points to its parser, so that svc reports
// its errors at the keyword's line and driver/fake builds its stand-in
// from it, with the same label, ordering and errors as the real driver.
type noteSpec struct {
	Text  string
	After string // a rid, or ""
}

func parseNote(cfg driver.Config) (*noteSpec, error) {
	s := &noteSpec{Text: cfg.String("text"), After: cfg.String("after")}
	if s.After != "" && !strings.Contains(s.After, "#") {
		return nil, driver.KeywordErrorf("after", "%q: expected the rid of a resource, like fs#1", s.After)
	}
	return s, nil
}

func (s *noteSpec) Label() string      { return "note " + s.Text }
func (s *noteSpec) Provides() []string { return nil }

// Uses makes the graph scheduler start the note after the resource its
// after keyword names, and after nothing else: with no after, the note
// depends on nothing.
func (s *noteSpec) Uses() ([]string, resource.Ordering) {
	if s.After == "" {
		return nil, resource.OrderByUses
	}
	return []string{"rid:" + s.After}, resource.OrderByUses
}

// note is the resource: the spec, and the I/O. A real driver would talk
// to the system in Start and Stop.
type note struct {
	resource.Base
	noteSpec
	up bool
}

func (n *note) Status(context.Context) (resource.Status, error) {
	if n.up {
		return resource.Up, nil
	}
	return resource.Down, nil
}
func (n *note) Start(context.Context) error { n.up = true; return nil }
func (n *note) Stop(context.Context) error  { n.up = false; return nil }

// A driver is a manifest (its keywords and its spec) and a factory that
// parses the spec and adds I/O. Programs usually register into
// driver.Default() from an init function; a private registry keeps this
// example self-contained.
func ExampleRegistry_Register() {
	manifest := driver.Manifest{
		ID:   "app.note",
		Text: "a note",
		Keywords: []driver.Keyword{
			{Name: "text", Kind: driver.String, Required: true, Text: "what the note says"},
			{Name: "after", Kind: driver.String, Text: "the rid of a resource to start first"},
		},
		Spec: driver.SpecOf(parseNote),
	}
	reg := driver.NewRegistry()
	err := reg.Register(manifest, func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		s, err := parseNote(cfg)
		if err != nil {
			return nil, err
		}
		return &note{Base: cfg.Base(), noteSpec: *s}, nil
	})
	fmt.Println(err, reg.IDs())

	d, _ := reg.Lookup("app.note")
	r, _ := d.New(context.Background(), driver.Config{RID: "app#1", Manifest: d.Manifest, Values: map[string]string{"text": "hello", "tags": "a b", "after": "fs#1"}})
	r.Start(context.Background())
	st, _ := r.Status(context.Background())
	fmt.Println(r.RID(), r.DriverID(), r.Tags(), r.Label(), st)
	uses, order := r.(resource.User).Uses()
	fmt.Println(uses, order == resource.OrderByUses)

	_, err = d.New(context.Background(), driver.Config{RID: "app#2", Manifest: d.Manifest, Values: map[string]string{"text": "x", "after": "fs1"}})
	ke, _ := driver.AsKeywordError(err)
	fmt.Println(ke.Keyword, "->", ke.Err)
	// Output:
	// <nil> [app.note]
	// app#1 app.note [a b] note hello up
	// [rid:fs#1] true
	// after -> "fs1": expected the rid of a resource, like fs#1
}
