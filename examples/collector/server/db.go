package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	// The two database drivers the collector speaks; database/sql picks
	// one by the -db URL.
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Dialect is the SQL flavour of the database behind a DB.
type Dialect string

// The dialects the collector supports.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the collector's database: SQLite in a data directory (the
// embedded default) or PostgreSQL shared by several collector processes.
type DB struct {
	sql     *sql.DB
	dialect Dialect
	name    string // for messages: no password
}

// OpenDB opens the database spec names and migrates its schema:
//
//	""                         SQLite in <dataDir>/collector.db
//	sqlite:/path/file.db       SQLite in that file
//	postgres://user@host/db    PostgreSQL (pgx)
func OpenDB(ctx context.Context, spec, dataDir string) (*DB, error) {
	d := &DB{}
	var driver, dsn string
	switch {
	case strings.HasPrefix(spec, "postgres://"), strings.HasPrefix(spec, "postgresql://"):
		u, err := url.Parse(spec)
		if err != nil {
			return nil, errors.New("-db: postgres URL does not parse (expected postgres://user[:password]@host[:port]/dbname)")
		}
		d.dialect, driver, dsn, d.name = Postgres, "pgx", spec, u.Redacted()
	case spec == "", strings.HasPrefix(spec, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite:"), "//")
		if path == "" {
			if dataDir == "" {
				return nil, errors.New("-db: no database URL and no data directory")
			}
			if err := os.MkdirAll(dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("data directory: %w", err)
			}
			path = filepath.Join(dataDir, "collector.db")
		}
		// BEGIN IMMEDIATE makes writers queue on the database lock at the
		// start of a transaction rather than fail when they upgrade from
		// a read; busy_timeout makes them wait instead of answering
		// SQLITE_BUSY; WAL lets readers run beside the writer.
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		d.dialect, driver, dsn, d.name = SQLite, "sqlite", "file:"+path+"?"+q.Encode(), "sqlite:"+path
	default:
		return nil, fmt.Errorf("-db %q: expected postgres://... or sqlite:PATH (default: SQLite in the data directory)", redact(spec))
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	d.sql = db
	if d.dialect == SQLite {
		db.SetMaxOpenConns(4)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", d.name, err)
	}
	return d, nil
}

func redact(spec string) string {
	if u, err := url.Parse(spec); err == nil && u.User != nil {
		return u.Redacted()
	}
	return spec
}

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// Dialect tells which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

func (d *DB) String() string { return d.name }

// q rewrites the ? placeholders of query into $n for PostgreSQL. The
// collector's queries hold no ? in literals.
func (d *DB) q(query string) string {
	if d.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// migrations are applied in order, each once; a version is never edited
// once released: add a new one.
var migrations = []string{
	1: `
CREATE TABLE nodes (
	nodename TEXT PRIMARY KEY,
	uuid_sha256 TEXT NOT NULL,
	app TEXT NOT NULL,
	registered_at TEXT NOT NULL,
	registered_by TEXT NOT NULL
);
CREATE TABLE services (
	svc_name TEXT PRIMARY KEY,
	svc_app TEXT NOT NULL,
	rev BIGINT NOT NULL,
	checksum TEXT NOT NULL,
	envfile TEXT NOT NULL,
	updated TEXT NOT NULL,
	author TEXT NOT NULL
);
CREATE TABLE service_revisions (
	svc_name TEXT NOT NULL,
	rev BIGINT NOT NULL,
	checksum TEXT NOT NULL,
	envfile TEXT NOT NULL,
	svc_app TEXT NOT NULL,
	author TEXT NOT NULL,
	created TEXT NOT NULL,
	PRIMARY KEY (svc_name, rev)
);
CREATE TABLE service_nodes (
	svc_name TEXT NOT NULL,
	nodename TEXT NOT NULL,
	PRIMARY KEY (svc_name, nodename)
);
CREATE INDEX service_nodes_node ON service_nodes (nodename);
CREATE TABLE node_assets (
	nodename TEXT NOT NULL,
	name TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (nodename, name)
);
CREATE TABLE node_packages (
	nodename TEXT NOT NULL,
	pkg_name TEXT NOT NULL,
	pkg_version TEXT NOT NULL,
	PRIMARY KEY (nodename, pkg_name, pkg_version)
);
CREATE TABLE comp_objects (
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	body TEXT NOT NULL,
	updated TEXT NOT NULL,
	author TEXT NOT NULL,
	PRIMARY KEY (kind, name)
);
CREATE TABLE comp_node_modulesets (
	nodename TEXT NOT NULL,
	modset_name TEXT NOT NULL,
	PRIMARY KEY (nodename, modset_name)
);
CREATE TABLE comp_svc_modulesets (
	svc_name TEXT NOT NULL,
	modset_name TEXT NOT NULL,
	PRIMARY KEY (svc_name, modset_name)
);
`,
	// Queued actions ({{serial}}: the dialect's auto-increment key, so
	// that a node runs its actions in the order they were enqueued).
	2: `
CREATE TABLE actions (
	id {{serial}},
	nodename TEXT NOT NULL,
	svc_name TEXT NOT NULL,
	argv TEXT NOT NULL,
	status TEXT NOT NULL,
	exit_code BIGINT,
	output TEXT NOT NULL,
	reason TEXT NOT NULL,
	created TEXT NOT NULL,
	created_by TEXT NOT NULL,
	claimed_at TEXT NOT NULL,
	done_at TEXT NOT NULL
);
CREATE INDEX actions_node_status ON actions (nodename, status, id);
ALTER TABLE nodes ADD COLUMN notify_addr TEXT NOT NULL DEFAULT ''
`,
	// Leases of claimed actions (times in Unix nanoseconds: RFC 3339
	// text does not sort), the pages' sessions, the compliance status
	// the nodes report.
	3: `
ALTER TABLE actions ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE actions ADD COLUMN lease_until_ns BIGINT NOT NULL DEFAULT 0;
CREATE INDEX actions_status_lease ON actions (status, lease_until_ns);
CREATE TABLE sessions (
	id_sha256 TEXT PRIMARY KEY,
	username TEXT NOT NULL,
	csrf TEXT NOT NULL,
	created TEXT NOT NULL,
	expires_ns BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_ns);
CREATE TABLE comp_status (
	nodename TEXT NOT NULL,
	module TEXT NOT NULL,
	status TEXT NOT NULL,
	output TEXT NOT NULL,
	reported TEXT NOT NULL,
	PRIMARY KEY (nodename, module)
)
`,
}

// SchemaVersion is the version migrate brings a database to.
func SchemaVersion() int { return len(migrations) - 1 }

// migrate applies the migrations a database lacks, all in one
// transaction: a collector that fails half way leaves the schema as it
// was. On PostgreSQL an advisory lock serializes collectors that start
// together; on SQLite BEGIN IMMEDIATE does.
func (d *DB) migrate(ctx context.Context) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if d.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7301814)`); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var cur sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&cur); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if int(cur.Int64) > SchemaVersion() {
		return fmt.Errorf("migrate: the database is at schema version %d, newer than this collector's %d: run a newer collector", cur.Int64, SchemaVersion())
	}
	for v := int(cur.Int64) + 1; v <= SchemaVersion(); v++ {
		m := strings.ReplaceAll(migrations[v], "{{serial}}", d.serial())
		for _, stmt := range strings.Split(m, ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate: version %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), v, now()); err != nil {
			return fmt.Errorf("migrate: version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

// serial is the column type of an auto-increment primary key.
func (d *DB) serial() string {
	if d.dialect == Postgres {
		return "BIGSERIAL PRIMARY KEY"
	}
	return "INTEGER PRIMARY KEY AUTOINCREMENT"
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }
