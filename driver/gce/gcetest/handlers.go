package gcetest

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/compute/apiv1/computepb"
	"google.golang.org/protobuf/proto"
)

const (
	zonePrefix   = "/compute/v1/projects/{project}/zones/{zone}"
	globalPrefix = "/compute/v1/projects/{project}/global"
)

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+zonePrefix+"/disks", s.insertDisk)
	mux.HandleFunc("GET "+zonePrefix+"/disks", s.listDisks)
	mux.HandleFunc("GET "+zonePrefix+"/disks/{disk}", s.getDisk)
	mux.HandleFunc("DELETE "+zonePrefix+"/disks/{disk}", s.deleteDisk)
	mux.HandleFunc("GET "+zonePrefix+"/instances/{instance}", s.getInstance)
	mux.HandleFunc("POST "+zonePrefix+"/instances/{instance}/attachDisk", s.attachDisk)
	mux.HandleFunc("POST "+zonePrefix+"/instances/{instance}/detachDisk", s.detachDisk)
	mux.HandleFunc("GET "+zonePrefix+"/operations/{operation}", s.getOperation)
	mux.HandleFunc("POST "+zonePrefix+"/operations/{operation}/wait", s.waitOperation)
	mux.HandleFunc("POST "+globalPrefix+"/operations/{operation}/wait", s.waitOperation)
	mux.HandleFunc("POST "+globalPrefix+"/routes", s.insertRoute)
	mux.HandleFunc("GET "+globalPrefix+"/routes", s.listRoutes)
	mux.HandleFunc("GET "+globalPrefix+"/routes/{route}", s.getRoute)
	mux.HandleFunc("DELETE "+globalPrefix+"/routes/{route}", s.deleteRoute)
	mux.HandleFunc("GET "+globalPrefix+"/operations/{operation}", s.getOperation)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, "notFound", fmt.Sprintf("gcetest: %s %s is not served by the fake", r.Method, r.URL.Path)})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		defer func() {
			s.mu.Lock()
			s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: rec.status, Start: start, End: time.Now()})
			s.mu.Unlock()
		}()
		s.mu.Lock()
		lat := s.latency
		limited := s.rateLimited(r)
		var fault *requestFault
		for _, f := range s.faults {
			if f.times > 0 && (f.method == "" || f.method == r.Method) && strings.Contains(r.URL.Path, f.path) {
				f.times--
				fault = f
				break
			}
		}
		s.mu.Unlock()
		if lat > 0 {
			select {
			case <-time.After(lat):
			case <-r.Context().Done():
				return
			}
		}
		if limited {
			writeError(rec, &apiError{http.StatusTooManyRequests, "rateLimitExceeded",
				"Quota exceeded for quota metric 'Queries' and limit 'Queries per second' of service 'compute.googleapis.com' (gcetest model)"})
			return
		}
		if fault != nil {
			writeError(rec, &apiError{fault.code, faultReason(fault.code), fmt.Sprintf("gcetest: injected %d", fault.code)})
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

func faultReason(code int) string {
	switch code {
	case http.StatusTooManyRequests:
		return "rateLimitExceeded"
	case http.StatusServiceUnavailable:
		return "backendError"
	}
	return "backendError"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// project checks the project of the path: the fake holds one.
func (s *Server) project(w http.ResponseWriter, r *http.Request) bool {
	if p := r.PathValue("project"); p != s.Project {
		writeError(w, notFound("projects/"+p))
		return false
	}
	return true
}

func (s *Server) getDisk(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("disk")
	s.mu.Lock()
	d, ok := s.disks[zone+"/"+name]
	if ok {
		d = proto.CloneOf(d)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, notFound(zonePath(s.Project, zone, "disks", name)))
		return
	}
	writeProto(w, d)
}

func (s *Server) listDisks(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone := r.PathValue("zone")
	s.mu.Lock()
	var items []proto.Message
	for k, d := range s.disks {
		if strings.HasPrefix(k, zone+"/") {
			items = append(items, proto.CloneOf(d))
		}
	}
	s.mu.Unlock()
	page, next, e := paginate(r, items, func(m proto.Message) string { return m.(*computepb.Disk).GetName() })
	if e != nil {
		writeError(w, e)
		return
	}
	out := &computepb.DiskList{Kind: proto.String("compute#diskList"), Id: proto.String(zonePath(s.Project, zone, "disks", ""))}
	for _, m := range page {
		out.Items = append(out.Items, m.(*computepb.Disk))
	}
	if next != "" {
		out.NextPageToken = proto.String(next)
	}
	writeProto(w, out)
}

// newDisk fills what the API sets on a disk it creates.
func (s *Server) newDisk(zone string, d *computepb.Disk, sourceImage string) *computepb.Disk {
	d = proto.CloneOf(d)
	if sourceImage != "" && d.SourceImage == nil {
		d.SourceImage = proto.String(sourceImage)
	}
	if d.SizeGb == nil {
		size := int64(500)
		if d.SourceImage != nil || d.SourceSnapshot != nil {
			size = 10
		}
		d.SizeGb = proto.Int64(size)
	}
	t := d.GetType()
	if t == "" {
		t = "pd-standard"
	}
	d.Type = proto.String(s.link(zonePath(s.Project, zone, "diskTypes", lastSegment(t))))
	d.Kind = proto.String("compute#disk")
	d.Id = proto.Uint64(s.nextID())
	d.Status = proto.String("READY")
	d.Zone = proto.String(s.link("projects/" + s.Project + "/zones/" + zone))
	d.SelfLink = proto.String(s.link(zonePath(s.Project, zone, "disks", d.GetName())))
	d.CreationTimestamp = proto.String(time.Now().Format(time.RFC3339))
	d.Users = nil
	return d
}

func (s *Server) insertDisk(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone := r.PathValue("zone")
	d := &computepb.Disk{}
	if e := readProto(r, d); e != nil {
		writeError(w, e)
		return
	}
	name := d.GetName()
	key := zone + "/" + name
	check := func() *apiError {
		if !nameRE.MatchString(name) {
			return invalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", name)
		}
		if d.GetSizeGb() < 0 {
			return invalid("Invalid value for field 'resource.sizeGb': '%d'.", d.GetSizeGb())
		}
		if _, ok := s.disks[key]; ok {
			return &apiError{http.StatusConflict, "alreadyExists", fmt.Sprintf("The resource '%s' already exists", zonePath(s.Project, zone, "disks", name))}
		}
		return nil
	}
	sourceImage := r.URL.Query().Get("sourceImage")
	apply := func() { s.disks[key] = s.newDisk(zone, d, sourceImage) }
	s.startOperation(w, r, zone, "insert", zonePath(s.Project, zone, "disks", name), "", check, apply)
}

func (s *Server) deleteDisk(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("disk")
	key := zone + "/" + name
	check := func() *apiError {
		d, ok := s.disks[key]
		if !ok {
			return notFound(zonePath(s.Project, zone, "disks", name))
		}
		if len(d.Users) > 0 {
			return &apiError{http.StatusBadRequest, "resourceInUseByAnotherResource",
				fmt.Sprintf("The disk resource '%s' is already being used by '%s'", zonePath(s.Project, zone, "disks", name), trimLink(s.Project, d.Users[0]))}
		}
		return nil
	}
	apply := func() { delete(s.disks, key) }
	s.startOperation(w, r, zone, "delete", zonePath(s.Project, zone, "disks", name), "", check, apply)
}

func (s *Server) getInstance(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("instance")
	s.mu.Lock()
	var wait time.Duration
	if m := s.model; m != nil {
		wait = m.InstanceGet
	}
	s.mu.Unlock()
	if !sleep(r.Context(), wait) {
		return
	}
	s.mu.Lock()
	in, ok := s.instances[zone+"/"+name]
	var pb *computepb.Instance
	if ok {
		pb = proto.CloneOf(in.pb)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, notFound(zonePath(s.Project, zone, "instances", name)))
		return
	}
	writeProto(w, pb)
}

