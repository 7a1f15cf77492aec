// Package gce is the client code the Google Compute Engine drivers share
// (disk.gce, ip.gce): compute apiv1 REST clients bound by the action's
// context, with retries of 429 and 5xx answers, operations waited for and
// checked (a mutation whose operation fails with a transient error, like
// RESOURCE_NOT_READY while the instance runs another operation, is issued
// again), errors typed, and the project, zone and instance taken from the
// configuration or from the metadata server.
//
// The drivers live in driver/disk/gce and driver/ip/gce; the fake compute
// server that tests run against lives in driver/gce/gcetest.
package gce

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	compute "cloud.google.com/go/compute/apiv1"
	"cloud.google.com/go/compute/metadata"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
)

// Options configure a Client. The zero value talks to Google's compute API
// with Application Default Credentials and to the metadata server named by
// GCE_METADATA_HOST (the link-local server when unset).
type Options struct {
	// Endpoint is the base URL of a compute-API-compatible server
	// ("http://127.0.0.1:8080"). When set, requests carry no credentials:
	// it is meant for fakes and for clouds that authenticate otherwise.
	Endpoint string
	// MetadataHost is the host:port of the metadata server, for this
	// client only (GCE_METADATA_HOST sets it for the whole process).
	MetadataHost string
	// HTTPClient, when set, carries every compute request (it must add
	// credentials itself when Endpoint is empty).
	HTTPClient *http.Client
	// RetryInitial and RetryMax bound the backoff between retries of
	// 429 and 5xx answers (default 500ms and 30s). Retries stop when the
	// action's context ends.
	RetryInitial, RetryMax time.Duration
	// PollInitial and PollMax bound the pause between polls of a running
	// operation (default 1s and 10s), on a server that does not serve
	// operations.wait (the client asks it first).
	PollInitial, PollMax time.Duration
	// OperationAttempts is how many times a mutation is issued when its
	// operation ends with a transient error (see OperationError.Transient:
	// RESOURCE_NOT_READY while another operation holds the instance, rate
	// limits, 5xx), each time with a new request id and after a pause
	// bounded by RetryInitial and RetryMax (default 4; 1 never retries).
	OperationAttempts int
}

// Option changes Options.
type Option func(*Options)

// WithEndpoint sends every compute request to url, without credentials.
func WithEndpoint(url string) Option { return func(o *Options) { o.Endpoint = url } }

// WithMetadataHost asks the metadata server at hostport (host:port).
func WithMetadataHost(hostport string) Option {
	return func(o *Options) { o.MetadataHost = hostport }
}

// WithHTTPClient sends compute requests through hc.
func WithHTTPClient(hc *http.Client) Option { return func(o *Options) { o.HTTPClient = hc } }

// WithRetryBackoff sets the bounds of the pause between retries.
func WithRetryBackoff(initial, max time.Duration) Option {
	return func(o *Options) { o.RetryInitial, o.RetryMax = initial, max }
}

// WithOperationAttempts sets how many times a mutation whose operation
// ends with a transient error is issued (1: no retry).
func WithOperationAttempts(n int) Option { return func(o *Options) { o.OperationAttempts = n } }

// WithPollInterval sets the bounds of the pause between operation polls.
func WithPollInterval(initial, max time.Duration) Option {
	return func(o *Options) { o.PollInitial, o.PollMax = initial, max }
}

// NewOptions applies opts over the defaults.
func NewOptions(opts ...Option) Options {
	o := Options{}
	for _, f := range opts {
		f(&o)
	}
	return o.withDefaults()
}

