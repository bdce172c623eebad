package gorm

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
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

	// busyRetries is how many times an operation that failed because
	// SQLite's database was locked is retried.
	busyRetries = 6

	idPurpose = "securesession/v1 gorm id-hash"
)

// Options configures a Store. The zero value is usable except that Key is
// required.
type Options struct {
	// Key is the secret from which the keyed hash of session tokens is
	// derived (HKDF purpose "securesession/v1 gorm id-hash"): the table
	// holds HMAC-SHA256(sub-key, cookie name || token), never the token.
	// It must be exactly 32 bytes from a CSPRNG. Changing it ends every
	// session. Required.
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
	// then match the one AutoMigrate would create. Default false.
	DisableAutoMigrate bool

	// OnCleanupError receives the errors of the background sweeper, which
	// has no caller to return them to. Default: logged with slog.Warn.
	// Errors never contain a token or a key.
	OnCleanupError func(error)
}

// noEvictionTTL is the statement TTL at which GORM's statement cache starts
// no expiry goroutine (gorm.io/gorm/internal/lru); a test checks that none
// is left behind.
const noEvictionTTL = 10 * 365 * 24 * time.Hour

// Store keeps sessions in a table of any database GORM can open. It
// implements securesession.Backend, securesession.Lister and gin-contrib's
// sessions.Store. All its methods are safe for concurrent use; the Store
// holds no per-request state.
type Store struct {
	db      *gormdb.DB
	single  *gormdb.DB // db without the default write transaction, with prepared statements
	stmts   *gormdb.PreparedStmtDB
	sql     hotSQL
	table   string
	hasher  *token.Hasher
	now     func() time.Time
	batch   int
	onError func(error)

	stop      chan struct{}
	done      chan struct{} // nil when no sweeper runs
	cancel    context.CancelFunc
	sweepCtx  context.Context
	closeOnce sync.Once
}

