package server

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// Failed logins: after MaxLoginFailures for one user from one address
// within LoginFailureWindow, the login page refuses that pair until the
// oldest failure leaves the window, before bcrypt runs. Per collector
// process: behind a load balancer each collector counts its own.
const (
	MaxLoginFailures   = 5
	LoginFailureWindow = 15 * time.Minute
	maxThrottleKeys    = 10000
)

type loginThrottle struct {
	mu    sync.Mutex
	fails map[string][]time.Time
}

func throttleKey(r *http.Request, user string) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return user + "\x00" + host
}

// recent returns the failures of key still in the window at now.
func (l *loginThrottle) recent(key string, now time.Time) []time.Time {
	kept := l.fails[key][:0]
	for _, t := range l.fails[key] {
		if now.Sub(t) < LoginFailureWindow {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = kept
	return kept
}

// blocked tells whether key has failed too often.
func (l *loginThrottle) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, now)) >= MaxLoginFailures
}

func (l *loginThrottle) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fails == nil || len(l.fails) >= maxThrottleKeys {
		// Bounded memory: a flood of names forgets the old failures
		// rather than growing without end.
		l.fails = map[string][]time.Time{}
	}
	l.fails[key] = append(l.recent(key, now), now)
}

func (l *loginThrottle) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}