func (o Options) withDefaults() Options {
	if o.RetryInitial <= 0 {
		o.RetryInitial = 500 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if o.PollInitial <= 0 {
		o.PollInitial = time.Second
	}
	if o.PollMax <= 0 {
		o.PollMax = 10 * time.Second
	}
	if o.OperationAttempts <= 0 {
		o.OperationAttempts = 4
	}
	return o
}

// Client holds the compute REST clients of one endpoint. It is safe for
// concurrent use; drivers share one per factory.
type Client struct {
	opts      Options
	hc        *http.Client
	disks     *compute.DisksClient
	instances *compute.InstancesClient
	routes    *compute.RoutesClient
	zoneOps   *compute.ZoneOperationsClient
	globalOps *compute.GlobalOperationsClient
	md        *metadata.Client
	mdMu      sync.Mutex
	mdCache   map[string]string
	// instOps serialises the attach and detach of each instance
	// (holdInstance).
	instMu  sync.Mutex
	instOps map[string]chan struct{}
}

// NewClient makes the REST clients. It does no request; with Google's
// endpoint it finds Application Default Credentials (and fails when there
// are none).
func NewClient(ctx context.Context, opts Options) (*Client, error) {
	// The credentials' token source may refresh long after this call:
	// it must not die with the action that happened to create the client.
	ctx = context.WithoutCancel(ctx)
	opts = opts.withDefaults()
	c := &Client{opts: opts}
	var copts []option.ClientOption
	switch {
	case opts.HTTPClient != nil:
		c.hc = opts.HTTPClient
	case opts.Endpoint != "":
		// One transport for the five clients: one connection pool. The
		// timeout is a safety net for the requests the generated List does
		// not tie to the action's context.
		c.hc = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 5 * time.Minute}
	default:
		hc, _, err := htransport.NewClient(ctx, option.WithScopes(compute.DefaultAuthScopes()...))
		if err != nil {
			return nil, fmt.Errorf("gce: application default credentials: %w", err)
		}
		c.hc = hc
	}
	copts = append(copts, option.WithHTTPClient(c.hc))
	if opts.Endpoint != "" {
		copts = append(copts, option.WithEndpoint(strings.TrimRight(opts.Endpoint, "/")))
	}
	var err error
	if c.disks, err = compute.NewDisksRESTClient(ctx, copts...); err != nil {
		return nil, fmt.Errorf("gce: disks client: %w", err)
	}
	if c.instances, err = compute.NewInstancesRESTClient(ctx, copts...); err != nil {
		return nil, fmt.Errorf("gce: instances client: %w", err)
	}
	if c.routes, err = compute.NewRoutesRESTClient(ctx, copts...); err != nil {
		return nil, fmt.Errorf("gce: routes client: %w", err)
	}
	if c.zoneOps, err = compute.NewZoneOperationsRESTClient(ctx, copts...); err != nil {
		return nil, fmt.Errorf("gce: zone operations client: %w", err)
	}
	if c.globalOps, err = compute.NewGlobalOperationsRESTClient(ctx, copts...); err != nil {
		return nil, fmt.Errorf("gce: global operations client: %w", err)
	}
	c.md = newMetadataClient(opts.MetadataHost)
	return c, nil
}

// Close releases the connections of the client.
func (c *Client) Close() error {
	for _, f := range []func() error{c.disks.Close, c.instances.Close, c.routes.Close, c.zoneOps.Close, c.globalOps.Close} {
		_ = f()
	}
	c.hc.CloseIdleConnections()
	return nil
}

// callOpts replaces the generated clients' retry settings (503 and 504 on
// reads only) with ours: 429 and 5xx on every call, mutations included,
// since every mutation carries a request id that makes a replay harmless.
func (c *Client) callOpts() []gax.CallOption {
	bo := gax.Backoff{Initial: c.opts.RetryInitial, Max: c.opts.RetryMax, Multiplier: 2}
	return []gax.CallOption{gax.WithRetry(func() gax.Retryer {
		return gax.OnHTTPCodes(bo,
			http.StatusTooManyRequests,
			http.StatusInternalServerError,
			http.StatusBadGateway,
			http.StatusServiceUnavailable,
			http.StatusGatewayTimeout)
	})}
}

// newMetadataClient returns a metadata client that asks hostport, or the
// default one (GCE_METADATA_HOST, else the link-local server) when empty.
func newMetadataClient(hostport string) *metadata.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 2 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = 5 * time.Second
	var rt http.RoundTripper = tr
	if hostport != "" {
		rt = redirectTransport{host: hostport, next: tr}
	}
	return metadata.NewWithOptions(&metadata.Options{Client: &http.Client{Transport: rt}})
}

// redirectTransport sends every request to host: the metadata package only
// lets the process-wide GCE_METADATA_HOST choose its server, and a program
// managing several nodes (or a test) needs one per client.
type redirectTransport struct {
	host string
	next http.RoundTripper
}

func (t redirectTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Host = t.host
	r.Host = t.host
	return t.next.RoundTrip(r)
}
