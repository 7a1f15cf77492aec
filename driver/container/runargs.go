package container

import (
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	units "github.com/docker/go-units"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
)

// RunSpec is what run_args describe: the create call's configuration.
type RunSpec struct {
	Config ctypes.Config
	Host   ctypes.HostConfig
	// Name is --name; the spec checks it against the container name.
	Name string
}

// option is one docker run option run_args accept.
type option struct {
	names []string // "--env", "-e"
	value bool     // takes a value
	apply func(s *RunSpec, v string) error
}

// refused are docker run options that make no sense for a managed
// container, with the reason.
var refused = map[string]string{
	"--rm": "the container must outlive stop, so that start restarts it and status inspects it",
}

// options are the docker run options run_args accept. A value is read
// as "--opt=value", "--opt value", "-o value" or "-ovalue"; boolean short
// options combine ("-dit").
var options = []option{
	{[]string{"--net", "--network"}, true, func(s *RunSpec, v string) error {
		s.Host.NetworkMode = ctypes.NetworkMode(v)
		return nil
	}},
	{[]string{"-e", "--env"}, true, func(s *RunSpec, v string) error {
		name, _, hasValue := strings.Cut(v, "=")
		if name == "" {
			return fmt.Errorf("expected NAME=value or NAME")
		}
		if !hasValue {
			// docker run -e NAME passes the caller's value, if any.
			if val, ok := os.LookupEnv(name); ok {
				v = name + "=" + val
			} else {
				return nil
			}
		}
		s.Config.Env = append(s.Config.Env, v)
		return nil
	}},
	{[]string{"-v", "--volume"}, true, func(s *RunSpec, v string) error {
		parts := strings.Split(v, ":")
		switch {
		case len(parts) == 1 && strings.HasPrefix(v, "/"):
			if s.Config.Volumes == nil {
				s.Config.Volumes = map[string]struct{}{}
			}
			s.Config.Volumes[v] = struct{}{}
		case len(parts) >= 2 && len(parts) <= 3 && parts[0] != "" && strings.HasPrefix(parts[1], "/"):
			s.Host.Binds = append(s.Host.Binds, v)
		default:
			return fmt.Errorf("%q: expected SOURCE:/container/path[:options] or /container/path", v)
		}
		return nil
	}},
	{[]string{"--mount"}, true, func(s *RunSpec, v string) error { return s.mount(v) }},
	{[]string{"--name"}, true, func(s *RunSpec, v string) error { s.Name = v; return nil }},
	{[]string{"-h", "--hostname"}, true, func(s *RunSpec, v string) error { s.Config.Hostname = v; return nil }},
	{[]string{"--domainname"}, true, func(s *RunSpec, v string) error { s.Config.Domainname = v; return nil }},
	{[]string{"-p", "--publish"}, true, func(s *RunSpec, v string) error { return s.publish(v) }},
	{[]string{"-P", "--publish-all"}, false, func(s *RunSpec, _ string) error { s.Host.PublishAllPorts = true; return nil }},
	{[]string{"--expose"}, true, func(s *RunSpec, v string) error {
		p, err := network.ParsePort(v)
		if err != nil {
			return err
		}
		s.expose(p)
		return nil
	}},
	{[]string{"--privileged"}, false, func(s *RunSpec, _ string) error { s.Host.Privileged = true; return nil }},
	{[]string{"--restart"}, true, func(s *RunSpec, v string) error {
		mode, count, hasCount := strings.Cut(v, ":")
		p := ctypes.RestartPolicy{Name: ctypes.RestartPolicyMode(mode)}
		switch p.Name {
		case ctypes.RestartPolicyDisabled, ctypes.RestartPolicyAlways, ctypes.RestartPolicyUnlessStopped:
			if hasCount {
				return fmt.Errorf("%q: only on-failure takes a retry count", v)
			}
		case ctypes.RestartPolicyOnFailure:
			if hasCount {
				n, err := strconv.Atoi(count)
				if err != nil || n < 0 {
					return fmt.Errorf("%q: expected on-failure[:max-retries]", v)
				}
				p.MaximumRetryCount = n
			}
		default:
			return fmt.Errorf("%q: expected no, always, unless-stopped or on-failure[:max-retries]", v)
		}
		s.Host.RestartPolicy = p
		return nil
	}},
	{[]string{"--ulimit"}, true, func(s *RunSpec, v string) error {
		u, err := units.ParseUlimit(v)
		if err != nil {
			return err
		}
		s.Host.Ulimits = append(s.Host.Ulimits, u)
		return nil
	}},
	{[]string{"--cap-add"}, true, func(s *RunSpec, v string) error { s.Host.CapAdd = append(s.Host.CapAdd, v); return nil }},
	{[]string{"--cap-drop"}, true, func(s *RunSpec, v string) error { s.Host.CapDrop = append(s.Host.CapDrop, v); return nil }},
	{[]string{"-m", "--memory"}, true, bytesOpt(func(s *RunSpec) *int64 { return &s.Host.Memory })},
	{[]string{"--memory-reservation"}, true, bytesOpt(func(s *RunSpec) *int64 { return &s.Host.MemoryReservation })},
	{[]string{"--memory-swap"}, true, func(s *RunSpec, v string) error {
		if v == "-1" {
			s.Host.MemorySwap = -1
			return nil
		}
		return bytesOpt(func(s *RunSpec) *int64 { return &s.Host.MemorySwap })(s, v)
	}},
	{[]string{"--shm-size"}, true, bytesOpt(func(s *RunSpec) *int64 { return &s.Host.ShmSize })},
	{[]string{"--cpus"}, true, func(s *RunSpec, v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			return fmt.Errorf("%q: expected a positive number of CPUs (1.5)", v)
		}
		s.Host.NanoCPUs = int64(f * 1e9)
		return nil
	}},
	{[]string{"-c", "--cpu-shares"}, true, intOpt(func(s *RunSpec, n int64) { s.Host.CPUShares = n })},
	{[]string{"--cpuset-cpus"}, true, func(s *RunSpec, v string) error { s.Host.CpusetCpus = v; return nil }},
	{[]string{"--cpuset-mems"}, true, func(s *RunSpec, v string) error { s.Host.CpusetMems = v; return nil }},
	{[]string{"--pids-limit"}, true, intOpt(func(s *RunSpec, n int64) { s.Host.PidsLimit = &n })},
	{[]string{"--oom-score-adj"}, true, intOpt(func(s *RunSpec, n int64) { s.Host.OomScoreAdj = int(n) })},
	{[]string{"-u", "--user"}, true, func(s *RunSpec, v string) error { s.Config.User = v; return nil }},
	{[]string{"-w", "--workdir"}, true, func(s *RunSpec, v string) error { s.Config.WorkingDir = v; return nil }},
	{[]string{"--entrypoint"}, true, func(s *RunSpec, v string) error {
		// As docker run: one word, "" resets the image's entrypoint.
		s.Config.Entrypoint = []string{v}
		return nil
	}},
	{[]string{"-l", "--label"}, true, func(s *RunSpec, v string) error {
		k, val, _ := strings.Cut(v, "=")
		if k == "" {
			return fmt.Errorf("%q: expected KEY=value", v)
		}
		if s.Config.Labels == nil {
			s.Config.Labels = map[string]string{}
		}
		s.Config.Labels[k] = val
		return nil
	}},
	{[]string{"--dns"}, true, func(s *RunSpec, v string) error {
		a, err := netip.ParseAddr(v)
		if err != nil {
			return fmt.Errorf("%q: expected an ip address", v)
		}
		s.Host.DNS = append(s.Host.DNS, a)
		return nil
	}},
	{[]string{"--dns-search"}, true, func(s *RunSpec, v string) error { s.Host.DNSSearch = append(s.Host.DNSSearch, v); return nil }},
	{[]string{"--dns-option", "--dns-opt"}, true, func(s *RunSpec, v string) error { s.Host.DNSOptions = append(s.Host.DNSOptions, v); return nil }},
	{[]string{"--add-host"}, true, func(s *RunSpec, v string) error {
		// docker run accepts host:ip and host=ip; the API wants host:ip.
		h, ip, ok := strings.Cut(v, "=")
		if !ok {
			h, ip, ok = strings.Cut(v, ":")
		}
		if !ok || h == "" {
			return fmt.Errorf("%q: expected HOST:IP", v)
		}
		if _, err := netip.ParseAddr(strings.Trim(ip, "[]")); err != nil && ip != "host-gateway" {
			return fmt.Errorf("%q: %q is not an ip address", v, ip)
		}
		s.Host.ExtraHosts = append(s.Host.ExtraHosts, h+":"+ip)
		return nil
	}},
	{[]string{"--tmpfs"}, true, func(s *RunSpec, v string) error {
		p, opts, _ := strings.Cut(v, ":")
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("%q: expected /container/path[:options]", v)
		}
		if s.Host.Tmpfs == nil {
			s.Host.Tmpfs = map[string]string{}
		}
		s.Host.Tmpfs[p] = opts
		return nil
	}},
	{[]string{"--read-only"}, false, func(s *RunSpec, _ string) error { s.Host.ReadonlyRootfs = true; return nil }},
	{[]string{"--init"}, false, func(s *RunSpec, _ string) error { t := true; s.Host.Init = &t; return nil }},
	{[]string{"--ipc"}, true, func(s *RunSpec, v string) error { s.Host.IpcMode = ctypes.IpcMode(v); return nil }},
	{[]string{"--pid"}, true, func(s *RunSpec, v string) error { s.Host.PidMode = ctypes.PidMode(v); return nil }},
	{[]string{"--uts"}, true, func(s *RunSpec, v string) error { s.Host.UTSMode = ctypes.UTSMode(v); return nil }},
	{[]string{"--userns"}, true, func(s *RunSpec, v string) error { s.Host.UsernsMode = ctypes.UsernsMode(v); return nil }},
	{[]string{"--cgroupns"}, true, func(s *RunSpec, v string) error { s.Host.CgroupnsMode = ctypes.CgroupnsMode(v); return nil }},
	{[]string{"--log-driver"}, true, func(s *RunSpec, v string) error { s.Host.LogConfig.Type = v; return nil }},
	{[]string{"--log-opt"}, true, func(s *RunSpec, v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q: expected KEY=value", v)
		}
		if s.Host.LogConfig.Config == nil {
			s.Host.LogConfig.Config = map[string]string{}
		}
		s.Host.LogConfig.Config[k] = val
		return nil
	}},
	{[]string{"--security-opt"}, true, func(s *RunSpec, v string) error { s.Host.SecurityOpt = append(s.Host.SecurityOpt, v); return nil }},
	{[]string{"--sysctl"}, true, func(s *RunSpec, v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q: expected KEY=value", v)
		}
		if s.Host.Sysctls == nil {
			s.Host.Sysctls = map[string]string{}
		}
		s.Host.Sysctls[k] = val
		return nil
	}},
	{[]string{"--group-add"}, true, func(s *RunSpec, v string) error { s.Host.GroupAdd = append(s.Host.GroupAdd, v); return nil }},
	{[]string{"--device"}, true, func(s *RunSpec, v string) error {
		parts := strings.Split(v, ":")
		d := ctypes.DeviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
		if len(parts) > 1 {
			d.PathInContainer = parts[1]
		}
		if len(parts) > 2 {
			d.CgroupPermissions = parts[2]
		}
		if len(parts) > 3 || !strings.HasPrefix(d.PathOnHost, "/") || !strings.HasPrefix(d.PathInContainer, "/") {
			return fmt.Errorf("%q: expected /dev/host[:/dev/container[:rwm]]", v)
		}
		s.Host.Devices = append(s.Host.Devices, d)
		return nil
	}},
	{[]string{"--runtime"}, true, func(s *RunSpec, v string) error { s.Host.Runtime = v; return nil }},
	{[]string{"--stop-signal"}, true, func(s *RunSpec, v string) error { s.Config.StopSignal = v; return nil }},
	{[]string{"--stop-timeout"}, true, intOpt(func(s *RunSpec, n int64) { i := int(n); s.Config.StopTimeout = &i })},
	{[]string{"-i", "--interactive"}, false, func(s *RunSpec, _ string) error { s.Config.OpenStdin = true; return nil }},
	{[]string{"-t", "--tty"}, false, func(s *RunSpec, _ string) error { s.Config.Tty = true; return nil }},
	// A managed container always runs detached.
	{[]string{"-d", "--detach"}, false, func(*RunSpec, string) error { return nil }},
}

