package gcetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

type opOption func(*operation)

func withStuck(disk string) opOption { return func(o *operation) { o.stuckFor = disk } }

// onInstance marks an attachDisk or detachDisk of the instance zone/name:
// under the model, the instance runs one at a time.
func onInstance(key string) opOption { return func(o *operation) { o.instanceKey = key } }

// startOperation runs a mutation the way the API does: check answers the
// request's errors at once (404, 409, 400); otherwise an operation is
// created, and when it completes the check runs again (the state may have
// changed meanwhile) before apply. A request id seen before answers the
// first operation again.
func (s *Server) startOperation(w http.ResponseWriter, r *http.Request, zone, opType, target, subject string, check func() *apiError, apply func(), opts ...opOption) {
	reqID := r.URL.Query().Get("requestId")
	s.mu.Lock()
	if reqID != "" {
		if name, ok := s.requests[reqID]; ok {
			op := proto.CloneOf(s.ops[name].pb)
			s.mu.Unlock()
			writeProto(w, op)
			return
		}
	}
	if e := check(); e != nil {
		s.mu.Unlock()
		writeError(w, e)
		return
	}
	var buf [4]byte
	_, _ = rand.Read(buf[:])
	s.seq++
	name := fmt.Sprintf("operation-%d-%s", s.seq, hex.EncodeToString(buf[:]))
	now := time.Now().Format(time.RFC3339Nano)
	pb := &computepb.Operation{
		Kind:          proto.String("compute#operation"),
		Id:            proto.Uint64(s.nextID()),
		Name:          proto.String(name),
		OperationType: proto.String(opType),
		TargetLink:    proto.String(s.link(target)),
		Status:        computepb.Operation_RUNNING.Enum(),
		Progress:      proto.Int32(0),
		InsertTime:    proto.String(now),
		StartTime:     proto.String(now),
		User:          proto.String("gcetest@" + s.Project + ".iam.gserviceaccount.com"),
	}
	if zone != "" {
		pb.Zone = proto.String(s.link("projects/" + s.Project + "/zones/" + zone))
		pb.SelfLink = proto.String(s.link(zonePath(s.Project, zone, "operations", name)))
	} else {
		pb.SelfLink = proto.String(s.link("projects/" + s.Project + "/global/operations/" + name))
	}
	op := &operation{pb: pb, zone: zone, check: check, apply: apply, done: make(chan struct{})}
	for _, o := range opts {
		o(op)
	}
	for _, f := range s.opFaults {
		if f.times > 0 && (f.opType == "" || f.opType == opType) &&
			(f.match == "" || strings.Contains(target, f.match) || strings.Contains(subject, f.match)) {
			f.times--
			op.fault = f
			break
		}
	}
	s.ops[name] = op
	if reqID != "" {
		s.requests[reqID] = name
	}
	opTime := s.opTime
	if m := s.model; m != nil {
		opTime = m.OperationTime(opType, targetKind(target))
		if in := s.instances[op.instanceKey]; in != nil && op.fault == nil {
			if in.diskOp != nil {
				// GCE runs one disk operation at a time on an instance:
				// the other fails at once, and a client issues it again.
				s.nNotReady++
				op.fault = &opFault{code: "RESOURCE_NOT_READY", httpStatus: http.StatusBadRequest,
					message: fmt.Sprintf("The resource '%s' is not ready", zonePath(s.Project, in.Zone, "instances", in.Name))}
				opTime = 0
			} else {
				in.diskOp = op
				op.holds = in
			}
		}
	}
	switch {
	case op.stuckFor != "" && op.fault == nil:
		// Runs until UnstickDisk.
	case opTime <= 0:
		s.complete(op)
	default:
		op.timer = time.AfterFunc(opTime, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if op.pb.GetStatus() != computepb.Operation_DONE && op.stuckFor == "" {
				s.complete(op)
			}
		})
	}
	out := proto.CloneOf(pb)
	s.mu.Unlock()
	writeProto(w, out)
}

// complete ends op; s.mu is held.
func (s *Server) complete(op *operation) {
	if in := op.holds; in != nil && in.diskOp == op {
		in.diskOp = nil
	}
	select {
	case <-op.done:
	default:
		close(op.done)
	}
	pb := op.pb
	pb.Status = computepb.Operation_DONE.Enum()
	pb.Progress = proto.Int32(100)
	pb.EndTime = proto.String(time.Now().Format(time.RFC3339Nano))
	if f := op.fault; f != nil {
		pb.Error = &computepb.Error{Errors: []*computepb.Errors{{Code: proto.String(f.code), Message: proto.String(f.message)}}}
		if f.httpStatus != 0 {
			pb.HttpErrorStatusCode = proto.Int32(int32(f.httpStatus))
			pb.HttpErrorMessage = proto.String(http.StatusText(f.httpStatus))
		}
		return
	}
	if e := op.check(); e != nil {
		pb.Error = &computepb.Error{Errors: []*computepb.Errors{{Code: proto.String(strings.ToUpper(e.reason)), Message: proto.String(e.message)}}}
		pb.HttpErrorStatusCode = proto.Int32(int32(e.code))
		pb.HttpErrorMessage = proto.String(http.StatusText(e.code))
		return
	}
	op.apply()
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("operation")
	s.mu.Lock()
	op, ok := s.ops[name]
	var pb *computepb.Operation
	if ok && op.zone == zone {
		pb = proto.CloneOf(op.pb)
	}
	s.mu.Unlock()
	if pb == nil {
		where := "projects/" + s.Project + "/global/operations/" + name
		if zone != "" {
			where = zonePath(s.Project, zone, "operations", name)
		}
		writeError(w, notFound(where))
		return
	}
	writeProto(w, pb)
}

// maxWait is how long operations.wait waits at most before it answers
// the operation still running, as the API does ("approaching the 2
// minute deadline").
const maxWait = 2 * time.Minute

// waitOperation answers the operation once it is DONE, or when maxWait
// passes or the client goes: one request instead of polls.
func (s *Server) waitOperation(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("operation")
	s.mu.Lock()
	op, ok := s.ops[name]
	ok = ok && op.zone == zone
	s.mu.Unlock()
	if ok {
		t := time.NewTimer(maxWait)
		select {
		case <-op.done:
		case <-t.C:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	s.getOperation(w, r)
}

// metadataHandler answers the metadata paths the drivers read, and
// refuses requests without the Metadata-Flavor header as the real server
// does.
func metadataHandler(project, zone, instance string) http.Handler {
	values := map[string]string{
		"/computeMetadata/v1/project/project-id":         project,
		"/computeMetadata/v1/project/numeric-project-id": "123456789012",
		"/computeMetadata/v1/instance/zone":              "projects/123456789012/zones/" + zone,
		"/computeMetadata/v1/instance/name":              instance,
		"/computeMetadata/v1/instance/hostname":          instance + "." + zone + ".c." + project + ".internal",
		"/computeMetadata/v1/instance/id":                "4242424242",
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Metadata-Flavor") != "Google" {
			http.Error(w, "Missing Metadata-Flavor:Google header.", http.StatusForbidden)
			return
		}
		v, ok := values[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Metadata-Flavor", "Google")
		w.Header().Set("Content-Type", "application/text")
		_, _ = w.Write([]byte(v))
	})
}
