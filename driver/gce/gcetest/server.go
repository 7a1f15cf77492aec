// Package gcetest is a fake Google Compute Engine: a real HTTP server that
// speaks the REST paths and the JSON of the compute v1 API for zonal disks,
// instances (get, attachDisk, detachDisk), global routes, and zone and
// global operations (get, and wait: answered when the operation is done),
// with the state of one project held in memory and
// shared by several instances (nodes). Each instance also gets a metadata
// server that answers its project, zone and name.
//
// The real compute apiv1 client talks to it (gce.WithEndpoint(s.URL)), so
// tests of code that manages disks and routes run the very requests
// production runs. Latency and faults can be injected: N answers 503 or
// 429 on a method and path, operations that end with an error, a disk
// whose detach never completes.
//
//	s := gcetest.NewServer("proj", "europe-west1-b")
//	defer s.Close()
//	node := s.AddInstance("spd01")
//	// gce.WithEndpoint(s.URL), gce.WithMetadataHost(node.MetadataHost)
//
// # What it checks like the API
//
// Requests get the API's synchronous errors, in its JSON error shape:
// 404 for a missing disk, instance, route or operation; 409 for a disk or
// route that exists; 400 for a bad name or CIDR, a disk attached
// read-write elsewhere, a device name in use, a detach of an unknown
// device, the deletion of a disk in use. Mutations answer an operation
// (done at once, or after SetOperationTime), whose effect is applied when
// it completes; a request id seen before answers the first operation
// again. Lists page with maxResults and pageToken, and filter with
// comparisons (field = value, !=, eq regexp, ne regexp, "*" wildcards in
// = values) joined by AND or juxtaposition; OR and other operators are
// refused with a 400 rather than misread.
//
// # Latency model
//
// SetModel(&m) with a Model (DefaultModel: GCE's typical figures, each
// documented with where it comes from) makes operations run for their
// kind's time, attachDisk and detachDisk of an instance run one at a
// time (another fails with RESOURCE_NOT_READY, which the gce client
// issues again), instances.get take its time, and mutations beyond the
// project's rate answer 429. It is off by default; Model.Scale shrinks
// it for benchmarks that must run in seconds.
//
// Instances get a boot disk named like them, attached as
// persistent-disk-0. With Instance.SetDevDir, attach and detach create and
// remove <dir>/google-<device name>, as udev does under /dev/disk/by-id.
package gcetest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Server is a fake compute API for one project and zone (requests for
// other zones of the project are served too: state is keyed by zone).
type Server struct {
	// URL is the endpoint to give the client (gce.WithEndpoint).
	URL     string
	Project string
	Zone    string

	srv *httptest.Server

	mu                      sync.Mutex
	disks                   map[string]*computepb.Disk // zone/name
	instances               map[string]*Instance       // zone/name
	routes                  map[string]*computepb.Route
	ops                     map[string]*operation
	requests                map[string]string // requestId -> operation name
	faults                  []*requestFault
	opFaults                []*opFault
	stuck                   map[string]bool // disk name -> detach never completes
	latency                 time.Duration
	opTime                  time.Duration
	model                   *Model
	tokens                  float64   // the model's mutation bucket
	refill                  time.Time // when tokens was last filled
	nNotReady, nRateLimited int
	seq                     int
	calls                   []Call
	closed                  bool
}

// Instance is a node of the fake: an instance of the compute API with its
// own metadata server.
type Instance struct {
	Name string
	Zone string
	// MetadataHost is the host:port of the instance's metadata server
	// (gce.WithMetadataHost, or GCE_METADATA_HOST for a whole process).
	MetadataHost string

	s      *Server
	pb     *computepb.Instance
	md     *httptest.Server
	devDir string
	// diskOp is the attachDisk or detachDisk running on the instance,
	// under the model (which runs one at a time).
	diskOp *operation
}

// Call is one request the server received.
type Call struct {
	Method string
	Path   string
	Query  string
	Status int
	// Start and End are when the request came and was answered.
	Start, End time.Time
}

type operation struct {
	pb       *computepb.Operation
	zone     string // "" for a global operation
	check    func() *apiError
	apply    func()
	fault    *opFault
	stuckFor string // disk name a stuck detach waits on
	timer    *time.Timer
	done     chan struct{} // closed when the operation completes
	// holds is the instance whose disk operation this is, under the
	// model: released when the operation completes.
	holds       *Instance
	instanceKey string // zone/name of an attachDisk's or detachDisk's instance
}

type requestFault struct {
	method, path string
	code, times  int
}

type opFault struct {
	opType, match string
	times         int
	code, message string
	httpStatus    int
}

// NewServer starts a fake compute API for project, whose instances live in
// zone. Close it when done.
func NewServer(project, zone string) *Server {
	s := &Server{
		Project:   project,
		Zone:      zone,
		disks:     map[string]*computepb.Disk{},
		instances: map[string]*Instance{},
		routes:    map[string]*computepb.Route{},
		ops:       map[string]*operation{},
		requests:  map[string]string{},
		stuck:     map[string]bool{},
	}
	s.srv = httptest.NewServer(s.handler())
	s.URL = s.srv.URL
	return s
}

// Close stops the compute server and every metadata server.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	var mds []*httptest.Server
	for _, in := range s.instances {
		mds = append(mds, in.md)
	}
	for _, op := range s.ops {
		if op.timer != nil {
			op.timer.Stop()
		}
	}
	s.mu.Unlock()
	s.srv.Close()
	for _, md := range mds {
		md.Close()
	}
}

