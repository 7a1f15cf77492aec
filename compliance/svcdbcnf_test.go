package compliance_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/svckit/svckit/compliance"
	"github.com/svckit/svckit/compliance/compliancetest"
)

// chrootRoot makes a root a module can run chrooted in: the host's /usr
// (and /bin, /lib... or their merged-usr links) bind-mounted read-only, the
// dynamic linker cache copied. Only t.TempDir() paths are mounted on, and
// unmounted at cleanup; read-only binds make sure removing the temporary
// directory can never delete a host file.
func chrootRoot(t *testing.T) string {
	t.Helper()
	compliancetest.RequireRoot(t)
	root := t.TempDir()
	for _, d := range []string{"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"} {
		host := "/" + d
		fi, err := os.Lstat(host)
		if err != nil {
			continue
		}
		dst := filepath.Join(root, d)
		if fi.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(host)
			require.NoError(t, err)
			require.NoError(t, os.Symlink(target, dst))
			continue
		}
		require.NoError(t, os.Mkdir(dst, 0o755))
		err = unix.Mount(host, dst, "", unix.MS_BIND, "")
		compliancetest.Prereq(t, err == nil, fmt.Sprintf("bind mount %s: %v", host, err))
		t.Cleanup(func() { _ = unix.Unmount(dst, unix.MNT_DETACH) })
		require.NoError(t, unix.Mount("", dst, "", unix.MS_PRIVATE, ""))
		err = unix.Mount("", dst, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
		compliancetest.Prereq(t, err == nil, fmt.Sprintf("read-only remount of %s: %v", dst, err))
	}
	if b, err := os.ReadFile("/etc/ld.so.cache"); err == nil {
		require.NoError(t, os.MkdirAll(filepath.Join(root, "etc"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(root, "etc/ld.so.cache"), b, 0o644))
	}
	return root
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// TestSvcDbCnfModule runs the reference's 50-spdc.svc.db.cnf bash module,
// unmodified, through compobj for service spdsvc01 over a root holding
// pod01..pod04. The module globs /$OSVC_COMP_SERVICES_SVC_NAME/pod* itself,
// so it runs chrooted in the root (Options.ChrootScripts) where
// /spdsvc01/pod* are the root's.
func TestSvcDbCnfModule(t *testing.T) {
	compliancetest.RequireCommands(t, "bash")
	root := chrootRoot(t)
	for i := 1; i <= 4; i++ {
		require.NoError(t, os.MkdirAll(filepath.Join(root, fmt.Sprintf("spdsvc01/pod%02d", i)), 0o755))
	}
	modules := filepath.Join(root, "var/compliance/modules")
	copyFile(t, "testdata/modules/50-spdc.svc.db.cnf", filepath.Join(modules, "50-spdc.svc.db.cnf"), 0o755)
	bin := filepath.Join(root, "opt/svckit/compobj")
	copyFile(t, compliancetest.CompObj(t), bin, 0o755)
	ctx := context.Background()
	require.NoError(t, compliance.InstallCompObj(ctx, modules, bin))

	export, err := compliance.LoadExport(ctx, "testdata/spdc-svc.json")
	require.NoError(t, err)
	facts, err := compliance.GatherFacts(ctx, compliance.FactsOptions{Root: root, Nodename: "spd01"})
	require.NoError(t, err)
	eng, err := compliance.NewEngine(export, facts, compliance.Options{
		Root: root, Service: "spdsvc01", ChrootScripts: true,
		Environ: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"},
	})
	require.NoError(t, err)
	require.NoError(t, eng.Attach(ctx, "spdc.svc"))

	rep, err := eng.Run(ctx, compliance.Check, compliance.Selection{})
	require.NoError(t, err)
	require.Len(t, rep.Results, 1)
	require.Equal(t, "script", rep.Results[0].Kind)
	require.Equal(t, "nok", rep.Results[0].Status, rep.Results[0].Output)
	require.Contains(t, rep.Results[0].Output, "file /spdsvc01/pod01/sm/conf/spd.cnf does not exist")

	rep, err = eng.Run(ctx, compliance.Fix, compliance.Selection{})
	require.NoError(t, err)
	require.Equal(t, "ok", rep.Results[0].Status, rep.Results[0].Output)

	// first_server_ip 33, n_servers 64: pod n holds the spider (sm) server
	// 33+2(n-1) and the mariadb (db) server 33+2(n-1)+1; a server's peer is
	// the one half the ring away.
	for n := 1; n <= 4; n++ {
		sm := 33 + 2*(n-1)
		db := sm + 1
		peer := func(id int) int { return (id-33+64/2)%64 + 33 }
		dir := filepath.Join(root, fmt.Sprintf("spdsvc01/pod%02d", n))

		b, err := os.ReadFile(filepath.Join(dir, "db/conf/spd.cnf"))
		require.NoError(t, err)
		cnf := string(b)
		require.True(t, strings.HasPrefix(cnf, fmt.Sprintf("[mysqld]\nserver_id=%d\n", db)), cnf)
		require.Contains(t, cnf, fmt.Sprintf("replicate-do-db=spdc%d  \nreplicate-rewrite-db=spdc%d->spdc \n", db, db))
		require.Contains(t, cnf, fmt.Sprintf("replicate-do-db=spdc%d  \nreplicate-rewrite-db=spdc%d->spdc\n", peer(db), peer(db)))
		require.True(t, strings.HasSuffix(cnf, "back_log = 128\n"))

		b, err = os.ReadFile(filepath.Join(dir, "sm/conf/spd.cnf"))
		require.NoError(t, err)
		require.Contains(t, string(b), fmt.Sprintf("\nserver-id = %d\n", sm))
		require.NotContains(t, string(b), "%%")

		for _, f := range []string{"db/conf/spd.cnf", "sm/conf/spd.cnf"} {
			fi, err := os.Stat(filepath.Join(dir, f))
			require.NoError(t, err)
			require.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
			st := fi.Sys().(*syscall.Stat_t)
			require.Equal(t, uint32(999), st.Uid)
			require.Equal(t, uint32(999), st.Gid)
		}
	}
	// pod05 does not exist: nothing was written for it.
	require.NoDirExists(t, filepath.Join(root, "spdsvc01/pod05"))

	rep, err = eng.Run(ctx, compliance.Check, compliance.Selection{})
	require.NoError(t, err)
	require.Equal(t, "ok", rep.Results[0].Status, rep.Results[0].Output)
}
