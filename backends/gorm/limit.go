package gorm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	gormdb "gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/token"
)

// A limit on a user's sessions (securesession.Options.MaxSessionsPerUser)
// holds only if no two logins of that user count the sessions at the same
// time: otherwise each sees room for itself and both insert. LoginLimited
// therefore runs in one transaction that first takes a lock of its own
// on the user, then counts the user's live rows, deletes the least
// recently seen (or gives up) and writes the login.
//
// The lock is a row of a small table beside the sessions table (named
// after it with the suffix "_limits"), one per user, keyed by the same
// user_key the sessions carry: the transaction's first statement updates
// that row, which makes every other login of the user wait until this one
// commits or rolls back. Locking the user's session rows instead
// (SELECT ... FOR UPDATE) would not do: a user with no session yet has no
// row to lock, and two first logins would both pass. The same statement
// serialises logins on all three databases:
//
//   - PostgreSQL and MariaDB lock the updated row until the end of the
//     transaction; the user's rows are then read with FOR UPDATE, a
//     locking read that sees what the previous holder committed under
//     READ COMMITTED and MariaDB's REPEATABLE READ. On PostgreSQL the
//     transaction asks for READ COMMITTED whatever the database's
//     default: under REPEATABLE READ or SERIALIZABLE a waiting UPDATE
//     fails with a serialization error when the holder commits, and
//     logins queued on one user would fail one another in turn. The
//     lock row, not the isolation level, is what keeps the count right;
//   - SQLite has one write lock for the whole database, which the update,
//     a write, takes at once (the sqlite subpackage begins every
//     transaction IMMEDIATE anyway): logins, and every other write, wait
//     their turn for the few statements of the transaction.
//
// The lock row is created, outside the transaction, at the first login of
// a user under a limit, by an INSERT that does nothing if it exists; it
// holds no secret and is never deleted (RevokeUser and the sweeper leave
// it). A transaction that fails as a deadlock victim or on SQLite's busy
// lock has written nothing, and is run again as the package's single
// statements are.

// limitsSuffix names the lock table: the sessions table's name and this.
const limitsSuffix = "_limits"

// limitRow is one row of the lock table: a user's key and the number of
// logins taken under the lock (written only so that the update locking
// the row always changes it).
type limitRow struct {
	UserKey string `gorm:"column:user_key;primaryKey;size:64"`
	Logins  int64  `gorm:"column:logins;not null"`
}

// limitStmts are the statements of LoginLimited beside the shared ones
// (find, insert, rotate): rendered once in NewStore, run on the
// transaction's connection.
type limitStmts struct {
	table string // the lock table's name, unquoted
	lock  string // UPDATE of the user's lock row
	live  string // the user's live rows, least recently seen first, locked where the database can
	evict string // DELETE of one row by handle and user_key

	// tx are the options the transaction begins with: READ COMMITTED on
	// PostgreSQL (see above), the database's default elsewhere.
	tx *sql.TxOptions
}

