package monitor_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/monitor"
)

// A container crashes behind the service's back (fake.Resource.Crash);
// one pass restarts it. Then its starts fail: after its 2 restarts the
// service's monitor_action runs (here injected).
func ExampleMonitor_Pass() {
	ctx := context.Background()
	root, _ := os.MkdirTemp("", "monitor-example")
	defer os.RemoveAll(root)
	conf := `[DEFAULT]
nodes = n1
monitor_action = freezestop

[fs#1]
type = ext4
dev = /dev/sdb
mnt = /srv/db

[container#db]
type = docker
run_image = mariadb
run_args = -v /srv/db/data:/var/lib/mysql
restart = 2
restart_delay = 5s
monitor = true
`
	s, err := svc.Parse(ctx, "db.conf", []byte(conf), svc.Options{Node: "n1", Registry: fake.Registry(fake.Options{}), Root: root})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := s.Start(ctx, svc.ActionOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	// A clock the sleeps move: the pass takes no time.
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	m := monitor.New(monitor.Options{
		Now: func() time.Time { return now },
		Sleep: func(ctx context.Context, d time.Duration) error {
			fmt.Println("wait", d)
			now = now.Add(d)
			return nil
		},
		Logger: slog.New(slog.DiscardHandler),
		Emit: func(kind, svcname, rid, msg string) {
			fmt.Println(strings.TrimSpace(kind+" "+rid), msg)
		},
		Action: func(ctx context.Context, s *svc.Service, action, reason string) error {
			fmt.Println("monitor_action", action+":", reason)
			return nil
		},
	})
	r, _ := s.Resource("container#db")
	c := r.(*fake.Resource)
	_ = c.Crash(ctx)
	rep, _ := m.Pass(ctx, s)
	fmt.Println("restarted", strings.Join(rep.Restarted, " "))

	_ = c.Crash(ctx)
	_ = c.FailNext("start", 2)
	rep, _ = m.Pass(ctx, s)
	fmt.Println("exhausted", strings.Join(rep.Exhausted, " "))
	// Output:
	// down container#db down
	// restart container#db try 1 of 2
	// restarted container#db up after 1 tries
	// restarted container#db
	// down container#db down
	// restart container#db try 1 of 2
	// restart_failed container#db try 1 of 2: container#db: start: start call #3 (fail next): injected fault
	// wait 5s
	// restart container#db try 2 of 2
	// restart_failed container#db try 2 of 2: container#db: start: start call #4 (fail next): injected fault
	// monitor_action freezestop: container#db down after 2 restarts
	// monitor_action freezestop: container#db down after 2 restarts
	// exhausted container#db
}