// AddInstance creates a running instance in the server's zone, with a boot
// disk of its own name attached as persistent-disk-0, and starts its
// metadata server.
func (s *Server) AddInstance(name string) *Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	zone := s.Zone
	link := s.link(zonePath(s.Project, zone, "instances", name))
	boot := &computepb.Disk{
		Name:     proto.String(name),
		SizeGb:   proto.Int64(10),
		Type:     proto.String(s.link(zonePath(s.Project, zone, "diskTypes", "pd-standard"))),
		Status:   proto.String("READY"),
		Zone:     proto.String(s.link("projects/" + s.Project + "/zones/" + zone)),
		SelfLink: proto.String(s.link(zonePath(s.Project, zone, "disks", name))),
		Users:    []string{link},
		Kind:     proto.String("compute#disk"),
		Id:       proto.Uint64(s.nextID()),
	}
	s.disks[zone+"/"+name] = boot
	in := &Instance{
		s:    s,
		Name: name,
		Zone: zone,
		pb: &computepb.Instance{
			Name:     proto.String(name),
			Kind:     proto.String("compute#instance"),
			Id:       proto.Uint64(s.nextID()),
			Status:   proto.String("RUNNING"),
			Zone:     proto.String(s.link("projects/" + s.Project + "/zones/" + zone)),
			SelfLink: proto.String(link),
			Disks: []*computepb.AttachedDisk{{
				Source:     boot.SelfLink,
				DeviceName: proto.String("persistent-disk-0"),
				Index:      proto.Int32(0),
				Boot:       proto.Bool(true),
				AutoDelete: proto.Bool(true),
				Mode:       proto.String("READ_WRITE"),
				Type:       proto.String("PERSISTENT"),
				Kind:       proto.String("compute#attachedDisk"),
			}},
		},
	}
	in.md = httptest.NewServer(metadataHandler(s.Project, zone, name))
	in.MetadataHost = strings.TrimPrefix(in.md.URL, "http://")
	s.instances[zone+"/"+name] = in
	return in
}

// SetDevDir makes the server create an empty file google-<device name> in
// dir when a disk is attached to the instance, and remove it on detach:
// what udev does under /dev/disk/by-id on a real instance.
func (in *Instance) SetDevDir(dir string) {
	in.s.mu.Lock()
	defer in.s.mu.Unlock()
	in.devDir = dir
}

// SetLatency delays every compute request by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetOperationTime makes operations run for d before they are done (0,
// the default: operations are done when the request answers).
func (s *Server) SetOperationTime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opTime = d
}

// FailRequests answers the next times requests of method (any when "")
// whose path contains pathContains with the error status code (503, 429,
// ...), before they reach the fake's logic.
func (s *Server) FailRequests(method, pathContains string, code, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &requestFault{method: method, path: pathContains, code: code, times: times})
}

// OperationFault describes operations to fail.
type OperationFault struct {
	// Type is the operationType to fail: insert, delete, attachDisk,
	// detachDisk ("" for any).
	Type string
	// Match must be contained in the operation's target link or, for
	// attachDisk, in the attached disk's link ("" for any).
	Match string
	// Times is how many operations fail (default 1).
	Times int
	// Code and Message fill the operation's error item
	// (default RESOURCE_OPERATION_RATE_EXCEEDED-like values if empty).
	Code, Message string
	// HTTPStatus, when not 0, also sets httpErrorStatusCode (and
	// httpErrorMessage) the way the API does for most failures. Leave it 0
	// for an operation that carries only its error field.
	HTTPStatus int
}

// FailOperations makes the next matching operations complete with an
// error and without their effect.
func (s *Server) FailOperations(f OperationFault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	if f.Code == "" {
		f.Code = "INTERNAL_ERROR"
	}
	if f.Message == "" {
		f.Message = "Internal error. Please try again or contact Google Support."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opFaults = append(s.opFaults, &opFault{opType: f.Type, match: f.Match, times: f.Times, code: f.Code, message: f.Message, httpStatus: f.HTTPStatus})
}

// StickDisk makes every detach of the disk run forever: the disk stays
// attached and the operation stays RUNNING until UnstickDisk.
func (s *Server) StickDisk(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stuck[name] = true
}

// UnstickDisk lets the pending and future detaches of the disk complete.
func (s *Server) UnstickDisk(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.stuck, name)
	for _, op := range s.ops {
		if op.stuckFor == name && op.pb.GetStatus() != computepb.Operation_DONE {
			op.stuckFor = ""
			s.complete(op)
		}
	}
}

