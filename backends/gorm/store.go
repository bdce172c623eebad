package gorm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/internal/keys"
	"github.com/gin-securesession/securesession/internal/token"
)

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultTableName is the table the sessions live in.
	DefaultTableName = "securesession_sessions"

	// DefaultCleanupInterval is how often the sweeper deletes expired rows.
	DefaultCleanupInterval = 5 * time.Minute

	// DefaultCleanupBatch is how many expired rows one sweeper DELETE
	// removes at most.
	DefaultCleanupBatch = 500

	// MaxUserIDLen is the longest user ID, in bytes, the user_id column
	// (VARCHAR(255)) holds.
	MaxUserIDLen = 255

	// maxTableNameLen keeps GORM's index names (idx_<table>_expires_at)
	// within PostgreSQL's 63-byte identifier limit, so that they are never
	// truncated into one another.
	maxTableNameLen = 40

	idPurpose = "securesession/v1 gorm id-hash"
)

// Options configures a Store. The zero value is usable except that Key is
// required.
type Options struct {
	// Key is the secret from which the keyed hash of session tokens is
	// derived (HKDF purpose "securesession/v1 gorm id-hash"): the table
	// holds HMAC-SHA256(sub-key, cookie name || token), never the token.
	// It must be exactly 32 bytes from a CSPRNG. Changing it ends every
	// session. Required: there is no default, and NewStore refuses a
	// missing, short or low-entropy key.
	Key []byte

	// TableName is the table the sessions are kept in. It must be a plain
	// SQL identifier: a letter or underscore, then letters, digits or
	// underscores, at most 40 bytes. Default DefaultTableName
	// ("securesession_sessions").
	TableName string

	// CleanupInterval is how often the background sweeper deletes expired
	// rows. Zero means DefaultCleanupInterval (5 minutes); a negative value
	// starts no sweeper (run Store.Cleanup yourself, from cron say).
	CleanupInterval time.Duration

	// CleanupBatch bounds how many rows one DELETE of the sweeper removes,
	// so that it never holds a long lock. Zero means DefaultCleanupBatch
	// (500); it must not be negative.
	CleanupBatch int

	// Now is the clock that decides which rows have expired (Find, Update,
	// Touch, ListUser and the sweeper ignore rows whose expires_at is not
	// after Now()). Default time.Now. It is called concurrently and must
	// be safe for that.
	Now func() time.Time

	// DisableAutoMigrate skips the AutoMigrate that NewStore runs, for
	// applications that manage their schema themselves. The table must
	// then match the one AutoMigrate would create, and so must the lock
	// table of a session limit (see LoginLimited). Default false.
	DisableAutoMigrate bool

	// OnCleanupError receives the errors of the background sweeper, which
	// has no caller to return them to. Default (nil): logged with
	// slog.Warn on slog.Default(). Errors never contain a token or a key.
	OnCleanupError func(error)
}

// Store keeps sessions in a table of a database opened with GORM (tested
// on SQLite, PostgreSQL and MariaDB). It implements securesession.Backend,
// securesession.Lister, securesession.SessionLimiter and gin-contrib's
// sessions.Store. All its methods
// are safe for concurrent use; the Store holds no per-request state.
type Store struct {
	db     *gormdb.DB
	single *gormdb.DB // db without the default write transaction, for the sweeper
	sqlDB  *sql.DB    // under db: the per-request statements run on it
	stmts  *stmts
	limits *limitStmts // LoginLimited's own statements (limit.go)
	closed atomic.Bool
	table  string
	// sweepKey is the column Cleanup deletes by: "handle", or "rowid" on
	// SQLite, whose table has no index on the handle (createSQLiteTable).
	sweepKey string
	hasher   *token.Hasher
	now      func() time.Time
	batch    int
	onError  func(error)

	stop      chan struct{}
	done      chan struct{} // nil when no sweeper runs
	cancel    context.CancelFunc
	sweepCtx  context.Context
	closeOnce sync.Once

	// hookInRotation, set only by tests, runs inside Rotate after its
	// writes and before they commit; an error it returns rolls them back.
	hookInRotation func() error
	// hookOnHash, set only by tests, runs at every keyed hash of a token.
	hookOnHash func()
	// noRetry, set only by tests, runs every operation once (retry.go).
	noRetry bool
}

