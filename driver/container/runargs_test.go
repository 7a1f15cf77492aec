package container

import (
	"net/netip"
	"testing"

	units "github.com/docker/go-units"
	"github.com/google/shlex"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/resource/secret"
)

func parse(t *testing.T, line string) *RunSpec {
	t.Helper()
	args, err := shlex.Split(line)
	require.NoError(t, err)
	s, err := ParseRunArgs(args)
	require.NoError(t, err, line)
	return s
}

// TestSeedRunArgs parses the run_args of the reference's pods.
func TestSeedRunArgs(t *testing.T) {
	s := parse(t, `--net=none
    -e MYSQL_ROOT_PASSWORD=s3cr3t
    -v /etc/localtime:/etc/localtime:ro
    -v /spdsvc01/pod01/sm/data:/var/lib/mysql:rw
    -v /spdsvc01/pod01/sm/conf:/etc/mysql/conf.d:rw
    -v /spdsvc01/pod01/sm/init:/docker-entrypoint-initdb.d:rw`)
	require.Equal(t, ctypes.NetworkMode("none"), s.Host.NetworkMode)
	require.Equal(t, []string{"MYSQL_ROOT_PASSWORD=s3cr3t"}, s.Config.Env)
	require.Equal(t, []string{
		"/etc/localtime:/etc/localtime:ro",
		"/spdsvc01/pod01/sm/data:/var/lib/mysql:rw",
		"/spdsvc01/pod01/sm/conf:/etc/mysql/conf.d:rw",
		"/spdsvc01/pod01/sm/init:/docker-entrypoint-initdb.d:rw",
	}, s.Host.Binds)
}

