package gce

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"cloud.google.com/go/compute/apiv1/computepb"
	"github.com/googleapis/gax-go/v2/apierror"
	"google.golang.org/api/googleapi"
)

// Error is a compute request that failed: the API answered an error
// status (the cause is then an *apierror.APIError) or the request did not
// complete (a network error, the context's error).
type Error struct {
	// Op says what was asked: "get disk spdsvc01-pod1".
	Op  string
	Err error
}

func (e *Error) Error() string { return "gce: " + e.Op + ": " + describe(e.Err) }
func (e *Error) Unwrap() error { return e.Err }

// HTTPCode is the status code of the API's answer, or 0 when there was
// none.
func (e *Error) HTTPCode() int { return HTTPCode(e.Err) }

// HTTPCode returns the HTTP status of the API error err wraps, or 0.
func HTTPCode(err error) int {
	var ae *apierror.APIError
	if errors.As(err, &ae) {
		return ae.HTTPCode()
	}
	return 0
}

// IsNotFound tells whether err is the API's "not found" answer.
func IsNotFound(err error) bool { return HTTPCode(err) == http.StatusNotFound }

// IsConflict tells whether err is the API's "already exists" answer.
func IsConflict(err error) bool { return HTTPCode(err) == http.StatusConflict }

// describe keeps the API's own message without the generated client's
// long preamble.
func describe(err error) string {
	var ae *apierror.APIError
	if errors.As(err, &ae) {
		if m := ae.Message(); m != "" {
			r := ae.Reason()
			var ge *googleapi.Error
			if r == "" && errors.As(err, &ge) && len(ge.Errors) > 0 {
				r = ge.Errors[0].Reason
			}
			if r != "" {
				return fmt.Sprintf("%s (%d %s)", m, ae.HTTPCode(), r)
			}
			return fmt.Sprintf("%s (%d)", m, ae.HTTPCode())
		}
	}
	return err.Error()
}

// OperationError is an operation that completed with errors: the request
// was accepted but the change failed (a disk in use, a quota exceeded).
type OperationError struct {
	// Op says what was asked: "attach disk spdsvc01-pod1 to spd01".
	Op string
	// Operation is the operation's name, for the cloud console or gcloud.
	Operation string
	// HTTPStatus is the operation's httpErrorStatusCode, 0 when unset.
	HTTPStatus int
	// Errors are the operation's error items.
	Errors []OperationErrorItem
	// Attempts is how many times the mutation was issued, when its errors
	// were transient (0 or 1: once).
	Attempts int
}

// OperationErrorItem is one entry of an operation's error field.
type OperationErrorItem struct {
	Code     string
	Message  string
	Location string
}

// transientCodes are the operation error codes that a later identical
// request may not meet: the instance or disk was busy with another
// operation, or a rate limit was hit.
var transientCodes = map[string]bool{
	"RESOURCE_NOT_READY":               true,
	"RESOURCE_OPERATION_RATE_EXCEEDED": true,
	"RATE_LIMIT_EXCEEDED":              true,
}

// Transient tells whether issuing the same mutation again may succeed:
// an error code of transientCodes, or an HTTP status of 429 or 5xx.
// Quota, permission and validation errors are not transient.
func (e *OperationError) Transient() bool {
	if e.HTTPStatus == http.StatusTooManyRequests || e.HTTPStatus >= 500 {
		return true
	}
	for _, it := range e.Errors {
		if transientCodes[it.Code] {
			return true
		}
	}
	return false
}

func (e *OperationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gce: %s: operation %s failed", e.Op, e.Operation)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (%d)", e.HTTPStatus)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	for i, it := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if it.Code != "" {
			b.WriteString(it.Code + ": ")
		}
		b.WriteString(it.Message)
	}
	return b.String()
}

func operationError(op string, p *computepb.Operation) *OperationError {
	e := &OperationError{Op: op, Operation: p.GetName(), HTTPStatus: int(p.GetHttpErrorStatusCode())}
	for _, it := range p.GetError().GetErrors() {
		e.Errors = append(e.Errors, OperationErrorItem{Code: it.GetCode(), Message: it.GetMessage(), Location: it.GetLocation()})
	}
	if len(e.Errors) == 0 && p.GetHttpErrorMessage() != "" {
		e.Errors = append(e.Errors, OperationErrorItem{Message: p.GetHttpErrorMessage()})
	}
	return e
}