func (s *Server) attachDisk(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("instance")
	ad := &computepb.AttachedDisk{}
	if e := readProto(r, ad); e != nil {
		writeError(w, e)
		return
	}
	src := trimLink(s.Project, ad.GetSource())
	diskKey := ""
	if parts := strings.Split(src, "/"); len(parts) == 6 && parts[0] == "projects" && parts[2] == "zones" && parts[4] == "disks" {
		diskKey = parts[3] + "/" + parts[5]
	}
	device := ad.GetDeviceName()
	check := func() *apiError {
		in, ok := s.instances[zone+"/"+name]
		if !ok {
			return notFound(zonePath(s.Project, zone, "instances", name))
		}
		if diskKey == "" {
			return invalid("Invalid value for field 'resource.source': '%s'. The URL is malformed.", ad.GetSource())
		}
		d, ok := s.disks[diskKey]
		if !ok {
			return notFound(src)
		}
		if strings.Split(diskKey, "/")[0] != zone {
			return invalid("Invalid value for field 'resource.source': '%s'. Disk must be in the same zone as the instance.", ad.GetSource())
		}
		if len(d.Users) > 0 && ad.GetMode() != "READ_ONLY" {
			return &apiError{http.StatusBadRequest, "resourceInUseByAnotherResource",
				fmt.Sprintf("The disk resource '%s' is already being used by '%s'", src, trimLink(s.Project, d.Users[0]))}
		}
		if device != "" {
			for _, a := range in.pb.Disks {
				if a.GetDeviceName() == device {
					return invalid("Invalid value for field 'resource.deviceName': '%s'. Device name '%s' is already in use on instance '%s'.", device, device, name)
				}
			}
		}
		return nil
	}
	apply := func() {
		in := s.instances[zone+"/"+name]
		d := s.disks[diskKey]
		idx := int32(0)
		for _, a := range in.pb.Disks {
			if a.GetIndex() >= idx {
				idx = a.GetIndex() + 1
			}
		}
		dev := device
		if dev == "" {
			dev = fmt.Sprintf("persistent-disk-%d", idx)
		}
		mode := ad.GetMode()
		if mode == "" {
			mode = "READ_WRITE"
		}
		in.pb.Disks = append(in.pb.Disks, &computepb.AttachedDisk{
			Source:     proto.String(d.GetSelfLink()),
			DeviceName: proto.String(dev),
			Index:      proto.Int32(idx),
			Mode:       proto.String(mode),
			Type:       proto.String("PERSISTENT"),
			Boot:       proto.Bool(false),
			AutoDelete: proto.Bool(ad.GetAutoDelete()),
			Kind:       proto.String("compute#attachedDisk"),
		})
		d.Users = append(d.Users, in.pb.GetSelfLink())
		in.devFile(dev, true)
	}
	s.startOperation(w, r, zone, "attachDisk", zonePath(s.Project, zone, "instances", name), src, check, apply, onInstance(zone+"/"+name))
}

