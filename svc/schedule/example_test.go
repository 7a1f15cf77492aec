package schedule_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/svckit/svckit/svc/schedule"
)

// A definition answers when the next run is and whether a run is due; the
// time is always an argument, never read from a clock.
func Example() {
	s, err := schedule.Parse("02:00-04:00@1h mon-fri", schedule.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	friday := time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)
	next, _ := s.Next(friday, time.Time{}) // never ran
	fmt.Println("first run:", next.Format("Mon 2006-01-02 15:04"))

	last := next
	for range 3 {
		next, _ = s.Next(last.Add(time.Second), last)
		fmt.Println("then:", next.Format("Mon 2006-01-02 15:04"), "due:", s.Due(next, last))
		last = next
	}

	_, err = schedule.Parse("02:00-04:00 freday", schedule.Options{})
	fmt.Println(err)
	// Output:
	// first run: Mon 2026-12-07 02:00
	// then: Mon 2026-12-07 03:00 due: true
	// then: Mon 2026-12-07 04:00 due: true
	// then: Tue 2026-12-08 02:00 due: true
	// schedule "02:00-04:00 freday": days "freday": expected <weekday>[-<weekday>][:<monthday>] separated by commas, weekdays mon..sun, monday..sunday or 1-7 (or * or empty for any), monthdays first..fifth, 1st..5th, last, or ±1-31
}

// A task claims its runs (never two at once) and keeps its last run in a
// store, so that a restarted daemon does not run everything again.
func ExampleTask() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "schedule")
	defer os.RemoveAll(dir)
	opts := schedule.TaskOptions{Node: "spd01", Store: schedule.NewStore(dir)}

	task, err := schedule.NewTask("compliance_auto", "@1440", opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	run, err := task.ClaimDue(now)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = task.ClaimDue(now)
	fmt.Println("second claim:", err)
	fmt.Println("release:", run.Release(ctx, nil)) // the run's error, nil here

	restarted, _ := schedule.NewTask("compliance_auto", "@1440", opts)
	if err := restarted.Restore(ctx, now.Add(time.Minute)); err != nil {
		fmt.Println(err)
		return
	}
	next, _ := restarted.Next(now.Add(time.Minute))
	fmt.Println("after a restart, next run:", next.Format(time.DateTime))
	// Output:
	// second claim: task compliance_auto: a run is in progress
	// release: <nil>
	// after a restart, next run: 2026-12-04 10:00:00
}
