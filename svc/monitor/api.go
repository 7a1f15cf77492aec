package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/store"
)

// NodeState is what GET /status answers: the daemon, the node's tasks and
// every service's last status.
type NodeState struct {
	Node     string         `json:"node"`
	PID      int            `json:"pid"`
	Started  time.Time      `json:"started"`
	Now      time.Time      `json:"now"`
	Interval string         `json:"interval"`
	NodeConf string         `json:"node_conf_error,omitempty"`
	Tasks    []TaskState    `json:"tasks"`
	Services []ServiceState `json:"services"`
}

// ServiceState is a service as the daemon sees it (GET /services/NAME).
type ServiceState struct {
	Name      string `json:"name"`
	File      string `json:"file"`
	Checksum  string `json:"config_checksum"`
	LoadError string `json:"load_error,omitempty"`
	// ShowDisabled is the service's show_disabled, for rendering Status.
	ShowDisabled bool `json:"show_disabled"`
	// Status is the last status read (every resource, disabled ones
	// included), at Updated; FreshUntil is when a reader should read the
	// resources again rather than trust it: Updated plus the monitor
	// interval plus what the last pass took.
	Status     *svc.StatusReport `json:"status,omitempty"`
	Updated    time.Time         `json:"updated,omitzero"`
	FreshUntil time.Time         `json:"fresh_until,omitzero"`
	Tasks      []TaskState       `json:"tasks"`
}

