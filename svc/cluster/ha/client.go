package ha

import (
	"crypto/tls"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// ClientOptions say how an agent reaches etcd (--etcd endpoints, TLS,
// auth).
type ClientOptions struct {
	Endpoints []string
	TLS       *tls.Config
	Username  string
	Password  string
	// LeaseTTL sizes the timeouts (default DefaultLeaseTTL).
	LeaseTTL time.Duration
}

// NewClient returns an etcd client tuned for the agent: it dials and
// reconnects within a fraction of the lease TTL (gRPC's default backoff
// grows to two minutes: a node cut off for a while would stay
// disconnected long after the network came back, fenced for nothing).
func NewClient(o ClientOptions) (*clientv3.Client, error) {
	ttl := o.LeaseTTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	step := max(ttl/10, 100*time.Millisecond)
	return clientv3.New(clientv3.Config{
		Endpoints:            o.Endpoints,
		TLS:                  o.TLS,
		Username:             o.Username,
		Password:             o.Password,
		DialTimeout:          ttl / 5,
		DialKeepAliveTime:    ttl / 5,
		DialKeepAliveTimeout: ttl / 5,
		// The client's own logs repeat what the agent's events say.
		Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: step, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * step},
			MinConnectTimeout: ttl / 5,
		})},
	})
}