// NewStore returns a Store on db, creating or updating its table with
// AutoMigrate (unless opts.DisableAutoMigrate) and starting the expiry
// sweeper (unless opts.CleanupInterval is negative). Call Close to stop the
// sweeper; Close does not close db, which stays the caller's.
//
// db may be opened with any dialector; for SQLite, open it with the sqlite
// subpackage, which sets WAL mode and a busy timeout. Its connection pool
// must be a *sql.DB (db.DB() must succeed), as it is for a *gorm.DB from
// gorm.Open.
func NewStore(db *gormdb.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("securesession/gorm: NewStore: db is nil")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("securesession/gorm: NewStore: the *gorm.DB has no *sql.DB underneath: %w", err)
	}
	if err := keys.Check("Options.Key", opts.Key); err != nil {
		return nil, fmt.Errorf("securesession/gorm: %w", err)
	}
	table := opts.TableName
	if table == "" {
		table = DefaultTableName
	}
	if err := checkIdent(table); err != nil {
		return nil, fmt.Errorf("securesession/gorm: Options.TableName: %w", err)
	}
	if opts.CleanupBatch < 0 {
		return nil, fmt.Errorf("securesession/gorm: Options.CleanupBatch: must not be negative, got %d", opts.CleanupBatch)
	}
	batch := opts.CleanupBatch
	if batch == 0 {
		batch = DefaultCleanupBatch
	}
	interval := opts.CleanupInterval
	if interval == 0 {
		interval = DefaultCleanupInterval
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	onError := opts.OnCleanupError
	if onError == nil {
		onError = func(err error) {
			slog.Warn("securesession/gorm: expired-session cleanup failed", "table", table, "error", err)
		}
	}

	s := &Store{
		db:       db,
		single:   db.Session(&gormdb.Session{SkipDefaultTransaction: true, Context: context.Background()}),
		sqlDB:    sqlDB,
		table:    table,
		sweepKey: "handle",
		hasher:   token.NewHasher(keys.Derive(opts.Key, idPurpose)),
		now:      now,
		batch:    batch,
		onError:  onError,
	}
	if db.Dialector.Name() == "sqlite" {
		s.sweepKey = "rowid"
	}
	if !opts.DisableAutoMigrate {
		if err := s.migrate(); err != nil {
			return nil, err
		}
		if err := s.migrateLimits(); err != nil {
			return nil, err
		}
	}
	// Prepared statements: the store runs the same few statements on every
	// request, so preparing each once saves the parse and plan (about a
	// third of a SQLite read); see sqlstmt.go.
	s.stmts = buildStmts(s.single.Statement.Quote(s.table), renderer(db))
	s.limits = s.buildLimitStmts(renderer(db))

	// The stop channel and context exist before the goroutine starts, so
	// Close can never miss it.
	s.stop = make(chan struct{})
	s.sweepCtx, s.cancel = context.WithCancel(context.Background())
	if interval > 0 {
		s.done = make(chan struct{})
		go s.sweeper(interval)
	}
	return s, nil
}

// Close stops the background sweeper, cancelling a sweep in progress,
// waits for its goroutine to exit and releases the Store's prepared
// statements. As for every backend, the application calls it after the
// server has stopped serving (the middleware never does); a method called
// after Close returns an error. It does not close the database, which
// stays the caller's. Close is idempotent and safe to call concurrently;
// it always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		close(s.stop)
		s.closeStmts()
	})
	if s.done != nil {
		<-s.done
	}
	return nil
}

// TableName returns the name of the table the Store keeps sessions in.
// Safe for concurrent use.
func (s *Store) TableName() string { return s.table }