// TaskState is a scheduled task's state.
type TaskState struct {
	Name        string    `json:"name"`
	Schedule    string    `json:"schedule"`
	Running     bool      `json:"running"`
	LastRun     time.Time `json:"last_run,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	Next        time.Time `json:"next,omitzero"`
	Result      string    `json:"result,omitempty"`
	Message     string    `json:"message,omitempty"`
	Duration    string    `json:"duration,omitempty"`
}

// State returns the daemon's state, as GET /status serves it.
func (d *Daemon) State() *NodeState {
	now := d.opts.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &NodeState{Node: d.opts.Node, PID: os.Getpid(), Started: d.started, Now: now, Interval: d.opts.Interval.String(), NodeConf: d.nodeErr}
	st.Tasks = d.taskStates(d.node, now)
	for _, name := range slices.Sorted(maps.Keys(d.services)) {
		st.Services = append(st.Services, d.serviceState(d.services[name], now))
	}
	return st
}

func (d *Daemon) serviceState(e *serviceEntry, now time.Time) ServiceState {
	ss := ServiceState{Name: e.name, File: e.file, Checksum: e.checksum, LoadError: e.loadErr, Status: e.status, Tasks: d.taskStates(e.tasks, now)}
	if e.svc != nil {
		ss.ShowDisabled = e.svc.ShowDisabled()
	}
	if e.status != nil {
		ss.Updated = e.updated
		ss.FreshUntil = e.updated.Add(d.opts.Interval + e.passTook)
	}
	return ss
}

func (d *Daemon) taskStates(set *taskSet, now time.Time) []TaskState {
	out := []TaskState{}
	if set == nil {
		return out
	}
	for _, name := range slices.Sorted(maps.Keys(set.tasks)) {
		te := set.tasks[name]
		ts := TaskState{Name: name, Schedule: te.def, Running: d.inflight[set.scope+"/"+name], LastRun: te.task.LastRun(), LastSuccess: te.task.LastSuccess(),
			Result: te.result, Message: te.message}
		if te.duration > 0 {
			ts.Duration = te.duration.Round(time.Millisecond).String()
		}
		if next, ok := te.task.Next(now); ok {
			ts.Next = next
		}
		out = append(out, ts)
	}
	return out
}

type apiServer struct {
	srv  *http.Server
	ln   net.Listener
	path string
}

// serve listens on the unix socket at path, mode 0600 in a 0700
// directory (no window where another user can connect). A socket left by
// a daemon that died is removed: the caller holds the daemon lock, so no
// live daemon owns it.
func (d *Daemon) serve(path string) (*apiServer, error) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("daemon: stale socket %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("daemon: api: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("daemon: api: %w", err)
	}
	s := &apiServer{ln: ln, path: path, srv: &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 5 * time.Second}}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *apiServer) close(ctx context.Context) {
	s.srv.Shutdown(ctx)
	s.srv.Close()
	os.Remove(s.path)
}

// Handler is the daemon's HTTP API:
//
//	GET /status          NodeState (JSON)
//	GET /services/NAME   ServiceState (JSON), 404 for a service not handled
//	GET /events          the event stream: one Event JSON object per line,
//	                     flushed as they come, until the client leaves
//	GET /metrics         Prometheus metrics
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, d.State())
	})
	mux.HandleFunc("GET /services/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		now := d.opts.Now()
		d.mu.Lock()
		e, ok := d.services[name]
		var ss ServiceState
		if ok {
			ss = d.serviceState(e, now)
		}
		d.mu.Unlock()
		if !ok {
			http.Error(w, fmt.Sprintf("service %q: not handled by this daemon", name), http.StatusNotFound)
			return
		}
		writeJSON(w, ss)
	})
	mux.HandleFunc("GET /events", d.serveEvents)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{}))
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func (d *Daemon) serveEvents(w http.ResponseWriter, r *http.Request) {
	sub := d.bus.subscribe()
	if sub == nil {
		http.Error(w, "daemon stopping", http.StatusServiceUnavailable)
		return
	}
	defer func() {
		d.bus.unsubscribe(sub)
		d.metrics.eventsDropped.Add(float64(sub.Dropped()))
	}()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	// The first line says the subscription is on: a client that waits
	// for it misses no later event.
	enc.Encode(Event{Time: d.opts.Now(), Kind: EventSubscribed, Message: "subscribed"})
	rc.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			if enc.Encode(e) != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// Client reads the API of the daemon of a root over its unix socket.
type Client struct {
	hc *http.Client
}

// NewClient returns a client of the daemon whose socket is at path
// (SocketPath of its root).
func NewClient(path string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", path)
	}}
	return &Client{hc: &http.Client{Transport: tr}}
}

// maxAPIAnswer bounds what the client reads of an answer.
const maxAPIAnswer = 64 << 20

func (c *Client) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://daemon"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("daemon api: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("daemon api: GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	return resp, nil
}

func (c *Client) getJSON(ctx context.Context, path string, out any) error {
	resp, err := c.get(ctx, path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxAPIAnswer)).Decode(out); err != nil {
		return fmt.Errorf("daemon api: GET %s: %w", path, err)
	}
	return nil
}

// Status is GET /status.
func (c *Client) Status(ctx context.Context) (*NodeState, error) {
	var st NodeState
	return &st, c.getJSON(ctx, "/status", &st)
}

// Service is GET /services/NAME.
func (c *Client) Service(ctx context.Context, name string) (*ServiceState, error) {
	var st ServiceState
	return &st, c.getJSON(ctx, "/services/"+name, &st)
}

// Metrics is GET /metrics, the text exposition format.
func (c *Client) Metrics(ctx context.Context) (string, error) {
	resp, err := c.get(ctx, "/metrics")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIAnswer))
	return string(b), err
}

// Events follows GET /events, calling fn for each event until ctx ends,
// the daemon stops, or fn returns an error (returned).
func (c *Client) Events(ctx context.Context, fn func(Event) error) error {
	resp, err := c.get(ctx, "/events")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	for {
		var e Event
		if err := dec.Decode(&e); err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return ctx.Err()
			}
			return fmt.Errorf("daemon api: events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
}

// CachedStatus returns the status the daemon of root holds for the
// service when it is fresh: the daemon answers, its status is fresh
// (before FreshUntil at now), its configuration is the file's, and no
// action ran on the service since (its var directory, where every action
// writes its lock holder, changed no later than the status was read). Any
// doubt is false, and the caller reads the resources itself.
func CachedStatus(ctx context.Context, root, svcname string, now time.Time) (*ServiceState, bool) {
	sock := SocketPath(root)
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := NewClient(sock).Service(ctx, svcname)
	if err != nil || st.Status == nil || st.LoadError != "" || !now.Before(st.FreshUntil) {
		return nil, false
	}
	if data, err := os.ReadFile(filepath.Join(root, "etc", svcname+".conf")); err != nil || store.Checksum(data) != st.Checksum {
		return nil, false
	}
	// The read began at Status.Time: an action that ended after that may
	// not show in it.
	if fi, err := os.Stat(filepath.Join(root, "var", svcname)); err == nil && fi.ModTime().After(st.Status.Time) {
		return nil, false
	}
	return st, true
}
