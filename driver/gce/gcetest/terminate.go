package gcetest

import "google.golang.org/protobuf/proto"

// TerminateInstance marks the instance of the server's zone TERMINATED,
// as instances.stop leaves it or as a host failure does: its disks stay
// attached until detached (the API detaches disks from a terminated
// instance, which is how a lost node's disks are fenced and moved). It
// reports whether the instance exists.
func (s *Server) TerminateInstance(name string) bool {
	return s.setInstanceStatus(name, "TERMINATED")
}

// StartInstance marks the instance RUNNING again.
func (s *Server) StartInstance(name string) bool {
	return s.setInstanceStatus(name, "RUNNING")
}

func (s *Server) setInstanceStatus(name, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.instances[s.Zone+"/"+name]
	if ok {
		in.pb.Status = proto.String(status)
	}
	return ok
}
