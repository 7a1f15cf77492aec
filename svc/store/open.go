package store

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Open returns the store a URL names:
//
//	dir:/srv/svckit/store, /srv/svckit/store   a directory
//	etcd://host:2379[,host2:2379][/prefix]     etcd over http
//	etcds://host:2379[/prefix]                 etcd over https
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
		scheme := "http"
		if strings.HasPrefix(spec, "etcds://") {
			scheme = "https"
		}
		rest := spec[strings.Index(spec, "://")+3:]
		hosts, prefix, _ := strings.Cut(rest, "/")
		if hosts == "" {
			return nil, nil, fmt.Errorf("store %q: expected etcd://host:port[,host:port][/prefix]", spec)
		}
		var eps []string
		for _, h := range strings.Split(hosts, ",") {
			eps = append(eps, scheme+"://"+h)
		}
		e, err := NewEtcd(eps, prefix)
		if err != nil {
			return nil, nil, err
		}
		return e, e.Close, nil
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