// NewStore returns a Store on db, creating or updating its table with
// AutoMigrate (unless opts.DisableAutoMigrate) and starting the expiry
// sweeper (unless opts.CleanupInterval is negative). Call Close to stop the
// sweeper; Close does not close db, which stays the caller's.
//
// db may be opened with any dialector; for SQLite, open it with the sqlite
// subpackage, which sets WAL mode and a busy timeout.
func NewStore(db *gormdb.DB, opts Options) (*Store, error) {
	if db == nil {
		return nil, errors.New("securesession/gorm: NewStore: db is nil")
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
		db: db,
		// A Context makes Session clone the Statement: the store's
		// ConnPool (below) must not leak into the caller's *gorm.DB.
		single:  db.Session(&gormdb.Session{SkipDefaultTransaction: true, Context: context.Background()}),
		table:   table,
		hasher:  token.NewHasher(keys.Derive(opts.Key, idPurpose)),
		now:     now,
		batch:   batch,
		onError: onError,
	}
	if !opts.DisableAutoMigrate {
		if err := s.migrate(); err != nil {
			return nil, err
		}
	}
	// Prepared statements: the store runs the same few statements on every
	// request, so preparing each once saves the parse and plan (about a
	// third of a SQLite read). The pool is the store's own rather than
	// GORM's shared PrepareStmt cache, whose TTL goroutine never exits;
	// with GORM's no-eviction TTL none is started, and Close releases the
	// statements. database/sql re-prepares them on new connections after
	// an outage.
	s.stmts = gormdb.NewPreparedStmtDB(db.ConnPool, 64, noEvictionTTL)
	s.single.Statement.ConnPool = s.stmts
	s.sql = buildHotSQL(s.single.Statement.Quote(s.table))

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

// Close stops the background sweeper, cancelling a sweep in progress, and
// waits for its goroutine to exit. It does not close the database. Close is
// idempotent and safe to call concurrently; it always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		close(s.stop)
		s.stmts.Close()
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

// tx returns a fresh GORM statement on the sessions table. It skips GORM's
// default transaction around writes: each of them is one statement, atomic
// on its own, and on SQLite the BEGIN IMMEDIATE/COMMIT pair would cost more
// than the statement.
func (s *Store) tx(ctx context.Context) *gormdb.DB {
	return s.single.WithContext(ctx).Table(s.table)
}

// id returns the primary key of the session that token names under the
// cookie name, or "" if token is not shaped like one of ours.
func (s *Store) id(name, tok string) string {
	if !token.Valid(tok) {
		return ""
	}
	return s.hasher.Hex(name, tok)
}

// Find implements securesession.Backend with one query: a SELECT by
// primary key that also excludes expired rows.
func (s *Store) Find(ctx context.Context, name, tok string) (securesession.Record, bool, error) {
	id := s.id(name, tok)
	if id == "" {
		return securesession.Record{}, false, fmt.Errorf("securesession/gorm: find: %w", securesession.ErrInvalidToken)
	}
	now := encTime(s.now())
	var row sessionRow
	err := s.retry(ctx, func() error {
		row = sessionRow{}
		// Rows, not Row: GORM's Row returns a zero *sql.Row on a
		// connection error, and scanning that panics.
		rows, err := s.single.WithContext(ctx).Raw(s.sql.find, id, now).Rows()
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return sql.ErrNoRows
		}
		return rows.Scan(&row.ID, &row.UserID, &row.Data, &row.Created, &row.AuthTime,
			&row.LastSeen, &row.Deadline, &row.ExpiresAt, &row.UserAgent, &row.IP, &row.Binding)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return securesession.Record{}, false, nil
	}
	if err != nil {
		return securesession.Record{}, false, err
	}
	return row.record(), true, nil
}

// Create implements securesession.Backend with one INSERT of a new row
// under a fresh token from crypto/rand.
func (s *Store) Create(ctx context.Context, name string, rec *securesession.Record) (string, error) {
	if err := checkRecord(rec); err != nil {
		return "", err
	}
	tok := token.New()
	row := newRow(s.hasher.Hex(name, tok), rec)
	if err := s.retry(ctx, func() error { return s.single.WithContext(ctx).Exec(s.sql.insert, row.args()...).Error }); err != nil {
		return "", err
	}
	rec.Handle = row.ID
	return tok, nil
}

// Update implements securesession.Backend with one UPDATE of every column
// of a live row. If no live row matched (the session was deleted, revoked
// or expired since Find), it returns securesession.ErrNoRecord and writes
// nothing: a write that races a logout never brings the session back.
//
// On MySQL, open the connection with clientFoundRows=true: without it an
// UPDATE that changes no value reports no row and reads as ErrNoRecord.
func (s *Store) Update(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	if err := checkRecord(rec); err != nil {
		return "", err
	}
	id := s.id(name, tok)
	if id == "" {
		return "", fmt.Errorf("securesession/gorm: update: %w (%w)", securesession.ErrNoRecord, securesession.ErrInvalidToken)
	}
	row := newRow(id, rec)
	if err := s.updateLive(ctx, s.sql.update, row.UserID, row.Data, row.Created, row.AuthTime,
		row.LastSeen, row.Deadline, row.ExpiresAt, row.UserAgent, row.IP, row.Binding, id); err != nil {
		return "", err
	}
	rec.Handle = id
	return tok, nil
}

// Touch implements securesession.Backend with one UPDATE of last_seen and
// expires_at only; the data is not rewritten. Like Update it returns
// securesession.ErrNoRecord if the row is gone or expired.
func (s *Store) Touch(ctx context.Context, name, tok string, rec *securesession.Record) (string, error) {
	id := s.id(name, tok)
	if id == "" {
		return "", fmt.Errorf("securesession/gorm: touch: %w (%w)", securesession.ErrNoRecord, securesession.ErrInvalidToken)
	}
	if err := s.updateLive(ctx, s.sql.touch, encTime(rec.LastSeen), encExpires(rec.Expires), id); err != nil {
		return "", err
	}
	rec.Handle = id
	return tok, nil
}

// updateLive runs one of the hot UPDATE statements, whose last two
// parameters are the row's id and "now" (appended here), and maps "no row"
// to ErrNoRecord: a write never re-creates a session that ended.
func (s *Store) updateLive(ctx context.Context, query string, args ...any) error {
	args = append(args, encTime(s.now()))
	var n int64
	err := s.retry(ctx, func() error {
		res := s.single.WithContext(ctx).Exec(query, args...)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return securesession.ErrNoRecord
	}
	return nil
}

// hotSQL holds the statements of the per-request path, built once: GORM's
// statement builder and reflection-based scanning were a quarter of a
// read. They still run through GORM (Raw and Exec), so its callbacks and
// plugins (tracing, replicas) see them, and through the store's prepared
// statement pool.
type hotSQL struct {
	find, insert, update, touch string
}

// args returns the row's values in rowColumns order, for the INSERT.
func (r *sessionRow) args() []any {
	return []any{r.ID, r.UserID, r.Data, r.Created, r.AuthTime, r.LastSeen, r.Deadline, r.ExpiresAt, r.UserAgent, r.IP, r.Binding}
}

// rowColumns lists sessionRow's columns in the order Find scans them and
// the INSERT writes them.
const rowColumns = "id, user_id, data, created, auth_time, last_seen, deadline, expires_at, user_agent, ip, binding"

func buildHotSQL(table string) hotSQL {
	live := " WHERE id = ? AND expires_at > ?"
	return hotSQL{
		find:   "SELECT " + rowColumns + " FROM " + table + live + " LIMIT 1",
		insert: "INSERT INTO " + table + " (" + rowColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		update: "UPDATE " + table + " SET user_id = ?, data = ?, created = ?, auth_time = ?, last_seen = ?," +
			" deadline = ?, expires_at = ?, user_agent = ?, ip = ?, binding = ?" + live,
		touch: "UPDATE " + table + " SET last_seen = ?, expires_at = ?" + live,
	}
}

// Rotate implements securesession.Backend: in one transaction it deletes
// the row oldToken names (if any) and inserts rec under a fresh token.
// Either both happen or neither does.
func (s *Store) Rotate(ctx context.Context, name, oldToken string, rec *securesession.Record) (string, error) {
	if err := checkRecord(rec); err != nil {
		return "", err
	}
	oldID := s.id(name, oldToken)
	if oldID == "" {
		return "", fmt.Errorf("securesession/gorm: rotate: %w (%w)", securesession.ErrNoRecord, securesession.ErrInvalidToken)
	}
	tok := token.New()
	row := newRow(s.hasher.Hex(name, tok), rec)
	now := encTime(s.now())
	err := s.retry(ctx, func() error {
		return s.db.WithContext(ctx).Transaction(func(tx *gormdb.DB) error {
			// The DELETE is the check: if the old session was logged out,
			// revoked or expired since it was read, no row goes, nothing
			// is inserted, and the rotation cannot bring it back.
			res := tx.Table(s.table).Where("id = ? AND expires_at > ?", oldID, now).Delete(&sessionRow{})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return errGone
			}
			return tx.Exec(s.sql.insert, row.args()...).Error
		})
	})
	if errors.Is(err, errGone) {
		return "", fmt.Errorf("securesession/gorm: rotate: %w", securesession.ErrNoRecord)
	}
	if err != nil {
		return "", err
	}
	rec.Handle = row.ID
	return tok, nil
}

// errGone rolls back a rotation whose old session no longer exists.
var errGone = errors.New("old session gone")

// Delete implements securesession.Backend with one DELETE by primary key.
// Deleting a session that does not exist, or a malformed token, is not an
// error.
func (s *Store) Delete(ctx context.Context, name, tok string) error {
	id := s.id(name, tok)
	if id == "" {
		return nil
	}
	return s.retry(ctx, func() error {
		return s.tx(ctx).Where("id = ?", id).Delete(&sessionRow{}).Error
	})
}

// RevokeUser implements securesession.Backend with one DELETE of every row
// of userID, under every cookie name, except the one keep names (the zero
// Ref keeps none). Use it outside a request too, after a password change
// say. An empty userID is rejected: it would end every anonymous session.
func (s *Store) RevokeUser(ctx context.Context, userID string, keep securesession.Ref) error {
	if userID == "" {
		return errors.New("securesession/gorm: RevokeUser: empty user ID (anonymous sessions cannot be revoked as a user)")
	}
	q := "user_id = ?"
	args := []any{userID}
	if keepID := s.id(keep.Name, keep.Token); keepID != "" {
		q += " AND id <> ?"
		args = append(args, keepID)
	}
	return s.retry(ctx, func() error {
		return s.tx(ctx).Where(q, args...).Delete(&sessionRow{}).Error
	})
}

// ListUser implements securesession.Lister with one SELECT of the live rows
// of userID (the data column is not read), most recently seen first. An
// empty userID is rejected.
func (s *Store) ListUser(ctx context.Context, userID string) ([]securesession.SessionInfo, error) {
	if userID == "" {
		return nil, errors.New("securesession/gorm: ListUser: empty user ID")
	}
	now := encTime(s.now())
	var rows []sessionRow
	err := s.retry(ctx, func() error {
		rows = rows[:0]
		return s.tx(ctx).
			Select("id", "created", "auth_time", "last_seen", "expires_at", "user_agent", "ip", "binding").
			Where("user_id = ? AND expires_at > ?", userID, now).
			Order("last_seen DESC").
			Find(&rows).Error
	})
	if err != nil {
		return nil, err
	}
	out := make([]securesession.SessionInfo, len(rows))
	for i := range rows {
		r := &rows[i]
		out[i] = securesession.SessionInfo{
			Handle:    r.ID,
			Created:   decTime(r.Created),
			AuthTime:  decTime(r.AuthTime),
			LastSeen:  decTime(r.LastSeen),
			Expires:   decExpires(r.ExpiresAt),
			UserAgent: r.UserAgent,
			IP:        r.IP,
			Binding:   r.Binding,
		}
	}
	return out, nil
}

// RevokeHandle implements securesession.Lister with one DELETE of the row
// whose primary key is handle, if and only if it belongs to userID. An
// unknown or malformed handle is not an error; an empty userID is.
func (s *Store) RevokeHandle(ctx context.Context, userID, handle string) error {
	if userID == "" {
		return errors.New("securesession/gorm: RevokeHandle: empty user ID")
	}
	if !validHandle(handle) {
		return nil
	}
	return s.retry(ctx, func() error {
		return s.tx(ctx).Where("id = ? AND user_id = ?", handle, userID).Delete(&sessionRow{}).Error
	})
}

func validHandle(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func checkRecord(rec *securesession.Record) error {
	if len(rec.UserID) > MaxUserIDLen {
		return fmt.Errorf("securesession/gorm: Record.UserID is %d bytes; the user_id column holds at most %d", len(rec.UserID), MaxUserIDLen)
	}
	return nil
}

// retry runs op, running it again after a short pause while it fails
// because SQLite's database is locked. Every operation of the Store is
// safe to repeat after such a failure: a statement or transaction that
// reported SQLITE_BUSY wrote nothing.
func (s *Store) retry(ctx context.Context, op func() error) error {
	delay := 2 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil || attempt == busyRetries || !isBusy(err) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay *= 2
	}
}

// isBusy reports whether err is SQLite's "database is locked" (SQLITE_BUSY
// or SQLITE_LOCKED), by its text so that no driver is imported: the cgo
// and pure-Go SQLite drivers all use SQLite's own messages.
func isBusy(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "database table is locked") ||
		strings.Contains(msg, "SQLITE_BUSY")
}

// Times are stored as Unix nanoseconds in BIGINT columns: exact to the
// nanosecond on every database (PostgreSQL timestamps keep microseconds),
// compared as integers (SQLite stores DATETIME as text, whose comparison
// breaks across time zones), and free of time-zone conversion. 0 is the
// zero time. Times outside 1678..2262 are clamped.

func encTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	if t.Before(minTime) {
		return math.MinInt64 + 1
	}
	if t.After(maxTime) {
		return math.MaxInt64 - 1
	}
	return t.UnixNano()
}

func decTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// A zero Record.Expires means the session never lapses on its own; it is
// stored as the largest value so that the row is never filtered out or
// swept.
func encExpires(t time.Time) int64 {
	if t.IsZero() {
		return math.MaxInt64
	}
	return encTime(t)
}

func decExpires(n int64) time.Time {
	if n == math.MaxInt64 {
		return time.Time{}
	}
	return decTime(n)
}

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64-1)
)

var (
	_ securesession.Backend = (*Store)(nil)
	_ securesession.Lister  = (*Store)(nil)
)
