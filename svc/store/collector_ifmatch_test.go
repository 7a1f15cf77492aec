package store_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/svc/store"
)

// Put sends the expected revision as If-Match (If-None-Match * for a
// create, nothing for AnyRevision) and reads a 412 as a conflict, so
// that a collector that checks it makes push a real compare-and-swap.
func TestCollectorConditionalHeaders(t *testing.T) {
	var posts []http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if strings.HasSuffix(r.URL.Path, "/new") {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"data": []any{map[string]string{"svc_name": "svc1", "svc_envfile": "[DEFAULT]\n"}}})
			return
		}
		posts = append(posts, r.Header.Clone())
		if r.Header.Get("If-Match") != "" {
			// Someone else wrote between the pre-check and this post.
			w.WriteHeader(http.StatusPreconditionFailed)
			json.NewEncoder(w).Encode(map[string]any{"error": "stale", "actual": "abc"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"data": []any{}})
	}))
	defer srv.Close()
	c, err := store.NewCollector(srv.URL + "/init/rest/api")
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.Put(ctx, "new", []byte("[DEFAULT]\n"), store.Absent)
	require.NoError(t, err)
	_, err = c.Put(ctx, "svc1", []byte("[DEFAULT]\n"), store.AnyRevision)
	require.NoError(t, err)
	rev := store.Checksum([]byte("[DEFAULT]\n"))
	_, err = c.Put(ctx, "svc1", []byte("[DEFAULT]\nx = 1\n"), rev)
	var ce *store.ConflictError
	require.ErrorAs(t, err, &ce, "a 412 is a stale write")
	require.ErrorIs(t, err, store.ErrConflict)
	require.Equal(t, "abc", ce.Actual)
	require.Equal(t, rev, ce.Expected)

	require.Len(t, posts, 3)
	require.Equal(t, "*", posts[0].Get("If-None-Match"))
	require.Empty(t, posts[0].Get("If-Match"))
	require.Empty(t, posts[1].Get("If-Match"))
	require.Empty(t, posts[1].Get("If-None-Match"))
	require.Equal(t, `"`+rev+`"`, posts[2].Get("If-Match"))
}
