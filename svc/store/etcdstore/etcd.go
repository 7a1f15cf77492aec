// Package etcdstore is the config store in an etcd v3 cluster. It is a
// package of its own so that only the programs that use etcd link its
// client (and grpc): import it, blank if only through store.Open, to make
// store.Open accept etcd:// and etcds:// specs.
package etcdstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svckit/svckit/svc/store"
)

// Store is a store in an etcd v3 cluster: the config of a service is the
// value of <Prefix>/services/<svc>/config, and its revision the key's mod
// revision. Put is a transaction that writes only if the mod revision is
// still the expected one, so a writer that based its change on an older
// version is refused instead of overwriting the newer one.
type Store struct {
	Client *clientv3.Client
	// Prefix is prepended to the keys; default "/svckit".
	Prefix string
	// Timeout bounds each request when the context has no deadline.
	// Default 10s.
	Timeout time.Duration
}

// New connects to the etcd endpoints (like http://127.0.0.1:2379).
// Close the store when done.
func New(endpoints []string, prefix string) (*Store, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("etcd %s: %w", strings.Join(endpoints, ","), err)
	}
	return &Store{Client: cli, Prefix: prefix}, nil
}

// Close closes the client.
func (e *Store) Close() error { return e.Client.Close() }

func (e *Store) String() string {
	return "etcd:" + strings.Join(e.Client.Endpoints(), ",") + e.prefix()
}

func (e *Store) prefix() string {
	if e.Prefix == "" {
		return "/svckit"
	}
	return "/" + strings.Trim(e.Prefix, "/")
}

// Key returns the key holding the config of svcname.
func (e *Store) Key(svcname string) string { return e.prefix() + "/services/" + svcname + "/config" }

func (e *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	t := e.Timeout
	if t == 0 {
		t = 10 * time.Second
	}
	return context.WithTimeout(ctx, t)
}

// Get reads the config of svcname.
func (e *Store) Get(ctx context.Context, svcname string) (*store.Config, error) {
	if err := store.ValidServiceName(svcname); err != nil {
		return nil, fmt.Errorf("%s: get: %w", e, err)
	}
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	resp, err := e.Client.Get(ctx, e.Key(svcname))
	if err != nil {
		return nil, fmt.Errorf("%s: get %s: %w", e, svcname, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("%s: get %s: %w (no key %s)", e, svcname, store.ErrNotFound, e.Key(svcname))
	}
	kv := resp.Kvs[0]
	return &store.Config{Service: svcname, Data: kv.Value, Checksum: store.Checksum(kv.Value), Revision: strconv.FormatInt(kv.ModRevision, 10)}, nil
}

// Put writes data as the config of svcname if the key's mod revision is
// expect (store.Absent: the key must not exist; store.AnyRevision: unconditional).
func (e *Store) Put(ctx context.Context, svcname string, data []byte, expect string) (*store.Config, error) {
	if err := store.ValidServiceName(svcname); err != nil {
		return nil, fmt.Errorf("%s: put: %w", e, err)
	}
	key := e.Key(svcname)
	var cmp []clientv3.Cmp
	switch expect {
	case store.AnyRevision:
	case store.Absent:
		cmp = append(cmp, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
	default:
		rev, err := strconv.ParseInt(expect, 10, 64)
		if err != nil || rev <= 0 {
			return nil, fmt.Errorf("%s: put %s: expected revision %q: expected an etcd mod revision (a positive integer)", e, svcname, expect)
		}
		cmp = append(cmp, clientv3.Compare(clientv3.ModRevision(key), "=", rev))
	}
	ctx, cancel := e.ctx(ctx)
	defer cancel()
	resp, err := e.Client.Txn(ctx).If(cmp...).Then(clientv3.OpPut(key, string(data))).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return nil, fmt.Errorf("%s: put %s: %w", e, svcname, err)
	}
	if !resp.Succeeded {
		actual := ""
		if len(resp.Responses) > 0 {
			if r := resp.Responses[0].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
				actual = strconv.FormatInt(r.Kvs[0].ModRevision, 10)
			}
		}
		return nil, &store.ConflictError{Store: e.String(), Service: svcname, Expected: expect, Actual: actual}
	}
	return &store.Config{Service: svcname, Data: data, Checksum: store.Checksum(data), Revision: strconv.FormatInt(resp.Header.Revision, 10), Time: time.Now().UTC()}, nil
}

func init() {
	store.RegisterScheme("etcd", open("http"))
	store.RegisterScheme("etcds", open("https"))
}

// open returns the opener of etcd://host:port[,host:port][/prefix] specs.
func open(scheme string) store.Opener {
	return func(spec string) (store.Store, func() error, error) {
		rest := spec[strings.Index(spec, "://")+3:]
		hosts, prefix, _ := strings.Cut(rest, "/")
		if hosts == "" {
			return nil, nil, fmt.Errorf("store %q: expected etcd://host:port[,host:port][/prefix]", spec)
		}
		var eps []string
		for _, h := range strings.Split(hosts, ",") {
			eps = append(eps, scheme+"://"+h)
		}
		e, err := New(eps, prefix)
		if err != nil {
			return nil, nil, err
		}
		return e, e.Close, nil
	}
}