func bytesOpt(field func(*RunSpec) *int64) func(*RunSpec, string) error {
	return func(s *RunSpec, v string) error {
		n, err := units.RAMInBytes(v)
		if err != nil {
			return fmt.Errorf("%q: expected a size (512m, 2g)", v)
		}
		*field(s) = n
		return nil
	}
}

func intOpt(set func(*RunSpec, int64)) func(*RunSpec, string) error {
	return func(s *RunSpec, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q: expected an integer", v)
		}
		set(s, n)
		return nil
	}
}

func (s *RunSpec) expose(p network.Port) {
	if s.Config.ExposedPorts == nil {
		s.Config.ExposedPorts = network.PortSet{}
	}
	s.Config.ExposedPorts[p] = struct{}{}
}

// mount reads a --mount spec: type=bind|volume|tmpfs,source=...,target=...
// and the options of each type.
func (s *RunSpec) mount(v string) error {
	m := mount.Mount{Type: mount.TypeVolume}
	for _, f := range strings.Split(v, ",") {
		k, val, hasVal := strings.Cut(f, "=")
		var err error
		switch strings.ToLower(k) {
		case "type":
			m.Type = mount.Type(val)
		case "source", "src":
			m.Source = val
		case "target", "destination", "dst":
			m.Target = val
		case "readonly", "ro":
			m.ReadOnly = true
			if hasVal {
				m.ReadOnly, err = strconv.ParseBool(val)
			}
		case "bind-propagation":
			if m.BindOptions == nil {
				m.BindOptions = &mount.BindOptions{}
			}
			m.BindOptions.Propagation = mount.Propagation(val)
		case "volume-nocopy":
			if m.VolumeOptions == nil {
				m.VolumeOptions = &mount.VolumeOptions{}
			}
			m.VolumeOptions.NoCopy = true
			if hasVal {
				m.VolumeOptions.NoCopy, err = strconv.ParseBool(val)
			}
		case "volume-subpath":
			if m.VolumeOptions == nil {
				m.VolumeOptions = &mount.VolumeOptions{}
			}
			m.VolumeOptions.Subpath = val
		case "tmpfs-size":
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			m.TmpfsOptions.SizeBytes, err = units.RAMInBytes(val)
		case "tmpfs-mode":
			if m.TmpfsOptions == nil {
				m.TmpfsOptions = &mount.TmpfsOptions{}
			}
			var mode uint64
			mode, err = strconv.ParseUint(val, 8, 32)
			m.TmpfsOptions.Mode = os.FileMode(mode)
		default:
			return fmt.Errorf("%q: unsupported field %q (type, source, target, readonly, bind-propagation, volume-nocopy, volume-subpath, tmpfs-size, tmpfs-mode)", v, k)
		}
		if err != nil {
			return fmt.Errorf("%q: field %s: %w", v, k, err)
		}
	}
	switch {
	case m.Type != mount.TypeBind && m.Type != mount.TypeVolume && m.Type != mount.TypeTmpfs:
		return fmt.Errorf("%q: type %q: expected bind, volume or tmpfs", v, m.Type)
	case !strings.HasPrefix(m.Target, "/"):
		return fmt.Errorf("%q: expected target=/container/path", v)
	case m.Type == mount.TypeBind && !strings.HasPrefix(m.Source, "/"):
		return fmt.Errorf("%q: a bind needs source=/host/path", v)
	case m.Type == mount.TypeTmpfs && m.Source != "":
		return fmt.Errorf("%q: a tmpfs has no source", v)
	}
	s.Host.Mounts = append(s.Host.Mounts, m)
	return nil
}

