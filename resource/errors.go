package resource

import "fmt"

// Error is the failure of one action on one resource.
type Error struct {
	RID    string
	Action string
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s: %v", e.RID, e.Action, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// Errorf wraps the error of an action of rid, the way every driver reports.
func Errorf(rid, action string, format string, args ...any) error {
	return &Error{RID: rid, Action: action, Err: fmt.Errorf(format, args...)}
}
