// Package storetest holds the conformance test of config stores: run
// CAS on a store of your own to check it keeps the compare-and-swap
// contract of store.Store as the stores of svckit do.
package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/store"
)

// CAS runs the same compare-and-swap story on any store: create,
// a stale create, an update on the read revision, a stale update from a
// writer that read before it, an unconditional write.
func CAS(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	_, err := st.Get(ctx, "spdsvc01")
	require.ErrorIs(t, err, store.ErrNotFound)

	v1 := []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = spd01 spd02\n")
	c1, err := st.Put(ctx, "spdsvc01", v1, store.Absent)
	require.NoError(t, err)
	require.Equal(t, store.Checksum(v1), c1.Checksum)

	_, err = st.Put(ctx, "spdsvc01", []byte("[DEFAULT]\nnodes = x\n"), store.Absent)
	require.ErrorIs(t, err, store.ErrConflict, "a second create must be refused")

	// Two writers read the same version.
	a, err := st.Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, v1, a.Data)
	require.Equal(t, c1.Revision, a.Revision)
	b, err := st.Get(ctx, "spdsvc01")
	require.NoError(t, err)

	v2 := []byte("[DEFAULT]\napp = RIVER_SPD\nnodes = spd01 spd02 spd03\n")
	c2, err := st.Put(ctx, "spdsvc01", v2, a.Revision)
	require.NoError(t, err)
	require.NotEqual(t, a.Revision, c2.Revision)

	v3 := []byte("[DEFAULT]\napp = OTHER\nnodes = spd01\n")
	_, err = st.Put(ctx, "spdsvc01", v3, b.Revision)
	require.ErrorIs(t, err, store.ErrConflict, "the stale writer must be refused")
	var ce *store.ConflictError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, b.Revision, ce.Expected)
	require.Equal(t, c2.Revision, ce.Actual)
	require.Contains(t, err.Error(), "stale write refused")

	got, err := st.Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, v2, got.Data, "the stale write changed nothing")
	require.Equal(t, c2.Revision, got.Revision)

	_, err = st.Put(ctx, "spdsvc01", v3, store.AnyRevision)
	require.NoError(t, err)
	got, err = st.Get(ctx, "spdsvc01")
	require.NoError(t, err)
	require.Equal(t, v3, got.Data)

	_, err = st.Get(ctx, "../etc/passwd")
	require.ErrorContains(t, err, "service name")
}