// publish reads [ip:][hostPort:]containerPort[/proto].
func (s *RunSpec) publish(v string) error {
	rest, proto, hasProto := strings.Cut(v, "/")
	var hostIP, hostPort, cport string
	// An IPv6 host address is bracketed: [::1]:8080:80.
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 {
			return fmt.Errorf("%q: expected [ipv6]:hostPort:containerPort", v)
		}
		hostIP, rest = rest[1:end], rest[end+2:]
		var ok bool
		if hostPort, cport, ok = strings.Cut(rest, ":"); !ok {
			return fmt.Errorf("%q: expected [ipv6]:hostPort:containerPort", v)
		}
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			cport = parts[0]
		case 2:
			hostPort, cport = parts[0], parts[1]
		case 3:
			hostIP, hostPort, cport = parts[0], parts[1], parts[2]
		default:
			return fmt.Errorf("%q: expected [ip:][hostPort:]containerPort[/proto]", v)
		}
	}
	if strings.Contains(cport, "-") || strings.Contains(hostPort, "-") {
		return fmt.Errorf("%q: port ranges are not supported: publish each port", v)
	}
	ps := cport
	if hasProto {
		ps += "/" + proto
	}
	p, err := network.ParsePort(ps)
	if err != nil {
		return fmt.Errorf("%q: %w", v, err)
	}
	if hostPort != "" {
		if _, err := strconv.ParseUint(hostPort, 10, 16); err != nil {
			return fmt.Errorf("%q: host port %q is not a port number", v, hostPort)
		}
	}
	b := network.PortBinding{HostPort: hostPort}
	if hostIP != "" {
		a, err := netip.ParseAddr(hostIP)
		if err != nil {
			return fmt.Errorf("%q: %q is not an ip address", v, hostIP)
		}
		b.HostIP = a
	}
	s.expose(p)
	if s.Host.PortBindings == nil {
		s.Host.PortBindings = network.PortMap{}
	}
	s.Host.PortBindings[p] = append(s.Host.PortBindings[p], b)
	return nil
}

