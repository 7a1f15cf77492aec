package resource

import (
	"context"
	"io"
	"log/slog"
	"time"
)

type ctxKey int

const (
	loggerKey ctxKey = iota
	dryRunKey
	progressKey
	forceKey
)

// WithLogger returns a context whose actions log to l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey, l)
}

// Logger returns the action logger of ctx; a logger that discards when
// none was set.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok && l != nil {
		return l
	}
	return discard
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// WithDryRun marks the actions run under ctx as a plan only: drivers must
// change nothing and may log what they would do.
func WithDryRun(ctx context.Context, dry bool) context.Context {
	return context.WithValue(ctx, dryRunKey, dry)
}

// IsDryRun tells whether ctx asks for a plan only.
func IsDryRun(ctx context.Context) bool {
	v, _ := ctx.Value(dryRunKey).(bool)
	return v
}

// WithForce marks the actions run under ctx as forced: unprovision then
// also deletes what the service did not create (a backing file or a cloud
// disk that existed before provision, or was replaced since).
func WithForce(ctx context.Context, force bool) context.Context {
	return context.WithValue(ctx, forceKey, force)
}

// IsForced tells whether ctx forces the action.
func IsForced(ctx context.Context) bool {
	v, _ := ctx.Value(forceKey).(bool)
	return v
}

// Phase is the step of an action an Event reports.
type Phase string

const (
	Started    Phase = "started"
	Done       Phase = "done"
	Failed     Phase = "failed"
	Skipped    Phase = "skipped"
	RolledBack Phase = "rolled back"
)

// Event is a progress report of one resource action.
type Event struct {
	Time     time.Time     `json:"time"`
	Node     string        `json:"node,omitempty"`
	RID      string        `json:"rid"`
	Action   string        `json:"action"`
	Phase    Phase         `json:"phase"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Error    string        `json:"error,omitempty"`
}

// ProgressFunc receives progress events. It may be called from several
// goroutines at once.
type ProgressFunc func(Event)

// WithProgress returns a context whose actions report to f.
func WithProgress(ctx context.Context, f ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey, f)
}

// Report sends e to the progress function of ctx, if any.
func Report(ctx context.Context, e Event) {
	if f, ok := ctx.Value(progressKey).(ProgressFunc); ok && f != nil {
		if e.Time.IsZero() {
			e.Time = time.Now()
		}
		f(e)
	}
}