// CreateDisk adds a disk directly (no request, no operation): for a test
// that starts from existing cloud state.
func (s *Server) CreateDisk(name string, sizeGb int64) *computepb.Disk {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.newDisk(s.Zone, &computepb.Disk{Name: proto.String(name), SizeGb: proto.Int64(sizeGb)}, "")
	s.disks[s.Zone+"/"+name] = d
	return proto.CloneOf(d)
}

// CreateRoute adds a route directly, next hop the instance of the
// server's zone named nextHop.
func (s *Server) CreateRoute(name, destRange, nextHop string) *computepb.Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.newRoute(&computepb.Route{
		Name:            proto.String(name),
		DestRange:       proto.String(destRange),
		NextHopInstance: proto.String(zonePath(s.Project, s.Zone, "instances", nextHop)),
	})
	s.routes[name] = r
	return proto.CloneOf(r)
}

// Disk returns a copy of the disk name of the server's zone.
func (s *Server) Disk(name string) (*computepb.Disk, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.disks[s.Zone+"/"+name]
	if !ok {
		return nil, false
	}
	return proto.CloneOf(d), true
}

// Disks returns copies of every disk, boot disks included, sorted by name.
func (s *Server) Disks() []*computepb.Disk {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*computepb.Disk, 0, len(s.disks))
	for _, d := range s.disks {
		out = append(out, proto.CloneOf(d))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// Route returns a copy of the route name.
func (s *Server) Route(name string) (*computepb.Route, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.routes[name]
	if !ok {
		return nil, false
	}
	return proto.CloneOf(r), true
}

// Routes returns copies of every route, sorted by name.
func (s *Server) Routes() []*computepb.Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*computepb.Route, 0, len(s.routes))
	for _, r := range s.routes {
		out = append(out, proto.CloneOf(r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

// Instance returns a copy of the instance name of the server's zone.
func (s *Server) Instance(name string) (*computepb.Instance, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[s.Zone+"/"+name]
	if !ok {
		return nil, false
	}
	return proto.CloneOf(in.pb), true
}

// AttachedTo returns the names of the instances the disk is attached to.
func (s *Server) AttachedTo(disk string) []string {
	d, ok := s.Disk(disk)
	if !ok {
		return nil
	}
	var out []string
	for _, u := range d.GetUsers() {
		out = append(out, lastSegment(u))
	}
	return out
}

// Calls returns the requests received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CountCalls counts the requests of method (any when "") whose path
// contains pathContains.
func (s *Server) CountCalls(method, pathContains string) int {
	n := 0
	for _, c := range s.Calls() {
		if (method == "" || c.Method == method) && strings.Contains(c.Path, pathContains) {
			n++
		}
	}
	return n
}

// link turns a partial resource path into the full URL the API answers.
func (s *Server) link(path string) string { return s.URL + "/compute/v1/" + path }

func (s *Server) nextID() uint64 { s.seq++; return uint64(1000000 + s.seq) }

func zonePath(project, zone, kind, name string) string {
	return "projects/" + project + "/zones/" + zone + "/" + kind + "/" + name
}

func lastSegment(l string) string { return l[strings.LastIndex(l, "/")+1:] }

// trimLink returns the "projects/..." part of a resource reference,
// "zones/..." and "global/..." references completed with project.
func trimLink(project, l string) string {
	if i := strings.Index(l, "projects/"); i >= 0 {
		return l[i:]
	}
	if strings.HasPrefix(l, "zones/") || strings.HasPrefix(l, "global/") {
		return "projects/" + project + "/" + l
	}
	return l
}

var nameRE = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)

// apiError is an error answer in the API's JSON shape.
type apiError struct {
	code    int
	reason  string
	message string
}

func notFound(what string) *apiError {
	return &apiError{http.StatusNotFound, "notFound", fmt.Sprintf("The resource '%s' was not found", what)}
}

func invalid(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "invalid", fmt.Sprintf(format, args...)}
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%s,"errors":[{"message":%s,"domain":"global","reason":%q}]}}`,
		e.code, strconv.Quote(e.message), strconv.Quote(e.message), e.reason)
}

func writeProto(w http.ResponseWriter, m proto.Message) {
	b, err := protojson.MarshalOptions{UseProtoNames: false}.Marshal(m)
	if err != nil {
		writeError(w, &apiError{http.StatusInternalServerError, "backendError", err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_, _ = w.Write(b)
}

func readProto(r *http.Request, m proto.Message) *apiError {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return invalid("read body: %v", err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, m); err != nil {
		return &apiError{http.StatusBadRequest, "parseError", "Parse Error: " + err.Error()}
	}
	return nil
}

// devFile creates or removes the google-<device> file of an instance that
// has a dev dir, the way udev follows attach and detach.
func (in *Instance) devFile(device string, present bool) {
	if in.devDir == "" {
		return
	}
	p := filepath.Join(in.devDir, "google-"+device)
	if present {
		_ = os.WriteFile(p, nil, 0o600)
	} else {
		_ = os.Remove(p)
	}
}