// optionsByName indexes options by each of their names, once: a load
// parses the run_args of every container of the service.
var optionsByName = sync.OnceValue(func() map[string]*option {
	m := map[string]*option{}
	for i := range options {
		for _, n := range options[i].names {
			m[n] = &options[i]
		}
	}
	return m
})

// ParseRunArgs maps docker run options to the create call. Errors name
// the option, never the value of an -e option (it may be a password).
func ParseRunArgs(args []string) (*RunSpec, error) {
	byName := optionsByName()
	s := &RunSpec{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return nil, fmt.Errorf("argument %d is not an option: run_args holds docker run options only (the image is run_image, the command run_command)", i+1)
		}
		if strings.HasPrefix(a, "--") {
			name, val, hasVal := strings.Cut(a, "=")
			if why, ok := refused[name]; ok {
				return nil, fmt.Errorf("option %s is refused: %s", name, why)
			}
			o, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("unsupported option %q%s", name, supportedHint())
			}
			if o.value && !hasVal {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option %s needs a value", name)
				}
				i++
				val = args[i]
			} else if !o.value && hasVal {
				b, err := strconv.ParseBool(val)
				if err != nil {
					return nil, fmt.Errorf("option %s takes no value (or true/false)", name)
				}
				if !b {
					continue
				}
			}
			if err := o.apply(s, val); err != nil {
				return nil, fmt.Errorf("option %s: %w", name, redactErr(name, err))
			}
			continue
		}
		// Short options: "-e VALUE", "-eVALUE", "-dit".
		for j := 1; j < len(a); j++ {
			name := "-" + a[j:j+1]
			o, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("unsupported option %q%s", name, supportedHint())
			}
			if !o.value {
				if err := o.apply(s, ""); err != nil {
					return nil, fmt.Errorf("option %s: %w", name, err)
				}
				continue
			}
			val := strings.TrimPrefix(a[j+1:], "=")
			if val == "" {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("option %s needs a value", name)
				}
				i++
				val = args[i]
			}
			if err := o.apply(s, val); err != nil {
				return nil, fmt.Errorf("option %s: %w", name, redactErr(name, err))
			}
			break
		}
	}
	return s, nil
}

// redactErr drops the detail of an -e error, which could quote a secret.
func redactErr(name string, err error) error {
	if name == "-e" || name == "--env" {
		return fmt.Errorf("expected NAME=value or NAME")
	}
	return err
}

func supportedHint() string {
	var names []string
	for _, o := range options {
		names = append(names, o.names[len(o.names)-1])
	}
	sort.Strings(names)
	return ": supported options are " + strings.Join(names, ", ")
}
