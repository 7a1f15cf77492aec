package linux

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/internal/testenv"
)

// TestCheckZeros runs on plain files: CheckZeros only reads.
func TestCheckZeros(t *testing.T) {
	const mib = 1 << 20
	for _, tc := range []struct {
		name string
		size int64
		set  map[int64]byte // offset -> byte
		want string         // "" for blank
	}{
		{name: "empty", size: 0},
		{name: "small blank", size: 4096},
		{name: "large sparse", size: 64 * mib},
		{name: "first byte", size: 64 * mib, set: map[int64]byte{0: 0x1f}, want: "first MiB not blank (byte 0x1f at offset 0)"},
		{name: "end of first MiB", size: 64 * mib, set: map[int64]byte{mib - 1: 1}, want: fmt.Sprintf("first MiB not blank (byte 0x01 at offset %d)", mib-1)},
		{name: "start of last MiB", size: 64 * mib, set: map[int64]byte{63 * mib: 0xff}, want: fmt.Sprintf("last MiB not blank (byte 0xff at offset %d)", 63*mib)},
		{name: "last byte", size: 64 * mib, set: map[int64]byte{64*mib - 1: 0x55}, want: fmt.Sprintf("last MiB not blank (byte 0x55 at offset %d)", 64*mib-1)},
		{name: "small with data", size: 100, set: map[int64]byte{99: 7}, want: "first MiB not blank (byte 0x07 at offset 99)"},
		// 1.5 MiB: the last MiB overlaps the first; it starts where the first ends.
		{name: "overlapping ends", size: mib + mib/2, set: map[int64]byte{mib + 10: 9}, want: fmt.Sprintf("last MiB not blank (byte 0x09 at offset %d)", mib+10)},
		// What lies between the two ends is not read: a fresh disk is zeros
		// at both ends, and that is what is checked.
		{name: "middle only", size: 64 * mib, set: map[int64]byte{32 * mib: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "dev")
			f, err := os.Create(p)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(tc.size))
			for off, b := range tc.set {
				_, err := f.WriteAt([]byte{b}, off)
				require.NoError(t, err)
			}
			require.NoError(t, f.Close())
			err = CheckZeros(context.Background(), p)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, p+": "+tc.want)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, CheckZeros(ctx, filepath.Join(t.TempDir())), context.Canceled)
}

// tarArchive is a real tar archive of a few files: blkid finds no
// signature on it.
func tarArchive(t *testing.T) []byte {
	var buf bytes.Buffer
	w := tar.NewWriter(&buf)
	for i, body := range []string{"customer table\n", "orders\n", "precious\n"} {
		require.NoError(t, w.WriteHeader(&tar.Header{Name: fmt.Sprintf("data/%d.txt", i), Mode: 0o600, Size: int64(len(body))}))
		_, err := w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// TestProvisionRefusesUnrecognisedData: a device blkid finds nothing on
// but that is not blank keeps every byte through provision, the error says
// why; mkfs_destroys_data = true formats it.
func TestProvisionRefusesUnrecognisedData(t *testing.T) {
	for _, tc := range []struct {
		name string
		data func(t *testing.T, size int64) (off int64, b []byte)
		want func(size int64) string
	}{
		{"tar archive", func(t *testing.T, _ int64) (int64, []byte) { return 0, tarArchive(t) },
			func(int64) string {
				return "first MiB not blank (byte 0x64 at offset 0): refusing mkfs; set mkfs_destroys_data = true to override"
			}},
		{"random bytes", func(t *testing.T, size int64) (int64, []byte) { return 0, randomBytes(t, int(size)) },
			func(int64) string { return "first MiB not blank" }},
		{"trailer in the last MiB", func(t *testing.T, size int64) (int64, []byte) { return size - 512, []byte("backup metadata") },
			func(size int64) string { return fmt.Sprintf("last MiB not blank (byte 0x62 at offset %d)", size-512) }},
	} {
		for _, fc := range []struct {
			m    driver.Manifest
			size int64 // the smallest each mkfs accepts, about
		}{{fs.Ext4, 64 << 20}, {fs.XFS, 320 << 20}} {
			m, size := fc.m.Type(), fc.size
			t.Run(tc.name+"/"+m, func(t *testing.T) {
				requireFS(t, m)
				mf := fc.m
				ctx := context.Background()
				dev := testenv.LoopDevice(t, size)
				off, b := tc.data(t, size)
				w, err := os.OpenFile(dev, os.O_WRONLY, 0)
				require.NoError(t, err)
				_, err = w.WriteAt(b, off)
				require.NoError(t, err)
				require.NoError(t, w.Sync())
				require.NoError(t, w.Close())
				sum := testenv.SHA256File(t, dev)

				typ, _, err := probe(ctx, dev)
				require.NoError(t, err)
				require.Empty(t, typ, "blkid finds a signature: the case tests nothing")

				f := newFS(t, mf, map[string]string{"dev": dev, "mnt": mountDir(t)})
				err = f.Provision(ctx)
				require.ErrorContains(t, err, "fs#01: provision: "+dev+": ")
				require.ErrorContains(t, err, tc.want(size))
				require.Equal(t, sum, testenv.SHA256File(t, dev), "provision changed the device")

				f = newFS(t, mf, map[string]string{"dev": dev, "mnt": mountDir(t), "mkfs_destroys_data": "true"})
				require.NoError(t, f.Provision(ctx))
				require.Equal(t, m, blkidTag(t, dev, "TYPE"), "mkfs_destroys_data = true formats")
			})
		}
	}
}
