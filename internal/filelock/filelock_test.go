package filelock

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l")
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		require.NoError(t, err)
		return f
	}
	unlock, err := Wait(context.Background(), open(), time.Millisecond)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err = Wait(ctx, open(), time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded, "held by the first")

	done := make(chan error, 1)
	go func() {
		u, err := Wait(context.Background(), open(), time.Millisecond)
		if err == nil {
			u()
		}
		done <- err
	}()
	unlock()
	require.NoError(t, <-done, "taken once released")
}
