package fake_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
)

// The child side of TestSeparateProcesses: one "CLI invocation" that runs
// an action on pod 01 with the options of the environment.
func TestMain(m *testing.M) {
	if dir := os.Getenv("FAKE_TEST_CHILD_VARDIR"); dir != "" {
		os.Exit(child(dir, os.Getenv("FAKE_TEST_CHILD_ACTION")))
	}
	os.Exit(m.Run())
}

func child(dir, action string) int {
	opts, err := fake.OptionsFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	t := &childTB{}
	rs := seedFixture(dir).build(t, fake.Registry(opts))
	order := podStartOrder("01")
	if action == "stop" {
		order = reversed(order)
	}
	for _, rid := range order {
		var err error
		if action == "stop" {
			err = rs[rid].Stop(context.Background())
		} else {
			err = rs[rid].Start(context.Background())
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// childTB lets the fixture run outside a test.
type childTB struct{ testing.TB }

func (childTB) Helper() {}
func (childTB) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
func (childTB) FailNow() { os.Exit(3) }

func TestSeparateProcesses(t *testing.T) {
	dir := t.TempDir()
	run := func(action string, env ...string) (string, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "FAKE_TEST_CHILD_VARDIR="+dir, "FAKE_TEST_CHILD_ACTION="+action)
		cmd.Env = append(cmd.Env, env...)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	// First invocation: the fault from the environment fails fs#01.
	out, err := run("start", fake.EnvFaults+"=fs#01:start:1:mount: wrong fs type", fake.EnvLatency+"=1ms")
	require.Error(t, err)
	require.Equal(t, "fs#01: start: mount: wrong fs type: injected fault", out)

	// This process sees what the child did.
	rs := seedFixture(dir).build(t, fake.Registry(fake.Options{}))
	require.Equal(t, "stdby up", status(t, rs["disk#01"]))
	require.Equal(t, "down", status(t, rs["fs#01"]))

	// A second invocation starts a new count: the fault was the 1st call.
	out, err = run("start", fake.EnvFaults+"=fs#01:start:1")
	require.Error(t, err, out)
	out, err = run("start", fake.EnvFaults+"=fs#01:start:2")
	require.NoError(t, err, out)
	for _, rid := range podStartOrder("01") {
		require.Contains(t, []string{"up", "stdby up"}, status(t, rs[rid]), rid)
	}

	// The ordering check of a child reads the state this process writes.
	require.NoError(t, rs["ip#01db"].Stop(context.Background()))
	require.NoError(t, rs["container#01db"].Stop(context.Background()))
	out, err = run("stop")
	require.NoError(t, err, out)
	require.Equal(t, "down", status(t, rs["fs#01"]))

	out, err = run("start", fake.EnvFaults+"=fs#01:mount")
	require.Error(t, err)
	require.Contains(t, out, "SVCKIT_FAKE_FAULTS: \"fs#01:mount\": fault fs#01: unknown action \"mount\"")
}