func (s *Server) detachDisk(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	zone, name := r.PathValue("zone"), r.PathValue("instance")
	device := r.URL.Query().Get("deviceName")
	find := func(in *Instance) (int, *computepb.AttachedDisk) {
		for i, a := range in.pb.Disks {
			if a.GetDeviceName() == device {
				return i, a
			}
		}
		return -1, nil
	}
	check := func() *apiError {
		in, ok := s.instances[zone+"/"+name]
		if !ok {
			return notFound(zonePath(s.Project, zone, "instances", name))
		}
		if device == "" {
			return invalid("Required field 'deviceName' not specified")
		}
		if i, _ := find(in); i < 0 {
			return invalid("Invalid value for field 'deviceName': '%s'. No attached disk found with device name '%s'", device, device)
		}
		return nil
	}
	apply := func() {
		in := s.instances[zone+"/"+name]
		i, a := find(in)
		if i < 0 {
			return
		}
		in.pb.Disks = append(in.pb.Disks[:i], in.pb.Disks[i+1:]...)
		if d, ok := s.disks[diskKeyOf(s.Project, a.GetSource())]; ok {
			users := d.Users[:0]
			for _, u := range d.Users {
				if u != in.pb.GetSelfLink() {
					users = append(users, u)
				}
			}
			d.Users = users
		}
		in.devFile(device, false)
	}
	// The disk name a stuck detach waits on.
	stuck := ""
	s.mu.Lock()
	if in, ok := s.instances[zone+"/"+name]; ok {
		if _, a := find(in); a != nil && s.stuck[lastSegment(a.GetSource())] {
			stuck = lastSegment(a.GetSource())
		}
	}
	s.mu.Unlock()
	s.startOperation(w, r, zone, "detachDisk", zonePath(s.Project, zone, "instances", name), stuck, check, apply, withStuck(stuck), onInstance(zone+"/"+name))
}

func diskKeyOf(project, link string) string {
	parts := strings.Split(trimLink(project, link), "/")
	if len(parts) == 6 {
		return parts[3] + "/" + parts[5]
	}
	return ""
}

// newRoute fills what the API sets on a route it creates.
func (s *Server) newRoute(r *computepb.Route) *computepb.Route {
	r = proto.CloneOf(r)
	if r.Network == nil {
		r.Network = proto.String("global/networks/default")
	}
	r.Network = proto.String(s.link(trimLink(s.Project, r.GetNetwork())))
	if r.NextHopInstance != nil {
		r.NextHopInstance = proto.String(s.link(trimLink(s.Project, r.GetNextHopInstance())))
	}
	if r.Priority == nil {
		r.Priority = proto.Uint32(1000)
	}
	r.Kind = proto.String("compute#route")
	r.Id = proto.Uint64(s.nextID())
	r.SelfLink = proto.String(s.link("projects/" + s.Project + "/global/routes/" + r.GetName()))
	r.CreationTimestamp = proto.String(time.Now().Format(time.RFC3339))
	return r
}

