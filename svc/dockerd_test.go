package svc_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
)

const dockerdConf = `[DEFAULT]
nodes = n1
%s
[fs#1]
type = ext4
dev = /dev/sdb
mnt = /srv/s1

[container#1]
type = docker
run_image = img
tags = pod1
`

func TestPrivateDockerDaemon(t *testing.T) {
	conf := func(def string) string { return fmt.Sprintf(dockerdConf, def) }

	// docker_data_dir adds container#dockerd: after the fs holding it,
	// before the container; no tags, like that fs.
	s := mustParse(t, conf("docker_data_dir = /srv/s1/docker\n"), "n1", fake.Options{})
	r, ok := s.Resource("container#dockerd")
	require.True(t, ok)
	require.Equal(t, "dockerd /srv/s1/docker", r.Label())
	c, ok := s.Config("container#dockerd")
	require.True(t, ok)
	require.Empty(t, c.Values["tags"])
	wave := func(plan [][]string) map[string]int {
		w := map[string]int{}
		for i, rids := range plan {
			for _, rid := range rids {
				w[rid] = i
			}
		}
		return w
	}
	res, err := s.Start(t.Context(), svc.ActionOptions{DryRun: true})
	require.NoError(t, err)
	w := wave(res.Plan)
	require.True(t, w["fs#1"] < w["container#dockerd"] && w["container#dockerd"] < w["container#1"], "%v", res.Plan)
	res, err = s.Stop(t.Context(), svc.ActionOptions{DryRun: true})
	require.NoError(t, err)
	w = wave(res.Plan)
	require.True(t, w["container#1"] < w["container#dockerd"] && w["container#dockerd"] < w["fs#1"], "%v", res.Plan)
	res, err = s.Start(t.Context(), svc.ActionOptions{DryRun: true, Scheduler: svc.SchedulerGroups})
	require.NoError(t, err)
	w = wave(res.Plan)
	require.True(t, w["fs#1"] < w["container#dockerd"] && w["container#dockerd"] < w["container#1"], "%v", res.Plan)

	// A fake service start and stop see it; a stop of the container
	// alone keeps the daemon.
	s = mustParse(t, conf("docker_data_dir = /srv/s1/docker\n"), "n1", fake.Options{})
	_, err = s.Start(t.Context(), svc.ActionOptions{})
	require.NoError(t, err)
	r, _ = s.Resource("container#dockerd")
	st, err := r.Status(t.Context())
	require.NoError(t, err)
	require.Equal(t, resource.Up, st)
	_, err = s.Stop(t.Context(), svc.ActionOptions{Selection: svc.Selection{Tags: "pod1"}})
	require.NoError(t, err)
	r, _ = s.Resource("container#dockerd")
	st, _ = r.Status(t.Context())
	require.Equal(t, resource.Up, st, "a stop by tags stopped the daemon")

	// docker_daemon_private = false: the host's daemon, no resource.
	s = mustParse(t, conf("docker_data_dir = /srv/s1/docker\ndocker_daemon_private = false\n"), "n1", fake.Options{})
	_, ok = s.Resource("container#dockerd")
	require.False(t, ok)
	// No docker_data_dir: none either.
	s = mustParse(t, conf(""), "n1", fake.Options{})
	_, ok = s.Resource("container#dockerd")
	require.False(t, ok)

	// Problems at DEFAULT's lines.
	for _, tc := range []struct {
		def, keyword, want string
	}{
		{"docker_data_dir = srv/docker\n", "docker_data_dir", `"srv/docker": expected an absolute path`},
		{"docker_data_dir = /d\ndocker_daemon_args = -H tcp://0.0.0.0:2375\n", "docker_daemon_args", "sets one of -H"},
		{"docker_data_dir = /d\ndocker_daemon_args = --log-level \"debug\n", "docker_daemon_args", ""},
		{"docker_data_dir = /d\ndocker_daemon_private = maybe\n", "docker_daemon_private", ""},
	} {
		_, err := parse(t, conf(tc.def), "n1", fake.Options{})
		ps := problems(t, err)
		require.Equal(t, "DEFAULT", ps[0].Section, "%v", ps)
		require.Equal(t, tc.keyword, ps[0].Keyword, "%v", ps)
		require.Greater(t, ps[0].Line, 2)
		require.Contains(t, ps[0].Message, tc.want)
	}
}