func (s *Store) buildLimitStmts(render func(string) string) *limitStmts {
	lt := s.table + limitsSuffix
	table, limits := s.single.Statement.Quote(s.table), s.single.Statement.Quote(lt)
	forUpdate := " FOR UPDATE"
	var tx *sql.TxOptions
	switch s.db.Dialector.Name() {
	case "sqlite":
		forUpdate = "" // SQLite has no FOR UPDATE; its write lock is the database's
	case "postgres":
		tx = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return &limitStmts{
		table: lt,
		tx:    tx,
		lock:  render("UPDATE " + limits + " SET logins = logins + 1 WHERE user_key = ?"),
		live: render("SELECT id, handle FROM " + table + " WHERE user_key = ? AND expires_at > ? ORDER BY last_seen, handle" +
			forUpdate),
		// The user_key finds the row on SQLite, where the handle has no
		// index (see createSQLiteTable).
		evict: render("DELETE FROM " + table + " WHERE handle = ? AND user_key = ?"),
	}
}

// migrateLimits creates or updates the lock table with AutoMigrate.
func (s *Store) migrateLimits() error {
	lt := s.table + limitsSuffix
	if err := s.db.Table(lt).AutoMigrate(&limitRow{}); err != nil {
		return fmt.Errorf("securesession/gorm: AutoMigrate of table %q: %w", lt, err)
	}
	return nil
}

// errLockRowMissing says the user's lock row does not exist yet.
var errLockRowMissing = errors.New("securesession/gorm: no lock row for the user")

// LoginLimited implements securesession.SessionLimiter in one transaction:
// it takes the user's lock row (see above), reads the user's live rows,
// and with limit.Max or more of them besides the one oldToken names
// either rolls back with an error wrapping securesession.ErrTooManySessions
// (limit.Refuse) or deletes the least recently seen until the login fits;
// then it rotates oldToken's row in place, as Rotate does (ErrNoRecord if
// it has ended), or inserts a new row when oldToken is "". A row counts
// while Find would return it: its expires_at, never later than its
// deadline, is after Now(). With Options.DisableAutoMigrate the lock
// table (the table name with the suffix "_limits", columns user_key
// VARCHAR(64) primary key and logins BIGINT NOT NULL) must exist.
func (s *Store) LoginLimited(ctx context.Context, name, oldToken string, rec *securesession.Record, limit securesession.SessionLimit) (string, error) {
	var old *rowRef
	if oldToken != "" {
		r, ok := s.ref(name, oldToken, rec.Opaque)
		if !ok {
			return "", rejected("login", oldToken)
		}
		old = r
	}
	if rec.UserID == "" {
		return "", errors.New("securesession/gorm: LoginLimited: empty user ID (a login has a user)")
	}
	if limit.Max < 1 {
		return "", fmt.Errorf("securesession/gorm: LoginLimited: limit.Max is %d, must be at least 1", limit.Max)
	}
	if err := checkRecord(rec); err != nil {
		return "", err
	}
	tok := token.New()
	next := &rowRef{store: s, name: name, token: tok, id: s.rowID(name, tok), kept: keptOf(rec)}
	uk := userKey(rec.UserID)
	var handle string
	for range 2 {
		err := s.retry(ctx, func() error {
			var err error
			handle, err = s.loginTx(ctx, old, next, rec, uk, limit)
			return err
		})
		if !errors.Is(err, errLockRowMissing) {
			if err != nil {
				return "", err
			}
			next.handle = handle
			rec.Handle, rec.Opaque = handle, next
			return tok, nil
		}
		if err := s.ensureLockRow(ctx, uk); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("securesession/gorm: LoginLimited: the lock row of the user vanished; is table %q managed elsewhere?", s.limits.table)
}

// ensureLockRow inserts the user's lock row unless it exists, on its own
// (not in a login's transaction: on MariaDB, concurrent inserts of one
// key in transactions that then lock it deadlock one another).
//
// On PostgreSQL it too runs READ COMMITTED: under a SERIALIZABLE default
// the INSERT fails with a serialization error whenever another login
// updated the row after its snapshot, and a burst of logins can keep it
// failing past every retry.
func (s *Store) ensureLockRow(ctx context.Context, uk string) error {
	return s.retry(ctx, func() error {
		return s.single.WithContext(ctx).Transaction(func(tx *gormdb.DB) error {
			return tx.Table(s.limits.table).Clauses(clause.OnConflict{DoNothing: true}).Create(&limitRow{UserKey: uk}).Error
		}, s.limits.tx)
	})
}

// loginTx is one attempt at LoginLimited's transaction; it returns the
// handle of the login's row.
func (s *Store) loginTx(ctx context.Context, old, next *rowRef, rec *securesession.Record, uk string, limit securesession.SessionLimit) (string, error) {
	// Every shared statement the transaction may run is prepared before
	// it begins: preparing one inside would wait for a second connection
	// from the pool, which logins waiting for this one's lock may hold
	// (on SQLite, until their busy timeout).
	need := []*stmt{&s.stmts.insert}
	if old != nil {
		need = []*stmt{&s.stmts.find, &s.stmts.rotate[1], &s.stmts.rotateToUser[1]}
	}
	for _, st := range need {
		if _, err := s.prepared(ctx, st); err != nil {
			return "", err
		}
	}
	tx, err := s.sqlDB.BeginTx(ctx, s.limits.tx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, s.limits.lock, uk)
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return "", cmpErr(err, errLockRowMissing)
	}

	// The lock is held: from here the user's rows change only through
	// this transaction or a revocation, which only removes some.
	now := encTime(s.now())
	if old != nil && old.handle == "" {
		if old, err = s.readOld(ctx, tx, old, now); err != nil {
			return "", err
		}
	}
	others, err := s.liveOthers(ctx, tx, uk, now, old)
	if err != nil {
		return "", err
	}
	if excess := len(others) - (limit.Max - 1); excess > 0 {
		if limit.Refuse {
			return "", fmt.Errorf("securesession/gorm: login: %w", securesession.ErrTooManySessions)
		}
		for _, h := range others[:excess] {
			if _, err := tx.ExecContext(ctx, s.limits.evict, h, uk); err != nil {
				return "", err
			}
		}
	}

	handle, err := s.writeLogin(ctx, tx, old, next, rec, now)
	if err != nil {
		return "", err
	}
	return handle, tx.Commit()
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// readOld reads the handle and kept columns of the row old names, which
// the request did not read; ErrNoRecord if it is no longer live.
func (s *Store) readOld(ctx context.Context, tx *sql.Tx, old *rowRef, now int64) (*rowRef, error) {
	p, err := s.prepared(ctx, &s.stmts.find)
	if err != nil {
		return nil, err
	}
	var row sessionRow
	err = tx.StmtContext(ctx, p).QueryRowContext(ctx, old.id, now).Scan(&row.Handle, &row.UserID, &row.Data, &row.Created,
		&row.AuthTime, &row.LastSeen, &row.Deadline, &row.ExpiresAt, &row.UserAgent, &row.IP, &row.Binding)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("securesession/gorm: login: %w", securesession.ErrNoRecord)
	}
	if err != nil {
		return nil, err
	}
	return old.known(row.Handle, row.kept()), nil
}

// liveOthers returns the handles of the user's live rows other than the
// one old names, least recently seen first.
func (s *Store) liveOthers(ctx context.Context, tx *sql.Tx, uk string, now int64, old *rowRef) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.limits.live, uk, now)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var handles []string
	for rows.Next() {
		var id, handle string
		if err := rows.Scan(&id, &handle); err != nil {
			return nil, err
		}
		if old == nil || id != old.id {
			handles = append(handles, handle)
		}
	}
	return handles, rows.Err()
}

