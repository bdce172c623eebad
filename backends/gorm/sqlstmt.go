package gorm

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	gormdb "gorm.io/gorm"
)

// The statements of the per-request path run on database/sql prepared
// statements of the *sql.DB under the caller's *gorm.DB. GORM still
// creates and migrates the table, renders each statement once in its
// dialect (placeholders, quoting) and runs the sweeper; building and
// scanning a statement through GORM cost more per request than SQLite
// takes to run it. The price: GORM callbacks and plugins do not see these
// statements, so trace them at the driver (an instrumented database/sql
// driver sees everything) rather than with a GORM plugin.

// errClosed is returned by the methods of a Store after Close.
var errClosed = errors.New("securesession/gorm: the Store is closed")

// stmt is one statement of the per-request path, prepared on first use:
// a Store made with DisableAutoMigrate may be created before its table,
// and a database that is down at start-up is not an error until a request
// needs it. database/sql prepares it again on each new connection.
type stmt struct {
	query string
	mu    sync.Mutex
	st    atomic.Pointer[sql.Stmt]
}

// stmts is every statement of the per-request path, built once in
// NewStore. The writes come in two forms, indexed by whether the handle
// is known: by the token's keyed hash alone, and by the handle (the
// primary key, except on SQLite: see createSQLiteTable) and the hash,
// used when the request read the row. On
// InnoDB the second locks the row through the primary key first, as a
// revocation does, rather than through the id index, which the
// revocation's DELETE must also lock: the two then queue on the row
// instead of deadlocking.
type stmts struct {
	find, insert, remove, revokeUser, revokeUserKeep, listUser, revokeHandle stmt
	// update rewrites every column but the handle; updateValues only
	// data, last_seen and expires_at, for a write that changed nothing
	// else (it needs the row as read: the handle is known).
	update, touch, rotate, rotateToUser [2]stmt
	updateValues                        stmt
}

// buildStmts writes the statements with ? for each parameter, and render
// turns them into the dialect's SQL.
func buildStmts(table string, render func(string) string) *stmts {
	where := [2]string{" WHERE id = ? AND expires_at > ?", " WHERE handle = ? AND id = ? AND expires_at > ?"}
	set := func(q string) stmt { return stmt{query: render(q)} }
	h := &stmts{
		find: set("SELECT handle, user_id, data, created, auth_time, last_seen, deadline, expires_at, user_agent, ip, binding FROM " +
			table + where[0] + " LIMIT 1"),
		insert: set("INSERT INTO " + table + " (handle, id, user_id, user_key, data, created, auth_time, last_seen, deadline," +
			" expires_at, user_agent, ip, binding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		remove:         set("DELETE FROM " + table + " WHERE id = ?"),
		revokeUser:     set("DELETE FROM " + table + " WHERE user_key = ?"),
		revokeUserKeep: set("DELETE FROM " + table + " WHERE user_key = ? AND id <> ?"),
		listUser: set("SELECT handle, created, auth_time, last_seen, expires_at, user_agent, ip, binding FROM " + table +
			" WHERE user_key = ? AND expires_at > ? ORDER BY last_seen DESC"),
		revokeHandle: set("DELETE FROM " + table + " WHERE handle = ? AND user_key = ? AND expires_at > ?"),
		updateValues: set("UPDATE " + table + " SET data = ?, last_seen = ?, expires_at = ?" + where[1]),
	}
	for i, live := range where {
		h.update[i] = set("UPDATE " + table + " SET user_id = ?, user_key = ?, data = ?, created = ?, auth_time = ?," +
			" last_seen = ?, deadline = ?, expires_at = ?, user_agent = ?, ip = ?, binding = ?" + live)
		h.touch[i] = set("UPDATE " + table + " SET last_seen = ?, expires_at = ?" + live)
		// Rotation moves the row to the new token in place. (MySQL applies
		// an UPDATE's assignments from left to right; none of these reads
		// a column another assigns.)
		rotate := " id = ?, user_id = ?, user_key = ?, data = ?, created = ?, auth_time = ?, last_seen = ?," +
			" deadline = ?, expires_at = ?, user_agent = ?, ip = ?, binding = ?" + live
		h.rotate[i] = set("UPDATE " + table + " SET" + rotate)
		h.rotateToUser[i] = set("UPDATE " + table + " SET handle = ?," + rotate)
	}
	return h
}

// renderer returns a function that writes a statement with ? placeholders
// in db's dialect ($1, $2... on PostgreSQL), as GORM would send it.
func renderer(db *gormdb.DB) func(string) string {
	dry := db.Session(&gormdb.Session{DryRun: true, SkipDefaultTransaction: true, Context: context.Background()})
	return func(q string) string {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = 0
		}
		return dry.Exec(q, args...).Statement.SQL.String()
	}
}

// prepared returns st prepared on the Store's *sql.DB.
func (s *Store) prepared(ctx context.Context, st *stmt) (*sql.Stmt, error) {
	return st.prepare(ctx, s.sqlDB, &s.closed, errClosed)
}

// prepare returns the statement prepared on db, preparing it on first
// use; once closed is set it prepares nothing and returns errClosed.
func (st *stmt) prepare(ctx context.Context, db *sql.DB, closed *atomic.Bool, errClosed error) (*sql.Stmt, error) {
	if p := st.st.Load(); p != nil {
		return p, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if p := st.st.Load(); p != nil {
		return p, nil
	}
	if closed.Load() {
		return nil, errClosed
	}
	p, err := db.PrepareContext(ctx, st.query)
	if err != nil {
		return nil, err
	}
	st.st.Store(p)
	return p, nil
}

// exec runs st with args, retrying as retry does, and returns the number
// of rows it matched.
func (s *Store) exec(ctx context.Context, st *stmt, args ...any) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		p, err := s.prepared(ctx, st)
		if err != nil {
			return err
		}
		res, err := p.ExecContext(ctx, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// closeStmts releases every prepared statement; any later use returns
// errClosed.
func (s *Store) closeStmts() { closeAll(&s.closed, s.stmts.all()) }

// closeAll sets closed, so that prepare prepares nothing more, and
// releases every statement of list.
func closeAll(closed *atomic.Bool, list []*stmt) {
	closed.Store(true)
	for _, st := range list {
		st.mu.Lock()
		if p := st.st.Swap(nil); p != nil {
			p.Close()
		}
		st.mu.Unlock()
	}
}

func (h *stmts) all() []*stmt {
	list := []*stmt{&h.find, &h.insert, &h.remove, &h.revokeUser, &h.revokeUserKeep, &h.listUser, &h.revokeHandle, &h.updateValues}
	for i := range 2 {
		list = append(list, &h.update[i], &h.touch[i], &h.rotate[i], &h.rotateToUser[i])
	}
	return list
}
