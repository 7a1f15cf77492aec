package store

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
)

// An Opener opens the store a spec names, and returns what closes it.
type Opener func(spec string) (Store, func() error, error)

var schemes = struct {
	sync.RWMutex
	m map[string]Opener
}{m: map[string]Opener{}}

// RegisterScheme makes Open hand specs of the form scheme://... to open.
// Store packages that bring a heavy client (etcdstore) register from
// their init, as database/sql drivers do, so that a program links only
// the clients it imports.
func RegisterScheme(scheme string, open Opener) {
	schemes.Lock()
	defer schemes.Unlock()
	schemes.m[scheme] = open
}

// Open returns the store a URL names:
//
//	dir:/srv/svckit/store, /srv/svckit/store   a directory
//	etcd://host:2379[,host2:2379][/prefix]     etcd over http (import etcdstore)
//	etcds://host:2379[/prefix]                 etcd over https (import etcdstore)
//	http(s)://[user:password@]host/init/rest/api   the OpenSVC collector
//
// The returned function closes what the store holds open.
func Open(spec string) (Store, func() error, error) {
	nop := func() error { return nil }
	switch {
	case strings.HasPrefix(spec, "dir:"):
		d, err := NewDir(strings.TrimPrefix(strings.TrimPrefix(spec, "dir:"), "//"))
		return d, nop, err
	case strings.HasPrefix(spec, "etcd://"), strings.HasPrefix(spec, "etcds://"):
		scheme, _, _ := strings.Cut(spec, "://")
		schemes.RLock()
		open := schemes.m[scheme]
		schemes.RUnlock()
		if open == nil {
			return nil, nil, fmt.Errorf("store %q: etcd stores are in package github.com/svckit/svckit/svc/store/etcdstore: import it (blank) to open them", spec)
		}
		return open(spec)
	case strings.HasPrefix(spec, "http://"), strings.HasPrefix(spec, "https://"):
		c, err := NewCollector(spec)
		return c, nop, err
	case filepath.IsAbs(spec):
		d, err := NewDir(spec)
		return d, nop, err
	}
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		spec = u.Redacted()
	}
	return nil, nil, fmt.Errorf("store %q: expected dir:PATH, an absolute path, etcd://host:port[/prefix] or an OpenSVC collector https://host/init/rest/api URL", spec)
}