// writeLogin stores the login in tx: old's row moved to next's token in
// place, with Rotate's statements and handle rule, or a new row.
func (s *Store) writeLogin(ctx context.Context, tx *sql.Tx, old, next *rowRef, rec *securesession.Record, now int64) (string, error) {
	k := &next.kept
	cols := []any{next.id, k.userID, userKey(k.userID), rec.Values, k.created, k.authTime,
		encTime(rec.LastSeen), k.deadline, encExpires(rec.Expires), k.userAgent, k.ip, k.bindingArg()}
	if old == nil {
		handle := newHandle()
		p, err := s.prepared(ctx, &s.stmts.insert)
		if err != nil {
			return "", err
		}
		_, err = tx.StmtContext(ctx, p).ExecContext(ctx, append([]any{handle}, cols...)...)
		return handle, err
	}
	handle := old.handle
	form, where := old.where() // the handle is known: form 1
	st := &s.stmts.rotate[form]
	var args []any
	if k.userID != old.kept.userID {
		handle = newHandle()
		st = &s.stmts.rotateToUser[form]
		args = append(args, handle)
	}
	args = append(append(append(args, cols...), where...), now)
	p, err := s.prepared(ctx, st)
	if err != nil {
		return "", err
	}
	res, err := tx.StmtContext(ctx, p).ExecContext(ctx, args...)
	if err != nil {
		return "", err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return "", cmpErr(err, fmt.Errorf("securesession/gorm: login: %w", securesession.ErrNoRecord))
	}
	return handle, nil
}

var _ securesession.SessionLimiter = (*Store)(nil)