func checkIdent(name string) error {
	if len(name) > maxTableNameLen {
		return fmt.Errorf("%q is longer than %d bytes", name, maxTableNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return fmt.Errorf("%q is not a plain SQL identifier (letters, digits and underscores, not starting with a digit)", name)
	}
	return nil
}

// Find implements securesession.Backend with one query: a SELECT by the
// token's keyed hash that also excludes expired rows. It leaves the hash,
// the handle and the row's kept columns in Record.Opaque, so that the
// request's writes compute no second hash, address the row by its handle
// (the primary key, except on SQLite) and rewrite only what changed.
func (s *Store) Find(ctx context.Context, name, tok string) (securesession.Record, bool, error) {
	r, ok := s.ref(name, tok, nil)
	if !ok {
		return securesession.Record{}, false, rejected("find", tok)
	}
	row, found, err := s.find(ctx, r.id, encTime(s.now()))
	if !found || err != nil {
		return securesession.Record{}, false, err
	}
	rec := row.record()
	rec.Opaque = r.known(row.Handle, row.kept())
	return rec, true, nil
}

// find reads the live row whose id is id.
func (s *Store) find(ctx context.Context, id string, now int64) (sessionRow, bool, error) {
	var row sessionRow
	err := s.retry(ctx, func() error {
		p, err := s.prepared(ctx, &s.stmts.find)
		if err != nil {
			return err
		}
		row = sessionRow{}
		return p.QueryRowContext(ctx, id, now).Scan(&row.Handle, &row.UserID, &row.Data, &row.Created, &row.AuthTime,
			&row.LastSeen, &row.Deadline, &row.ExpiresAt, &row.UserAgent, &row.IP, &row.Binding)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return sessionRow{}, false, nil
	}
	if err != nil {
		return sessionRow{}, false, err
	}
	row.ID = id
	return row, true, nil
}

// Create implements securesession.Backend with one INSERT of a new row
// under a fresh token from crypto/rand and a fresh handle.
func (s *Store) Create(ctx context.Context, name string, rec *securesession.Record) (string, error) {
	if err := checkRecord(rec); err != nil {
		return "", err
	}
	tok := token.New()
	r := &rowRef{store: s, name: name, token: tok, id: s.rowID(name, tok), handle: newHandle(), kept: keptOf(rec)}
	k := &r.kept
	if _, err := s.exec(ctx, &s.stmts.insert, r.handle, r.id, k.userID, userKey(k.userID), rec.Values,
		k.created, k.authTime, encTime(rec.LastSeen), k.deadline, encExpires(rec.Expires), k.userAgent, k.ip, k.bindingArg()); err != nil {
		return "", err
	}
	rec.Handle, rec.Opaque = r.handle, r
	return tok, nil
}

// Update implements securesession.Backend with one UPDATE of a live row.
// After a Find in the same request (rec carries its Opaque) it sets only
// data, last_seen and expires_at when nothing else changed, and leaves
// the user's indexed key alone; otherwise it rewrites every column but
// the handle. If no live row matched (the session was deleted, revoked or
// expired since Find), it returns securesession.ErrNoRecord and writes
// nothing: a write that races a logout never brings the session back.
//
// On MySQL, open the connection with clientFoundRows=true: without it an
// UPDATE that changes no value reports no row and reads as ErrNoRecord.
func (s *Store) Update(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	r, ok := s.ref(name, tok, rec.Opaque)
	if !ok {
		return "", rejected("update", tok)
	}
	if err := checkRecord(rec); err != nil {
		return "", err
	}
	kept := keptOf(rec)
	var err error
	if r.handle != "" && kept == r.kept {
		err = s.updateLive(ctx, &s.stmts.updateValues, rec.Values, encTime(rec.LastSeen), encExpires(rec.Expires), r.handle, r.id)
	} else {
		form, where := r.where()
		args := append([]any{kept.userID, userKey(kept.userID), rec.Values, kept.created, kept.authTime,
			encTime(rec.LastSeen), kept.deadline, encExpires(rec.Expires), kept.userAgent, kept.ip, kept.bindingArg()}, where...)
		err = s.updateLive(ctx, &s.stmts.update[form], args...)
	}
	if err != nil {
		return "", err
	}
	if r.handle != "" {
		rec.Handle, rec.Opaque = r.handle, r.known(r.handle, kept)
	}
	return tok, nil
}

// Touch implements securesession.Backend with one UPDATE of last_seen and
// expires_at only; the data is not rewritten. Like Update it returns
// securesession.ErrNoRecord if the row is gone or expired.
func (s *Store) Touch(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	r, ok := s.ref(name, tok, rec.Opaque)
	if !ok {
		return "", rejected("touch", tok)
	}
	form, where := r.where()
	if err := s.updateLive(ctx, &s.stmts.touch[form], append([]any{encTime(rec.LastSeen), encExpires(rec.Expires)}, where...)...); err != nil {
		return "", err
	}
	return tok, nil
}

// updateLive runs one of the UPDATE statements, whose last parameter is
// "now" (appended here), and maps "no row" to ErrNoRecord: a write never
// re-creates a session that ended.
func (s *Store) updateLive(ctx context.Context, st *stmt, args ...any) error {
	n, err := s.exec(ctx, st, append(args, encTime(s.now()))...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("securesession/gorm: %w", securesession.ErrNoRecord)
	}
	return nil
}

// Rotate implements securesession.Backend with one UPDATE that moves the
// live row oldToken names to a fresh token: the row keeps its place and
// its handle, so that a revocation running at the same moment finds it
// under either token (see the package documentation). A rotation that
// changes the user (a login on an anonymous session, or a login as
// someone else) gives the session a new handle as well; a rotation or
// re-login of the same user keeps it. If the old session was logged out,
// revoked or expired since it was read, no row matches and Rotate returns
// securesession.ErrNoRecord: it never brings the session back. When rec
// does not carry the Opaque of a Find of oldToken, Rotate first reads the
// row's handle and user with a SELECT.
func (s *Store) Rotate(ctx context.Context, name, oldToken string, rec *securesession.Record) (string, error) {
	old, ok := s.ref(name, oldToken, rec.Opaque)
	if !ok {
		return "", rejected("rotate", oldToken)
	}
	if err := checkRecord(rec); err != nil {
		return "", err
	}
	now := encTime(s.now())
	if old.handle == "" {
		// Not read in this request: read the handle and user first.
		row, found, err := s.find(ctx, old.id, now)
		if err != nil {
			return "", err
		}
		if !found {
			return "", fmt.Errorf("securesession/gorm: rotate: %w", securesession.ErrNoRecord)
		}
		old = old.known(row.Handle, row.kept())
	}
	tok := token.New()
	kept := keptOf(rec)
	next := &rowRef{store: s, name: name, token: tok, id: s.rowID(name, tok), handle: old.handle, kept: kept}
	form, where := old.where() // the handle is known: form 1
	st := &s.stmts.rotate[form]
	args := make([]any, 0, 16)
	if kept.userID != old.kept.userID {
		next.handle = newHandle()
		st = &s.stmts.rotateToUser[form]
		args = append(args, next.handle)
	}
	args = append(args, next.id, kept.userID, userKey(kept.userID), rec.Values, kept.created, kept.authTime,
		encTime(rec.LastSeen), kept.deadline, encExpires(rec.Expires), kept.userAgent, kept.ip, kept.bindingArg())
	args = append(args, where...)
	args = append(args, now)
	var n int64
	var err error
	if s.hookInRotation == nil {
		n, err = s.exec(ctx, st, args...)
	} else {
		n, err = s.rotateWithHook(ctx, st, args)
	}
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", fmt.Errorf("securesession/gorm: rotate: %w", securesession.ErrNoRecord)
	}
	rec.Handle, rec.Opaque = next.handle, next
	return tok, nil
}

// rotateWithHook runs the rotation's UPDATE in a transaction and calls
// hookInRotation before committing it, so that a test can hold a rotation
// that has written but not committed, the state a concurrent statement
// can meet in production too, or make it fail after its UPDATE.
func (s *Store) rotateWithHook(ctx context.Context, st *stmt, args []any) (int64, error) {
	p, err := s.prepared(ctx, st)
	if err != nil {
		return 0, err
	}
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, p).ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if err := s.hookInRotation(); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

// Delete implements securesession.Backend with one DELETE by the token's
// keyed hash. Deleting a session that does not exist is not an error; a
// malformed token is refused, as by Find, before any statement. Delete is
// not handed the Record, so it hashes the token again.
func (s *Store) Delete(ctx context.Context, name, tok string) error {
	r, ok := s.ref(name, tok, nil)
	if !ok {
		return rejected("delete", tok)
	}
	_, err := s.exec(ctx, &s.stmts.remove, r.id)
	return err
}

// RevokeUser implements securesession.Backend with one DELETE of every row
// of userID (exactly that user ID: see the package documentation), under
// every cookie name, except the one keep names (the zero Ref keeps none).
// Use it outside a request too, after a password change say. An empty
// userID is rejected: it would end every anonymous session. A malformed
// keep token is refused before anything is revoked, as Find refuses it:
// revoking everything instead would log out the session meant to stay.
func (s *Store) RevokeUser(ctx context.Context, userID string, keep securesession.Ref) error {
	if userID == "" {
		return errors.New("securesession/gorm: RevokeUser: empty user ID (anonymous sessions cannot be revoked as a user)")
	}
	if keep.Token == "" {
		_, err := s.exec(ctx, &s.stmts.revokeUser, userKey(userID))
		return err
	}
	k, ok := s.ref(keep.Name, keep.Token, nil)
	if !ok {
		return rejected("revoke user: session to keep", keep.Token)
	}
	_, err := s.exec(ctx, &s.stmts.revokeUserKeep, userKey(userID), k.id)
	return err
}

var _ securesession.Backend = (*Store)(nil)
