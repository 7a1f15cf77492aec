package etcdtest

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
)

// Proxy forwards loopback TCP connections to a target address. Cut closes
// every connection and refuses new ones until Restore: a network partition
// between the proxy's clients and the target, made of the proxy's own
// sockets only.
type Proxy struct {
	// Addr is the proxy's listening address (127.0.0.1:port).
	Addr   string
	target string
	l      net.Listener

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]bool
	done  bool
}

// NewProxy listens on a free loopback port and forwards to target
// (host:port, or a URL like http://127.0.0.1:2379).
func NewProxy(target string) (*Proxy, error) {
	target = strings.TrimPrefix(strings.TrimPrefix(target, "http://"), "https://")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{Addr: l.Addr().String(), target: target, l: l, conns: map[net.Conn]bool{}}
	go p.serve()
	return p, nil
}

// URL is the proxy's address as an etcd endpoint.
func (p *Proxy) URL() string { return "http://" + p.Addr }

func (p *Proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut || p.done {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = true
		p.mu.Unlock()
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		return
	}
	if !p.track(u) {
		u.Close()
		p.drop(c)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { copyClose(u, c) })
	wg.Go(func() { copyClose(c, u) })
	wg.Wait()
	p.drop(c)
	p.drop(u)
}

func copyClose(dst, src net.Conn) {
	_, err := io.Copy(dst, src)
	if err == nil || errors.Is(err, net.ErrClosed) {
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
			return
		}
	}
	dst.Close()
	src.Close()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut || p.done {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// Cut closes every forwarded connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	p.cut = true
	conns := p.conns
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}

// Restore accepts connections again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// Close stops the proxy and closes its connections.
func (p *Proxy) Close() {
	p.Cut()
	p.mu.Lock()
	p.done = true
	p.mu.Unlock()
	p.l.Close()
}