func TestRunArgsOptions(t *testing.T) {
	t.Setenv("SVCKIT_TEST_PASSTHROUGH", "from-env")
	s := parse(t, `-dit --name db --hostname=db01 -h db02 --network bridge
		-e A=1 -eB=2 --env C= -e SVCKIT_TEST_PASSTHROUGH -e SVCKIT_TEST_UNSET_VAR
		-v /data -v vol:/var/lib/x
		-p 3306 -p 8080:80 -p 127.0.0.1:9000:9000/udp -p [::1]:53:53/udp -P --expose 7000
		--privileged --restart on-failure:3 --ulimit nofile=1024:2048
		--cap-add NET_ADMIN --cap-drop MKNOD -m 512m --memory-swap -1 --shm-size 64m --cpus 1.5 -c 512
		--cpuset-cpus 0-1 --pids-limit 100 --oom-score-adj -500
		-u 999:999 -w /srv --entrypoint /bin/sh -l a=b --label c
		--dns 10.0.0.2 --dns-search example.com --dns-option ndots:2
		--add-host db:10.0.0.3 --add-host=web=10.0.0.4
		--tmpfs /run:rw,size=64m --read-only --init --ipc shareable --pid host --uts host
		--log-driver json-file --log-opt max-size=10m --security-opt no-new-privileges
		--sysctl net.core.somaxconn=1024 --group-add 10 --device /dev/fuse
		--stop-signal SIGINT --stop-timeout 20 --privileged=false
		--mount type=bind,source=/srv/conf,target=/etc/app,readonly,bind-propagation=rslave
		--mount type=tmpfs,target=/scratch,tmpfs-size=64m,tmpfs-mode=1770
		--mount source=cache,target=/cache,volume-nocopy`)

	require.Equal(t, "db", s.Name)
	require.Equal(t, "db02", s.Config.Hostname)
	require.True(t, s.Config.OpenStdin)
	require.True(t, s.Config.Tty)
	require.Equal(t, ctypes.NetworkMode("bridge"), s.Host.NetworkMode)
	require.Equal(t, []string{"A=1", "B=2", "C=", "SVCKIT_TEST_PASSTHROUGH=from-env"}, s.Config.Env)
	require.Equal(t, map[string]struct{}{"/data": {}}, s.Config.Volumes)
	require.Equal(t, []string{"vol:/var/lib/x"}, s.Host.Binds)

	p3306, p80, p9000, p53, p7000 := network.MustParsePort("3306/tcp"), network.MustParsePort("80/tcp"),
		network.MustParsePort("9000/udp"), network.MustParsePort("53/udp"), network.MustParsePort("7000/tcp")
	require.Equal(t, network.PortSet{p3306: {}, p80: {}, p9000: {}, p53: {}, p7000: {}}, s.Config.ExposedPorts)
	require.Equal(t, network.PortMap{
		p3306: {{}},
		p80:   {{HostPort: "8080"}},
		p9000: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "9000"}},
		p53:   {{HostIP: netip.MustParseAddr("::1"), HostPort: "53"}},
	}, s.Host.PortBindings)
	require.True(t, s.Host.PublishAllPorts)
	require.True(t, s.Host.Privileged, "--privileged=false does not undo an earlier --privileged")
	require.Equal(t, ctypes.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3}, s.Host.RestartPolicy)
	require.Equal(t, []*units.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}, s.Host.Ulimits)
	require.Equal(t, []string{"NET_ADMIN"}, s.Host.CapAdd)
	require.Equal(t, []string{"MKNOD"}, s.Host.CapDrop)
	require.EqualValues(t, 512<<20, s.Host.Memory)
	require.EqualValues(t, -1, s.Host.MemorySwap)
	require.EqualValues(t, 64<<20, s.Host.ShmSize)
	require.EqualValues(t, 1500000000, s.Host.NanoCPUs)
	require.EqualValues(t, 512, s.Host.CPUShares)
	require.Equal(t, "0-1", s.Host.CpusetCpus)
	require.EqualValues(t, 100, *s.Host.PidsLimit)
	require.Equal(t, -500, s.Host.OomScoreAdj)
	require.Equal(t, "999:999", s.Config.User)
	require.Equal(t, "/srv", s.Config.WorkingDir)
	require.Equal(t, []string{"/bin/sh"}, s.Config.Entrypoint)
	require.Equal(t, map[string]string{"a": "b", "c": ""}, s.Config.Labels)
	require.Equal(t, []netip.Addr{netip.MustParseAddr("10.0.0.2")}, s.Host.DNS)
	require.Equal(t, []string{"example.com"}, s.Host.DNSSearch)
	require.Equal(t, []string{"ndots:2"}, s.Host.DNSOptions)
	require.Equal(t, []string{"db:10.0.0.3", "web:10.0.0.4"}, s.Host.ExtraHosts)
	require.Equal(t, map[string]string{"/run": "rw,size=64m"}, s.Host.Tmpfs)
	require.True(t, s.Host.ReadonlyRootfs)
	require.True(t, *s.Host.Init)
	require.Equal(t, ctypes.IpcMode("shareable"), s.Host.IpcMode)
	require.Equal(t, ctypes.PidMode("host"), s.Host.PidMode)
	require.Equal(t, ctypes.UTSMode("host"), s.Host.UTSMode)
	require.Equal(t, ctypes.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m"}}, s.Host.LogConfig)
	require.Equal(t, []string{"no-new-privileges"}, s.Host.SecurityOpt)
	require.Equal(t, map[string]string{"net.core.somaxconn": "1024"}, s.Host.Sysctls)
	require.Equal(t, []string{"10"}, s.Host.GroupAdd)
	require.Equal(t, []ctypes.DeviceMapping{{PathOnHost: "/dev/fuse", PathInContainer: "/dev/fuse", CgroupPermissions: "rwm"}}, s.Host.Devices)
	require.Equal(t, "SIGINT", s.Config.StopSignal)
	require.Equal(t, 20, *s.Config.StopTimeout)
	require.Equal(t, []mount.Mount{
		{Type: mount.TypeBind, Source: "/srv/conf", Target: "/etc/app", ReadOnly: true, BindOptions: &mount.BindOptions{Propagation: mount.PropagationRSlave}},
		{Type: mount.TypeTmpfs, Target: "/scratch", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 64 << 20, Mode: 0o1770}},
		{Type: mount.TypeVolume, Source: "cache", Target: "/cache", VolumeOptions: &mount.VolumeOptions{NoCopy: true}},
	}, s.Host.Mounts)
}

