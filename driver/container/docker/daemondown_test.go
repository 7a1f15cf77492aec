package docker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	ctr "github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/container/docker"
	"github.com/svckit/svckit/driver/container/dockerd"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

const downConf = `[DEFAULT]
nodes = n1
docker_data_dir = /srv/s1/docker

[fs#1]
type = ext4
dev = /dev/sdb
mnt = /srv/s1

[container#1]
type = docker
run_image = img
run_args = --net=none
`

// loadDown loads a service whose private daemon is not running: the real
// container.docker, fakes for the rest (container#dockerd included), a
// var directory of its own. No daemon, no root needed.
func loadDown(t *testing.T) (*svc.Service, string) {
	t.Helper()
	// Short: the socket path must fit in 108 bytes.
	varDir, err := os.MkdirTemp("", "dd")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(varDir) })
	reg := fake.Registry(fake.Options{})
	reg.Replace(ctr.Docker, docker.New)
	s, err := svc.Parse(context.Background(), "s.conf", []byte(downConf), svc.Options{Node: "n1", Registry: reg, VarDir: varDir, NoTriggers: true})
	require.NoError(t, err)
	return s, varDir
}

func findStatus(t *testing.T, rep *svc.StatusReport, rid string) svc.ResourceStatus {
	t.Helper()
	for _, rs := range rep.Resources {
		if rs.RID == rid {
			return rs
		}
	}
	t.Fatalf("%s not in the status", rid)
	return svc.ResourceStatus{}
}

// TestPrivateDaemonDown: with the service's private daemon not running
// (no socket, a stale socket file, a socket nobody accepts on) the
// container is down and its log says the daemon is not running, as
// information: the stopped service is down, not warn. A socket that
// answers but is no Docker daemon is a problem: undef, overall warn.
func TestPrivateDaemonDown(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, sock string)
		status  resource.Status
		log     string
		overall resource.Status
	}{
		{"no socket", func(*testing.T, string) {}, resource.Down, "the private docker daemon is not running (socket %s)", resource.Down},
		{"stale socket file", func(t *testing.T, sock string) {
			require.NoError(t, os.WriteFile(sock, nil, 0o600))
		}, resource.Down, "the private docker daemon is not running (socket %s)", resource.Down},
		{"socket of a closed listener", func(t *testing.T, sock string) {
			l, err := net.Listen("unix", sock)
			require.NoError(t, err)
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			require.NoError(t, l.Close())
		}, resource.Down, "the private docker daemon is not running (socket %s)", resource.Down},
		{"a listener that is no docker daemon", func(t *testing.T, sock string) {
			l, err := net.Listen("unix", sock)
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Write([]byte("garbage\r\n\r\n"))
					c.Close()
				}
			}()
		}, resource.Undef, "inspect s.container.1: ", resource.Warn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, varDir := loadDown(t)
			sock := filepath.Join(varDir, "docker.sock")
			tc.prepare(t, sock)
			rep := s.Status(context.Background())
			rs := findStatus(t, rep, "container#1")
			require.Equal(t, tc.status, rs.Status)
			require.Len(t, rs.Log, 1)
			want := tc.log
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, sock)
			}
			require.Contains(t, rs.Log[0], want)
			require.Equal(t, tc.overall, rep.Overall, "a container down with its daemon is information, not a problem")
			tree := rep.Render(svc.StatusOptions{})
			require.Contains(t, tree, "|  |- container#1    .... "+tc.status.String())
			require.Contains(t, tree, "|  |     # "+rs.Log[0]+"\n")
			// The daemon's rid, too long for the seed's column, is on
			// a line of its own; its status stays in the column.
			require.Contains(t, tree, "|  '- container#dockerd\n|                    .... down       dockerd /srv/s1/docker\n'- accessory\n")
		})
	}
}

// TestUnprovisionDaemonDown: unprovision of a container whose private
// daemon is down fails naming the daemon and what to do; --force goes on
// and leaves the container in the data root.
func TestUnprovisionDaemonDown(t *testing.T) {
	s, varDir := loadDown(t)
	ctx := context.Background()
	_, err := s.Unprovision(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#1"}}})
	require.ErrorIs(t, err, dockerd.ErrNotRunning)
	require.ErrorContains(t, err, "container#1: unprovision: s.container.1: the private docker daemon is not running (socket "+filepath.Join(varDir, "docker.sock")+"): the container stays in the daemon's data root; start the daemon (start --rid container#dockerd")
	require.ErrorContains(t, err, "or unprovision --force to leave it there")
	var re *resource.Error
	require.True(t, errors.As(err, &re))

	res, err := s.Unprovision(ctx, svc.ActionOptions{Selection: svc.Selection{RIDs: []string{"container#1"}}, Force: true})
	require.NoError(t, err)
	require.Len(t, res.Steps, 1)
	require.Equal(t, "container#1", res.Steps[0].RID)
}
