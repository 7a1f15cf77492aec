package resource

import "errors"

// note is an informational status message: see Note.
type note struct{ err error }

func (n *note) Error() string { return n.err.Error() }
func (n *note) Unwrap() error { return n.err }

// Note marks err, returned by Status, as information rather than a
// problem: it is shown in the resource's log like any status error, but
// does not make the service's overall status warn (the reference's
// status_log at level info). A container whose private daemon is not
// running is down and says why this way: a stopped service stays down.
// Note(nil) is nil.
func Note(err error) error {
	if err == nil {
		return nil
	}
	return &note{err: err}
}

// IsNote tells whether err was marked by Note.
func IsNote(err error) bool {
	var n *note
	return errors.As(err, &n)
}
