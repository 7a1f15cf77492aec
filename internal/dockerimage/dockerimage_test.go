package dockerimage_test

import (
	"context"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/internal/dockerimage"
	"github.com/svckit/svckit/internal/testenv"
)

func TestSleeper(t *testing.T) {
	cli := testenv.Docker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Repositories of this run only: every image the test removes is one
	// it made.
	repo := testenv.RandomName("svckit-test-dockerimage-")
	newRef := testenv.RandomName("svckit-test-dockerimage-") + ":tagged"
	var created []string
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The last name removed takes the image with it.
		for i := len(created) - 1; i >= 0; i-- {
			_, err := cli.ImageRemove(ctx, created[i], client.ImageRemoveOptions{Force: true, PruneChildren: true})
			if err != nil && !cerrdefs.IsNotFound(err) {
				t.Errorf("remove image %s: %v", created[i], err)
			}
		}
	})

	labels := map[string]string{"com.svckit.test": "dockerimage"}
	ref, err := dockerimage.Sleeper(ctx, cli, repo, labels, "-listen", ":3306")
	if ref != "" {
		created = append(created, ref)
	}
	require.NoError(t, err)
	assert.Regexp(t, `^`+repo+`:[0-9a-f]{12}$`, ref)
	img, err := cli.ImageInspect(ctx, ref)
	require.NoError(t, err)
	assert.Equal(t, []string{"/sleeper", "-listen", ":3306"}, img.Config.Entrypoint)
	assert.Equal(t, "dockerimage", img.Config.Labels["com.svckit.test"])

	// A second call finds the image instead of building it again.
	again, err := dockerimage.Sleeper(ctx, cli, repo, labels, "-listen", ":3306")
	require.NoError(t, err)
	assert.Equal(t, ref, again)
	img2, err := cli.ImageInspect(ctx, again)
	require.NoError(t, err)
	assert.Equal(t, img.ID, img2.ID)

	require.NoError(t, dockerimage.Tag(ctx, cli, ref, newRef))
	created = append(created, newRef)
	tagged, err := cli.ImageInspect(ctx, newRef)
	require.NoError(t, err)
	assert.Equal(t, img.ID, tagged.ID)
}
