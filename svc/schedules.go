package svc

import (
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc/schedule"
)

// Service task schedules, with the reference's names and defaults
// (opensvc/core/objects/svcdict.py). A schedule keyword is checked with
// the schedule grammar when the configuration loads, like any keyword.
var scheduleKeywords = []driver.Keyword{
	{Name: "status_schedule", Kind: driver.String, Scopable: true, Default: "@10", Text: "when the node daemon refreshes the status of every resource (schedule definition, see svc/schedule)"},
	{Name: "comp_schedule", Kind: driver.String, Scopable: true, Default: "~00:00-06:00", Text: "when the node daemon runs the service's compliance auto: check every module, fix the autofix ones"},
	{Name: "sync_schedule", Kind: driver.String, Scopable: true, Default: "04:00-06:00@121", Text: "the default schedule of the sync resources but sync#i0 (whose default is @60)"},
	{Name: "monitor_schedule", Kind: driver.String, Scopable: true, Text: "when the node daemon runs the resource monitor pass (default: every daemon --interval)"},
}

func init() { serviceKeywords = append(serviceKeywords, scheduleKeywords...) }

// ImplicitSyncSchedule is the default schedule of sync#i0, the sync of
// the service's configuration to its other nodes (the reference's
// sync#i0_schedule).
const ImplicitSyncSchedule = "@60"

// isScheduleKeyword tells whether keyword name of section holds a schedule
// definition: a DEFAULT *_schedule keyword, or a sync resource's schedule.
func isScheduleKeyword(section, name string) bool {
	if section == "DEFAULT" {
		return strings.HasSuffix(name, "_schedule")
	}
	return name == "schedule" && resource.Group(section) == "sync"
}

// checkSchedule parses a schedule keyword's value with the grammar of
// svc/schedule; other keywords pass.
func checkSchedule(section, name, value string) error {
	if !isScheduleKeyword(section, name) {
		return nil
	}
	_, err := schedule.Parse(value, schedule.Options{})
	return err
}

// SyncSchedule is the schedule definition of the sync resource rid: its
// schedule keyword, else sync#i0's default (@60) for sync#i0 and the
// service's sync_schedule for the others.
func (s *Service) SyncSchedule(rid string) string {
	if cfg, ok := s.Config(rid); ok {
		if v := strings.TrimSpace(cfg.String("schedule")); v != "" {
			return v
		}
	}
	if rid == implicitSyncRID {
		return ImplicitSyncSchedule
	}
	return s.Keyword("sync_schedule")
}
