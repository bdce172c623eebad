package gorm

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	sqlitedriver "gorm.io/driver/sqlite"
	gormdb "gorm.io/gorm"
)

// statementLog records every statement a database executes, as the
// database/sql driver receives it: whatever sends it (GORM, or the Store's
// own prepared statements), each execution is one entry, and BEGIN,
// COMMIT and ROLLBACK are entries too. Preparing a statement is not.
type statementLog struct {
	mu   sync.Mutex
	sqls []string
}

func (l *statementLog) add(q string) {
	l.mu.Lock()
	l.sqls = append(l.sqls, strings.TrimSpace(q))
	l.mu.Unlock()
}

// take returns the statements recorded since the last take.
func (l *statementLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.sqls
	l.sqls = nil
	return s
}

// openCountingSQLite opens a fresh SQLite file with the settings of the
// sqlite subpackage's Open (WAL, busy timeout, immediate transactions,
// synchronous=NORMAL), through a driver that records every statement in
// the returned log.
func openCountingSQLite(t testing.TB) (*gormdb.DB, *statementLog) {
	t.Helper()
	// The driver gorm.io/driver/sqlite registers (mattn/go-sqlite3).
	probe, err := sql.Open(sqlitedriver.DriverName, "")
	if err != nil {
		t.Fatal(err)
	}
	drv := probe.Driver()
	probe.Close()
	log := &statementLog{}
	dsn := "file:" + filepath.Join(t.TempDir(), "sessions.db") +
		"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate&_synchronous=NORMAL"
	sqlDB := sql.OpenDB(countingConnector{drv: drv, dsn: dsn, log: log})
	db, err := gormdb.Open(sqlitedriver.New(sqlitedriver.Config{Conn: sqlDB}), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	log.take() // GORM's version query
	return db, log
}

type countingConnector struct {
	drv driver.Driver
	dsn string
	log *statementLog
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	cn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: cn, log: c.log}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.drv }

// countingConn passes everything to the driver's connection, recording
// each execution. The SQLite driver implements every interface used here.
type countingConn struct {
	driver.Conn
	log *statementLog
}

func (c *countingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, query: q, log: c.log}, nil
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.log.add("BEGIN")
	return countingTx{Tx: tx, log: c.log}, nil
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.log.add(q)
	}
	return res, err
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
	if !errors.Is(err, driver.ErrSkip) {
		c.log.add(q)
	}
	return rows, err
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

type countingStmt struct {
	driver.Stmt
	query string
	log   *statementLog
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.log.add(s.query)
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.log.add(s.query)
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

type countingTx struct {
	driver.Tx
	log *statementLog
}

func (t countingTx) Commit() error   { t.log.add("COMMIT"); return t.Tx.Commit() }
func (t countingTx) Rollback() error { t.log.add("ROLLBACK"); return t.Tx.Rollback() }

// verbs returns the first word of each statement: SELECT, INSERT, ...
func verbs(sqls []string) []string {
	out := make([]string, len(sqls))
	for i, q := range sqls {
		v, _, _ := strings.Cut(q, " ")
		out[i] = strings.ToUpper(v)
	}
	return out
}
