package secret

import (
	"context"
	"fmt"
	"log/slog"
)

// Handler wraps a slog.Handler so that nothing it writes holds a secret:
// the message and every string, error and []string attribute go through
// the Set; an attribute with a secret-named key is masked whole.
type Handler struct {
	next slog.Handler
	set  *Set
}

// NewHandler returns next with every record redacted through set (which
// may grow later: the handler reads it at each record).
func NewHandler(next slog.Handler, set *Set) *Handler {
	if h, ok := next.(*Handler); ok && h.set == set {
		return h
	}
	return &Handler{next: next, set: set}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.set.Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(red), set: h.set}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), set: h.set}
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if IsName(a.Key) && v.Kind() != slog.KindGroup {
		return slog.String(a.Key, Placeholder)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.set.Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = h.attr(ga)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.set.RedactError(x))
		case []string:
			red := RedactEnv(x)
			for i, s := range red {
				red[i] = h.set.Redact(s)
			}
			return slog.Any(a.Key, red)
		case fmt.Stringer:
			return slog.String(a.Key, h.set.Redact(x.String()))
		default:
			return slog.String(a.Key, h.set.Redact(fmt.Sprint(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
