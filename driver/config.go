package driver

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/svckit/svckit/resource"
)

// Config is what a factory gets for one section: the service context and
// the section's keyword values, already scoped for this node, with
// references resolved and defaults applied.
type Config struct {
	RID         string
	Manifest    Manifest
	Svcname     string
	Nodename    string
	Nodes       []string
	DRPNodes    []string
	FlexPrimary string
	// VarDir is the service's state directory on this node
	// (<root>/var/<svcname>); drivers may keep files under it.
	VarDir string
	// Values holds every keyword set for the section or given a default.
	Values map[string]string
	// Defaults holds the service keywords of the DEFAULT section
	// (docker_data_dir, app, ...), scoped for this node.
	Defaults map[string]string
	// Section returns the Config of another section of the same service
	// (an ip.docker finds its container through container_rid). It may be
	// nil outside a loaded service.
	Section func(rid string) (Config, bool)
}

// Lookup returns the value of keyword name and whether it is set: its
// value in Values, else the manifest's default (a Config built by hand in
// a test gets the defaults a loaded one has).
func (c Config) Lookup(name string) (string, bool) {
	if v, ok := c.Values[name]; ok {
		return v, true
	}
	if k, ok := c.Manifest.Keyword(name); ok && k.Default != "" {
		return k.Default, true
	}
	return "", false
}

// String returns the value of name, or "".
func (c Config) String(name string) string { v, _ := c.Lookup(name); return v }

// Int returns the integer value of name, or 0.
func (c Config) Int(name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(c.String(name)), 10, 64)
	return n
}

// Bool returns the boolean value of name, or false.
func (c Config) Bool(name string) bool {
	b, _ := ParseBool(c.String(name))
	return b
}

// Size returns the size of name in bytes, or 0.
func (c Config) Size(name string) int64 {
	n, _ := ParseSize(c.String(name))
	return n
}

// Duration returns the duration of name, or 0 when unset.
func (c Config) Duration(name string) time.Duration {
	d, _ := ParseDuration(c.String(name))
	return d
}

// List returns the words of name.
func (c Config) List(name string) []string { return strings.Fields(c.String(name)) }

// Typed getters that report a malformed value as a *KeywordError: a
// Config built by hand (a test, a program) is not validated by svc, and a
// spec must not take a typo for the zero value.

// SizeOf returns the size of name in bytes, 0 when unset.
func (c Config) SizeOf(name string) (int64, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return 0, nil
	}
	n, err := ParseSize(v)
	if err != nil {
		return 0, &KeywordError{Keyword: name, Err: err}
	}
	return n, nil
}

// DurationOf returns the duration of name, 0 when unset.
func (c Config) DurationOf(name string) (time.Duration, error) {
	v := strings.TrimSpace(c.String(name))
	if v == "" {
		return 0, nil
	}
	d, err := ParseDuration(v)
	if err != nil {
		return 0, &KeywordError{Keyword: name, Err: err}
	}
	return d, nil
}

// BoolOf returns the boolean value of name, false when unset.
func (c Config) BoolOf(name string) (bool, error) {
	b, err := ParseBool(c.String(name))
	if err != nil {
		return false, &KeywordError{Keyword: name, Err: err}
	}
	return b, nil
}

// OneOf returns the value of name, which must be one of its manifest
// candidates when the manifest lists some.
func (c Config) OneOf(name string) (string, error) {
	v := strings.TrimSpace(c.String(name))
	if k, ok := c.Manifest.Keyword(name); ok && len(k.Candidates) > 0 {
		if err := k.Check(v); err != nil {
			return "", &KeywordError{Keyword: name, Err: err}
		}
	}
	return v, nil
}

// Flags returns the common boolean keywords. always_on makes a resource
// standby when it names this node, "nodes" (and the node is one of them)
// or "drpnodes" (idem).
func (c Config) Flags() resource.Flags {
	f := resource.Flags{
		Disabled: c.Bool("disable"),
		Optional: c.Bool("optional"),
		Standby:  c.Bool("standby"),
		Monitor:  c.Bool("monitor"),
		Encap:    c.Bool("encap"),
	}
	for _, w := range c.List("always_on") {
		switch {
		case w == c.Nodename,
			w == "nodes" && slices.Contains(c.Nodes, c.Nodename),
			w == "drpnodes" && slices.Contains(c.DRPNodes, c.Nodename):
			f.Standby = true
		}
	}
	return f
}

// Base returns the resource.Base a driver embeds.
func (c Config) Base() resource.Base {
	return resource.Base{
		ID:       c.RID,
		Driver:   c.Manifest.ID,
		TagList:  c.List("tags"),
		SubsetID: c.String("subset"),
		FlagSet:  c.Flags(),
	}
}

// DeviceName returns "<svcname>.<rid with # as .>", the name several
// drivers give what they create ("spdsvc01.disk.01", "spdsvc01.container.01db").
func (c Config) DeviceName() string {
	return c.Svcname + "." + strings.ReplaceAll(c.RID, "#", ".")
}
