package svc_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// groupMembers lists the live processes of process group pgid.
func groupMembers(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// A cancelled action stops its trigger's whole process group, not only
// /bin/sh: the action returns at once, and no child outlives it.
func TestTriggerCancelKillsGroup(t *testing.T) {
	for _, tc := range []struct{ name, cmd string }{
		{"sequence", "sleep 12; echo x"},
		{"background child", "sleep 13 & sleep 12; echo x"},
		{"child ignoring TERM", "sh -c 'trap \"\" TERM; sleep 14' & sleep 12; echo x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			pidFile := filepath.Join(dir, "pid")
			conf := fmt.Sprintf("[DEFAULT]\nnodes = n1\n\n[fs#01]\ntype = ext4\ndev = /dev/sdb\nmnt = /a\npost_start = echo $$ > %s; %s\n", pidFile, tc.cmd)
			s, err := svc.Parse(t.Context(), "svc1.conf", []byte(conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), Root: t.TempDir()})
			require.NoError(t, err)

			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() {
				_, err := s.Start(ctx, svc.ActionOptions{})
				done <- err
			}()
			var pgid int
			require.Eventually(t, func() bool {
				b, err := os.ReadFile(pidFile)
				if err != nil {
					return false
				}
				pgid, err = strconv.Atoi(strings.TrimSpace(string(b)))
				return err == nil && len(groupMembers(t, pgid)) >= 2
			}, 5*time.Second, 20*time.Millisecond, "the trigger and its sleep run")
			cancel()
			select {
			case err := <-done:
				require.Error(t, err)
				require.Contains(t, err.Error(), "post_start")
			case <-time.After(svc.TriggerGrace + 5*time.Second):
				t.Fatal("the action did not return after cancellation (it waits for the sleep)")
			}
			require.Empty(t, groupMembers(t, pgid), "processes of the trigger's group outlived the action")
		})
	}
}
