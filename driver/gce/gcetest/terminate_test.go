package gcetest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/gce/gcetest"
)

func TestTerminateInstance(t *testing.T) {
	s := gcetest.NewServer("p", "europe-west1-b")
	defer s.Close()
	s.AddInstance("spd02")
	for _, tc := range []struct {
		name, instance string
		terminate      bool
		ok             bool
		want           string
	}{
		{name: "terminate", instance: "spd02", terminate: true, ok: true, want: "TERMINATED"},
		{name: "start again", instance: "spd02", ok: true, want: "RUNNING"},
		{name: "unknown instance", instance: "spd09", terminate: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok := s.StartInstance(tc.instance)
			if tc.terminate {
				ok = s.TerminateInstance(tc.instance)
			}
			require.Equal(t, tc.ok, ok)
			in, found := s.Instance(tc.instance)
			require.Equal(t, tc.ok, found)
			if found {
				require.Equal(t, tc.want, in.GetStatus())
			}
		})
	}
}
