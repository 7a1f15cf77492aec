package svc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/svc"
)

// parse loads conf (named svc1.conf) for node on a fresh fake registry,
// with its state under a temporary root.
func parse(t *testing.T, conf, node string, fo fake.Options) (*svc.Service, error) {
	t.Helper()
	return svc.Parse(context.Background(), "svc1.conf", []byte(conf), svc.Options{
		Node: node, Registry: fake.Registry(fo), Root: t.TempDir(), NoTriggers: true,
	})
}

// mustParse is parse that fails the test on error.
func mustParse(t *testing.T, conf, node string, fo fake.Options) *svc.Service {
	t.Helper()
	s, err := parse(t, conf, node, fo)
	require.NoError(t, err)
	return s
}

// problems returns the problems of a *svc.ValidationError, failing the
// test on any other outcome.
func problems(t *testing.T, err error) []svc.Problem {
	t.Helper()
	require.Error(t, err)
	var ve *svc.ValidationError
	require.True(t, errors.As(err, &ve), "error %T is not a *svc.ValidationError: %v", err, err)
	require.NotEmpty(t, ve.Problems)
	return ve.Problems
}

// fmtSscan splits "rid keyword".
func fmtSscan(s string, a, b *string) (int, error) { return fmt.Sscan(s, a, b) }