func (s *Server) getRoute(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	name := r.PathValue("route")
	s.mu.Lock()
	rt, ok := s.routes[name]
	if ok {
		rt = proto.CloneOf(rt)
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, notFound("projects/"+s.Project+"/global/routes/"+name))
		return
	}
	writeProto(w, rt)
}

func (s *Server) listRoutes(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	f, err := parseFilter(r.URL.Query().Get("filter"))
	if err != nil {
		writeError(w, invalid("%v", err))
		return
	}
	s.mu.Lock()
	var items []proto.Message
	for _, rt := range s.routes {
		if f.match(rt) {
			items = append(items, proto.CloneOf(rt))
		}
	}
	s.mu.Unlock()
	page, next, e := paginate(r, items, func(m proto.Message) string { return m.(*computepb.Route).GetName() })
	if e != nil {
		writeError(w, e)
		return
	}
	out := &computepb.RouteList{Kind: proto.String("compute#routeList"), Id: proto.String("projects/" + s.Project + "/global/routes")}
	for _, m := range page {
		out.Items = append(out.Items, m.(*computepb.Route))
	}
	if next != "" {
		out.NextPageToken = proto.String(next)
	}
	writeProto(w, out)
}

func (s *Server) insertRoute(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	rt := &computepb.Route{}
	if e := readProto(r, rt); e != nil {
		writeError(w, e)
		return
	}
	name := rt.GetName()
	check := func() *apiError {
		if !nameRE.MatchString(name) {
			return invalid("Invalid value for field 'resource.name': '%s'. Must be a match of regex '(?:[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)'", name)
		}
		if !validCIDR(rt.GetDestRange()) {
			return invalid("Invalid value for field 'resource.destRange': '%s'. Should be a valid IPv4 CIDR range.", rt.GetDestRange())
		}
		if rt.GetNextHopInstance() == "" && rt.GetNextHopIp() == "" && rt.GetNextHopGateway() == "" {
			return invalid("Invalid value for field 'resource': ''. A route must have exactly one next hop.")
		}
		if nh := rt.GetNextHopInstance(); nh != "" {
			parts := strings.Split(trimLink(s.Project, nh), "/")
			if len(parts) != 6 || parts[4] != "instances" {
				return invalid("Invalid value for field 'resource.nextHopInstance': '%s'. The URL is malformed.", nh)
			}
			if _, ok := s.instances[parts[3]+"/"+parts[5]]; !ok {
				return notFound(trimLink(s.Project, nh))
			}
		}
		if _, ok := s.routes[name]; ok {
			return &apiError{http.StatusConflict, "alreadyExists", fmt.Sprintf("The resource 'projects/%s/global/routes/%s' already exists", s.Project, name)}
		}
		return nil
	}
	apply := func() { s.routes[name] = s.newRoute(rt) }
	s.startOperation(w, r, "", "insert", "projects/"+s.Project+"/global/routes/"+name, "", check, apply)
}

func (s *Server) deleteRoute(w http.ResponseWriter, r *http.Request) {
	if !s.project(w, r) {
		return
	}
	name := r.PathValue("route")
	check := func() *apiError {
		if _, ok := s.routes[name]; !ok {
			return notFound("projects/" + s.Project + "/global/routes/" + name)
		}
		return nil
	}
	apply := func() { delete(s.routes, name) }
	s.startOperation(w, r, "", "delete", "projects/"+s.Project+"/global/routes/"+name, "", check, apply)
}

func validCIDR(s string) bool {
	ip, bits, ok := strings.Cut(s, "/")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(bits)
	if err != nil || n < 0 || n > 32 {
		return false
	}
	parts := strings.Split(ip, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 255 {
			return false
		}
	}
	return true
}

// paginate cuts items (sorted by key) to the page maxResults and pageToken
// ask for.
func paginate(r *http.Request, items []proto.Message, key func(proto.Message) string) ([]proto.Message, string, *apiError) {
	q := r.URL.Query()
	max := 500
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, "", invalid("Invalid value for field 'maxResults': '%s'.", v)
		}
		if n > 0 && n < max {
			max = n
		}
	}
	start := 0
	if t := q.Get("pageToken"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", invalid("Invalid value for field 'pageToken': '%s'.", t)
		}
		start = n
	}
	sortMessages(items, key)
	end := start + max
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	} else {
		end = len(items)
	}
	return items[start:end], next, nil
}

func sortMessages(items []proto.Message, key func(proto.Message) string) {
	sort.Slice(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
}