func TestRunArgsErrors(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"--rm", "option --rm is refused: the container must outlive stop"},
		{"--frobnicate 1", `unsupported option "--frobnicate": supported options are`},
		{"-Z", `unsupported option "-Z"`},
		{"-dZ", `unsupported option "-Z"`},
		{"-e", "option -e needs a value"},
		{"--net", "option --net needs a value"},
		{"mariadb", "argument 1 is not an option"},
		{"--net=none -- sleep", "argument 2 is not an option"},
		{"--restart sometimes", `option --restart: "sometimes": expected no, always, unless-stopped or on-failure[:max-retries]`},
		{"--restart always:3", "only on-failure takes a retry count"},
		{"-p 8000-8010:80", "port ranges are not supported"},
		{"-p 1:2:3:4", "expected [ip:][hostPort:]containerPort[/proto]"},
		{"-p 99999:80", `host port "99999" is not a port number`},
		{"-m lots", `option -m: "lots": expected a size`},
		{"--cpus 0", "expected a positive number of CPUs"},
		{"--ulimit nofile", "option --ulimit"},
		{"-v relative", `option -v: "relative": expected SOURCE:/container/path`},
		{"--dns nameserver", "expected an ip address"},
		{"--add-host db", "expected HOST:IP"},
		{"--tmpfs run", "expected /container/path"},
		{"--read-only=maybe", "option --read-only takes no value"},
		{"-e =x", "option -e: expected NAME=value or NAME"},
		{"--mount type=bind,target=/x", "a bind needs source=/host/path"},
		{"--mount type=image,target=/x", `type "image": expected bind, volume or tmpfs`},
		{"--mount source=v", "expected target=/container/path"},
		{"--mount type=tmpfs,source=x,target=/x", "a tmpfs has no source"},
		{"--mount type=bind,src=/a,dst=/b,consistency=cached", `unsupported field "consistency"`},
		{"--mount type=bind,src=/a,dst=/b,ro=maybe", "field ro"},
		{"--stop-timeout soon", `option --stop-timeout: "soon": expected an integer`},
	} {
		args, err := shlex.Split(tc.line)
		require.NoError(t, err)
		_, err = ParseRunArgs(args)
		require.ErrorContains(t, err, tc.want, tc.line)
	}
}

// TestRunArgsSecretsLogged checks what the driver logs of run_args: the
// environment of every secret name the rule knows is masked, the rest
// shown, and an -e error never quotes the value.
func TestRunArgsSecretsLogged(t *testing.T) {
	args, err := shlex.Split(`--net=none -e MYSQL_ROOT_PASSWORD=s3cr3t -e MYSQL_PWD=pwd1 --env DB_PASS=pass2
		--env=AWS_CREDENTIALS=cred3 -eSSH_KEY=key4 -e API_TOKEN=tok5 -e TZ=UTC -e MONKEY=banana`)
	require.NoError(t, err)
	spec, err := ParseRunArgs(args)
	require.NoError(t, err)
	require.Equal(t, []string{"MYSQL_ROOT_PASSWORD=xxxx", "MYSQL_PWD=xxxx", "DB_PASS=xxxx", "AWS_CREDENTIALS=xxxx",
		"SSH_KEY=xxxx", "API_TOKEN=xxxx", "TZ=UTC", "MONKEY=banana"}, secret.RedactEnv(spec.Config.Env))
	require.Contains(t, spec.Config.Env, "MYSQL_PWD=pwd1", "the container still gets the value")

	_, err = ParseRunArgs([]string{"-e", "=s3cr3t"})
	require.ErrorContains(t, err, "option -e: expected NAME=value or NAME")
	require.NotContains(t, err.Error(), "s3cr3t")
}
