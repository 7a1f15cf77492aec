package svc_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// TestScheduleKeywords checks the service task schedules: defaults as the
// reference's, values checked with the schedule grammar like any keyword
// (the problem names the keyword and the part that is wrong).
func TestScheduleKeywords(t *testing.T) {
	base, err := os.ReadFile("testdata/spdsvc01.conf")
	require.NoError(t, err)
	tests := []struct {
		name     string
		defaults string
		extra    string
		want     map[string]string
		sync     string
		err      []string
	}{
		{"defaults", "", "", map[string]string{"status_schedule": "@10", "comp_schedule": "~00:00-06:00", "sync_schedule": "04:00-06:00@121", "monitor_schedule": ""}, "@60", nil},
		{"set", "status_schedule = @5\ncomp_schedule = [\"02:00-04:00@120 mon-fri\"]\nmonitor_schedule = @30s\n", "[sync#i0]\nschedule = @15\n",
			map[string]string{"status_schedule": "@5", "comp_schedule": "[\"02:00-04:00@120 mon-fri\"]", "monitor_schedule": "@30s"}, "@15", nil},
		{"scoped", "status_schedule@spd01 = @2\nstatus_schedule = @20\n", "", map[string]string{"status_schedule": "@2"}, "@60", nil},
		{"disabled", "comp_schedule = @0\n", "", map[string]string{"comp_schedule": "@0"}, "@60", nil},
		{"bad time", "status_schedule = 25:00-26:00\n", "", nil, "", []string{"status_schedule", "25:00"}},
		{"bad interval", "monitor_schedule = @1x\n", "", nil, "", []string{"monitor_schedule", "interval"}},
		{"bad day", "comp_schedule = 00:00-06:00 funday\n", "", nil, "", []string{"comp_schedule", "funday"}},
		{"bad sync", "", "[sync#i0]\nschedule = @-1\n", nil, "", []string{"sync#i0", "schedule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := strings.Replace(string(base), "[DEFAULT]\n", "[DEFAULT]\n"+tt.defaults, 1) + "\n" + tt.extra
			s, err := svc.Parse(context.Background(), "spdsvc01.conf", []byte(conf),
				svc.Options{Node: "spd01", Registry: fake.Registry(fake.Options{}), VarDir: t.TempDir(), NoTriggers: true})
			if tt.err != nil {
				var ve *svc.ValidationError
				require.ErrorAs(t, err, &ve)
				for _, e := range tt.err {
					require.ErrorContains(t, err, e)
				}
				return
			}
			require.NoError(t, err)
			for k, v := range tt.want {
				require.Equal(t, v, s.Keyword(k), k)
			}
			require.Equal(t, tt.sync, s.SyncSchedule("sync#i0"))
		})
	}
}
