package gorm

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession/backends/cookie"
)

// Defaults used when the corresponding RevocationStoreOptions field is
// zero.
const (
	// DefaultRevocationTable is the table the revocation entries live in.
	DefaultRevocationTable = "securesession_revocations"

	// DefaultRevocationBatch is how many entries one Changes returns at
	// most.
	DefaultRevocationBatch = 500
)

// RevocationStoreOptions configures a RevocationStore. The zero value is
// usable.
type RevocationStoreOptions struct {
	// Table is the table the entries, the salt and the position counter
	// are kept in. It must be a plain SQL identifier (see
	// Options.TableName), at most 40 bytes. Default DefaultRevocationTable
	// ("securesession_revocations"). Give every fleet that must not share
	// revocations its own table; the instances of one fleet share one.
	Table string

	// CleanupInterval is how often the background sweeper deletes the
	// entries whose Until has passed. Zero means DefaultCleanupInterval
	// (5 minutes); a negative value starts no sweeper (call
	// RevocationStore.Cleanup yourself).
	CleanupInterval time.Duration

	// BatchSize is how many entries one Changes returns at most. Zero
	// means DefaultRevocationBatch (500); it must not be negative.
	BatchSize int

	// Now is the clock that decides which entries have passed their Until
	// (Lookup leaves them out, the sweeper deletes them), and the salt's
	// since when a Put or Changes(0) before any Salt creates the reserved
	// row. Default time.Now. It is called concurrently and must be safe
	// for that.
	Now func() time.Time

	// DisableAutoMigrate skips the AutoMigrate that NewRevocationStore
	// runs, for applications that manage their schema themselves. The
	// table must then match the one AutoMigrate would create (see
	// "Table" in the documentation of RevocationStore). Default false.
	DisableAutoMigrate bool

	// OnCleanupError receives the errors of the background sweeper.
	// Default (nil): logged with slog.Warn on slog.Default(). Errors never
	// contain the salt.
	OnCleanupError func(error)
}

// RevocationStore is a cookie.RevocationStore in one table of a database
// opened with GORM (tested on SQLite, PostgreSQL and MariaDB): the shared
// state behind a cookie.SharedRevocation, so that a cookie revoked on one
// instance of a fleet is refused on every other. All its methods are safe
// for concurrent use, by any number of instances sharing the table.
//
// # Table
//
// One row per revoked session or user, keyed by the salted hash the
// SharedRevocation computes (the table holds no handle, user ID, token or
// key in clear), plus one reserved row, whose entry_key is "!", holding
// the salt and the position counter. Keeping them in one table means that
// dropping or emptying it loses the salt and the entries together, which
// Changes then reports as cookie.ErrChangesLost.
//
//	entry_key  varbinary(64)  primary key (bytea on PostgreSQL, blob on SQLite): compared
//	                          byte for byte, whatever the database's collation
//	below      bigint         RevocationEntry.Below as the int64 of the same bits:
//	                          generations up to 2^63-1 read as themselves, AllTokens as -1
//	before_at  bigint         RevocationEntry.Before, Unix nanoseconds (0 is the zero time);
//	                          in the reserved row, the salt's since
//	keep       varchar(64)    RevocationEntry.Keep
//	until_at   bigint         RevocationEntry.Until, Unix nanoseconds, indexed for the sweeper
//	seq        bigint         the entry's position in the change log, indexed
//	salt       varbinary(32)  only in the reserved row: the 32-byte salt
//
// A session entry, with the 33-byte key a SharedRevocation makes, takes
// 147 bytes of a SQLite file and 198 of a PostgreSQL database, indexes
// included (measured by TestRevocationStoreRowSize over 5,000 entries:
// the file's pages, and pg_total_relation_size after VACUUM): 100,000
// logouts within an absolute timeout hold 15 to 20 MB. The key is stored
// twice, in the row and in the primary key's index.
//
// # Positions
//
// Every Put takes the reserved row's lock (UPDATE ... SET seq = seq + n),
// writes its entries under the positions it reserved and commits, so
// writers take turns and positions follow commit order: a reader that has
// seen position p has seen every write at or below p, under READ
// COMMITTED as under SQLite's single writer. A position is
// epoch<<44 + count, where epoch is drawn at random when the reserved row
// is created: a table recreated since a position was handed out has
// another epoch (or a lower count), and Changes reports cookie.
// ErrChangesLost instead of missing what was lost. The count allows 2^44
// writes per table.
type RevocationStore struct {
	db      *gormdb.DB
	single  *gormdb.DB // db without the default write transaction, for the sweeper
	sqlDB   *sql.DB
	table   string
	batch   int
	now     func() time.Time
	onError func(error)
	stmts   *revStmts
	closed  atomic.Bool
	salt    atomic.Pointer[[]byte] // the salt Salt last returned; nil before

	stop      chan struct{}
	done      chan struct{} // nil when no sweeper runs
	cancel    context.CancelFunc
	sweepCtx  context.Context
	closeOnce sync.Once

	// hookBeforeCommit, set only by tests, runs inside Put after its
	// writes and before they commit; an error it returns rolls them back.
	hookBeforeCommit func() error
}

// revocationRow is one row of the revocation table; see RevocationStore.
type revocationRow struct {
	Key    []byte `gorm:"column:entry_key;primaryKey;size:64"`
	Below  int64  `gorm:"column:below;not null"`
	Before int64  `gorm:"column:before_at;not null"`
	Keep   string `gorm:"column:keep;size:64;not null"`
	Until  int64  `gorm:"column:until_at;not null;index"`
	Seq    int64  `gorm:"column:seq;not null;index"`
	Salt   []byte `gorm:"column:salt;size:32"`
}

const (
	// metaKey is the entry_key of the reserved row. Entry keys start with
	// 's' or 'u', so it can never be one.
	metaKey = "!"

	saltLen = 32

	// posCountBits is how many low bits of a position count writes; the
	// bits above hold the table's epoch, below 2^19 so that every
	// position is a positive int64.
	posCountBits = 44
	epochLimit   = 1 << (63 - posCountBits)

	// lookupChunk is the most keys one Lookup statement asks for; longer
	// lists take several. The statements are prepared for 1, 2, 4, ...
	// lookupChunk keys, and a shorter list repeats its last key.
	lookupChunk = 32
)

var metaKeyArg = []byte(metaKey)

// NewRevocationStore returns a RevocationStore on db, creating or updating
// its table with AutoMigrate (unless opts.DisableAutoMigrate) and starting
// the sweeper (unless opts.CleanupInterval is negative). The salt and the
// position counter are created on first use, by whichever instance comes
// first. Call Close to stop the sweeper; Close does not close db.
//
// As for NewStore, open SQLite with the sqlite subpackage, and db's pool
// must be a *sql.DB.
func NewRevocationStore(db *gormdb.DB, opts RevocationStoreOptions) (*RevocationStore, error) {
	if db == nil {
		return nil, errors.New("securesession/gorm: NewRevocationStore: db is nil")
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("securesession/gorm: NewRevocationStore: the *gorm.DB has no *sql.DB underneath: %w", err)
	}
	table := opts.Table
	if table == "" {
		table = DefaultRevocationTable
	}
	if err := checkIdent(table); err != nil {
		return nil, fmt.Errorf("securesession/gorm: RevocationStoreOptions.Table: %w", err)
	}
	if opts.BatchSize < 0 {
		return nil, fmt.Errorf("securesession/gorm: RevocationStoreOptions.BatchSize: must not be negative, got %d", opts.BatchSize)
	}
	batch := opts.BatchSize
	if batch == 0 {
		batch = DefaultRevocationBatch
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
			slog.Warn("securesession/gorm: expired-revocation cleanup failed", "table", table, "error", err)
		}
	}
	s := &RevocationStore{
		db:      db,
		single:  db.Session(&gormdb.Session{SkipDefaultTransaction: true, Context: context.Background()}),
		sqlDB:   sqlDB,
		table:   table,
		batch:   batch,
		now:     now,
		onError: onError,
	}
	if !opts.DisableAutoMigrate {
		if err := s.db.Table(table).AutoMigrate(&revocationRow{}); err != nil {
			return nil, fmt.Errorf("securesession/gorm: AutoMigrate of table %q: %w", table, err)
		}
	}
	// SQLite has no SELECT ... FOR UPDATE, and needs none: its writer
	// holds the whole database.
	forUpdate := " FOR UPDATE"
	if db.Dialector.Name() == "sqlite" {
		forUpdate = ""
	}
	s.stmts = buildRevStmts(s.single.Statement.Quote(table), renderer(db), forUpdate, batch)

	s.stop = make(chan struct{})
	s.sweepCtx, s.cancel = context.WithCancel(context.Background())
	if interval > 0 {
		s.done = make(chan struct{})
		go s.sweeper(interval)
	}
	return s, nil
}

// Close stops the sweeper, cancelling a sweep in progress, waits for it to
// exit and releases the prepared statements; a method called after Close
// returns an error. It does not close the database. Close is idempotent
// and safe to call concurrently; it always returns nil.
func (s *RevocationStore) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		close(s.stop)
		closeAll(&s.closed, s.stmts.all())
	})
	if s.done != nil {
		<-s.done
	}
	return nil
}

// TableName returns the name of the table the RevocationStore uses. Safe
// for concurrent use.
func (s *RevocationStore) TableName() string { return s.table }

// revStmts are the RevocationStore's statements, prepared on first use.
type revStmts struct {
	metaRead, metaInsert, bump, counter stmt
	entryRead, entryInsert, entryUpdate stmt
	changes                             stmt
	lookup                              [6]stmt // for 1, 2, 4, ... lookupChunk keys
}

func buildRevStmts(table string, render func(string) string, forUpdate string, batch int) *revStmts {
	set := func(q string) stmt { return stmt{query: render(q)} }
	h := &revStmts{
		metaRead: set("SELECT seq, before_at, salt FROM " + table + " WHERE entry_key = ?"),
		metaInsert: set("INSERT INTO " + table + " (entry_key, below, before_at, keep, until_at, seq, salt)" +
			" VALUES (?, 0, ?, '', " + strconv.FormatInt(math.MaxInt64, 10) + ", ?, ?)"),
		bump:      set("UPDATE " + table + " SET seq = seq + ? WHERE entry_key = ?"),
		counter:   set("SELECT seq, salt FROM " + table + " WHERE entry_key = ?"),
		entryRead: set("SELECT below, before_at, keep, until_at FROM " + table + " WHERE entry_key = ?" + forUpdate),
		entryInsert: set("INSERT INTO " + table + " (entry_key, below, before_at, keep, until_at, seq)" +
			" VALUES (?, ?, ?, ?, ?, ?)"),
		entryUpdate: set("UPDATE " + table + " SET below = ?, before_at = ?, keep = ?, until_at = ?, seq = ? WHERE entry_key = ?"),
		changes: set("SELECT entry_key, below, before_at, keep, until_at, seq FROM " + table +
			" WHERE seq > ? AND seq <= ? AND entry_key <> ? ORDER BY seq LIMIT " + strconv.Itoa(batch)),
	}
	for i := range h.lookup {
		marks := strings.Repeat(", ?", 1<<i)[2:]
		h.lookup[i] = set("SELECT entry_key, below, before_at, keep, until_at FROM " + table +
			" WHERE entry_key IN (" + marks + ") AND until_at >= ?")
	}
	return h
}

func (h *revStmts) all() []*stmt {
	list := []*stmt{&h.metaRead, &h.metaInsert, &h.bump, &h.counter, &h.entryRead, &h.entryInsert, &h.entryUpdate, &h.changes}
	for i := range h.lookup {
		list = append(list, &h.lookup[i])
	}
	return list
}

// prepared returns st prepared on the store's *sql.DB.
func (s *RevocationStore) prepared(ctx context.Context, st *stmt) (*sql.Stmt, error) {
	return st.prepare(ctx, s.sqlDB, &s.closed, errRevClosed)
}

// errRevClosed is returned by the methods of a RevocationStore after Close.
var errRevClosed = errors.New("securesession/gorm: the RevocationStore is closed")

// Salt implements cookie.RevocationStore. The first call on a table
// creates the reserved row with 32 bytes from crypto/rand and since now
// (kept in the row's before_at column); every instance then reads the
// same salt and since back. A reserved row written by a version that kept
// no since (before_at 0) is read with the zero since.
func (s *RevocationStore) Salt(ctx context.Context, now time.Time) ([]byte, time.Time, error) {
	m, err := s.meta(ctx, now)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("securesession/gorm: revocation salt: %w", err)
	}
	salt := bytes.Clone(m.salt)
	s.salt.Store(&salt)
	return m.salt, m.since, nil
}

// metaRow is what the reserved row holds: the salt, its since and the
// current position.
type metaRow struct {
	salt  []byte
	since time.Time
	pos   int64
}

// meta returns the reserved row, creating it with since now if the table
// has none. Two instances creating it at once both end up with the row
// the first one inserted: the second INSERT fails on the primary key and
// the read after it finds the first one's row.
func (s *RevocationStore) meta(ctx context.Context, now time.Time) (metaRow, error) {
	m, err := s.readMeta(ctx)
	if !errors.Is(err, sql.ErrNoRows) {
		return m, err
	}
	var b [saltLen + 8]byte
	rand.Read(b[:]) // never returns an error (Go 1.24+)
	epoch := int64(binary.BigEndian.Uint64(b[saltLen:])%(epochLimit-1)) + 1
	ierr := s.retry(ctx, func() error {
		p, err := s.prepared(ctx, &s.stmts.metaInsert)
		if err != nil {
			return err
		}
		_, err = p.ExecContext(ctx, metaKeyArg, encTime(now), epoch<<posCountBits, b[:saltLen])
		return err
	})
	m, err = s.readMeta(ctx)
	if errors.Is(err, sql.ErrNoRows) && ierr != nil {
		return metaRow{}, ierr
	}
	return m, err
}

func (s *RevocationStore) readMeta(ctx context.Context) (metaRow, error) {
	var (
		m     metaRow
		since int64
	)
	err := s.retry(ctx, func() error {
		p, err := s.prepared(ctx, &s.stmts.metaRead)
		if err != nil {
			return err
		}
		return p.QueryRowContext(ctx, metaKeyArg).Scan(&m.pos, &since, &m.salt)
	})
	if err == nil && (len(m.salt) != saltLen || m.pos <= 0) {
		err = fmt.Errorf("table %q: the reserved row %q holds no valid salt and position; delete it and every entry (which forgets every revocation) to start again", s.table, metaKey)
	}
	m.since = decTime(since)
	return m, err
}

// Put implements cookie.RevocationStore in one transaction: it bumps the
// position counter by the number of distinct keys (which takes the
// reserved row's lock until commit, so that positions follow commit
// order), then reads each entry's row (FOR UPDATE, except on SQLite),
// merges and writes it under its new position. Entries of the same key in
// one call are merged first. A deadlock victim or a locked SQLite
// database is retried, as by Store. An entry whose Key is not 's' or 'u'
// and base64url of at most 64 bytes, or whose Keep is longer than 64
// bytes, is refused before anything is written. On a table without the
// reserved row, Put of a store that has not returned a salt yet creates
// it first, as Salt does (with since on the store's clock). Otherwise a
// missing reserved row, or a salt other than the one Salt last returned,
// fails Put: the table was emptied or recreated, and an entry keyed with
// the old salt would be lost to the instances that have synced. They
// learn of it from Changes (cookie.ErrChangesLost) and start again with
// the new salt.
func (s *RevocationStore) Put(ctx context.Context, entries ...cookie.RevocationEntry) error {
	if len(entries) == 0 {
		return nil
	}
	byKey := make(map[string]cookie.RevocationEntry, len(entries))
	for i, e := range entries {
		if !cookie.ValidRevocationKey(e.Key) {
			return fmt.Errorf("securesession/gorm: revocation Put: entry %d of %d: the key is not 's' or 'u' then base64url, at most %d bytes", i+1, len(entries), cookie.MaxRevocationKeyLen)
		}
		if !cookie.ValidRevocationKeep(e.Keep) {
			return fmt.Errorf("securesession/gorm: revocation Put: entry %d of %d: Keep is neither empty nor a session entry's key ('s' followed by base64url, at most %d bytes)", i+1, len(entries), cookie.MaxRevocationKeyLen)
		}
		if old, ok := byKey[e.Key]; ok {
			e = old.Merge(e)
		}
		byKey[e.Key] = e
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys) // one lock order for every writer
	list := make([]cookie.RevocationEntry, len(keys))
	for i, k := range keys {
		list[i] = byKey[k]
	}
	err := s.retry(ctx, func() error { return s.put(ctx, list) })
	if errors.Is(err, errNoCounter) {
		if s.salt.Load() != nil {
			err = errSaltChanged // emptied since Salt
		} else if _, err = s.meta(ctx, s.now()); err == nil {
			// The table's first write, before any Salt.
			err = s.retry(ctx, func() error { return s.put(ctx, list) })
		}
	}
	if err != nil {
		return fmt.Errorf("securesession/gorm: revocation Put: %w", err)
	}
	return nil
}

// errNoCounter is put's error on a table without the reserved row.
var errNoCounter = errors.New("the table has no position counter")

// errSaltChanged is Put's error when the table's salt is not the one Salt
// last returned, or the reserved row is gone since: the table was emptied
// or recreated, and an entry keyed with the old salt would name nothing
// for the instances that have synced. An outage until the caller's
// SharedRevocation syncs (Changes reports the loss) and takes the new
// salt.
var errSaltChanged = errors.New("the table's salt is not the one Salt returned (the table was emptied or recreated); sync again")

// put writes list, sorted by key with one entry per key, in one
// transaction.
func (s *RevocationStore) put(ctx context.Context, list []cookie.RevocationEntry) error {
	var ps [5]*sql.Stmt
	for i, st := range []*stmt{&s.stmts.bump, &s.stmts.counter, &s.stmts.entryRead, &s.stmts.entryInsert, &s.stmts.entryUpdate} {
		p, err := s.prepared(ctx, st)
		if err != nil {
			return err
		}
		ps[i] = p
	}
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	bump, counter, read, insert, update := tx.StmtContext(ctx, ps[0]), tx.StmtContext(ctx, ps[1]),
		tx.StmtContext(ctx, ps[2]), tx.StmtContext(ctx, ps[3]), tx.StmtContext(ctx, ps[4])
	res, err := bump.ExecContext(ctx, len(list), metaKeyArg)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return errNoCounter
	}
	var (
		top  int64
		salt []byte
	)
	if err := counter.QueryRowContext(ctx, metaKeyArg).Scan(&top, &salt); err != nil {
		return err
	}
	if known := s.salt.Load(); known != nil && !bytes.Equal(*known, salt) {
		return errSaltChanged
	}
	pos := top - int64(len(list))
	for _, e := range list {
		pos++
		key := []byte(e.Key)
		var r revocationRow
		err := read.QueryRowContext(ctx, key).Scan(&r.Below, &r.Before, &r.Keep, &r.Until)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = insert.ExecContext(ctx, key, int64(e.Below), encTime(e.Before), e.Keep, encTime(e.Until), pos)
		case err == nil && e.Claim && uint64(r.Below) >= e.Below:
			return fmt.Errorf("a claimed session entry: %w", cookie.ErrSuperseded)
		case err == nil:
			m := r.entry(e.Key).Merge(e)
			_, err = update.ExecContext(ctx, int64(m.Below), encTime(m.Before), m.Keep, encTime(m.Until), pos, key)
		}
		if err != nil {
			return err
		}
	}
	if s.hookBeforeCommit != nil {
		if err := s.hookBeforeCommit(); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// entry returns the RevocationEntry that r stores under key.
func (r *revocationRow) entry(key string) cookie.RevocationEntry {
	return cookie.RevocationEntry{Key: key, Below: uint64(r.Below), Before: decTime(r.Before), Keep: r.Keep, Until: decTime(r.Until)}
}

// Lookup implements cookie.RevocationStore with one SELECT ... WHERE
// entry_key IN (...) per 32 keys, leaving out the entries whose Until has
// passed (before Now()). A key that no SharedRevocation could have made
// (cookie.ValidRevocationKey) fails the call before any query.
func (s *RevocationStore) Lookup(ctx context.Context, keys []string) ([]cookie.RevocationEntry, error) {
	for _, k := range keys {
		if !cookie.ValidRevocationKey(k) {
			return nil, fmt.Errorf("securesession/gorm: revocation lookup: a key is not 's' or 'u' followed by base64url, at most %d bytes", cookie.MaxRevocationKeyLen)
		}
	}
	now := encTime(s.now())
	var out []cookie.RevocationEntry
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), lookupChunk)]
		keys = keys[len(chunk):]
		i := 0
		for 1<<i < len(chunk) {
			i++
		}
		args := make([]any, 0, 1<<i+1)
		for j := range 1 << i {
			args = append(args, []byte(chunk[min(j, len(chunk)-1)]))
		}
		args = append(args, now)
		first := len(out)
		err := s.retry(ctx, func() error {
			out = out[:first]
			p, err := s.prepared(ctx, &s.stmts.lookup[i])
			if err != nil {
				return err
			}
			rows, err := p.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var r revocationRow
				if err := rows.Scan(&r.Key, &r.Below, &r.Before, &r.Keep, &r.Until); err != nil {
					return err
				}
				out = append(out, r.entry(string(r.Key)))
			}
			return rows.Err()
		})
		if err != nil {
			return nil, fmt.Errorf("securesession/gorm: revocation Lookup: %w", err)
		}
	}
	return out, nil
}

// Changes implements cookie.RevocationStore. It reads the current
// position first, then the entries written after since and at or before
// it, in position order, at most BatchSize of them: every write at or
// below a position read has committed, so none is skipped. When fewer
// than BatchSize come back, next is the position read, past any gap left
// by entries written again or swept since. A since of another epoch or
// beyond the current position means the table was emptied or recreated:
// the error wraps cookie.ErrChangesLost, and next is the current
// position. So does a table without its reserved row, with next 0, unless
// since is 0: the row is then created again by the caller's next Salt.
func (s *RevocationStore) Changes(ctx context.Context, since uint64) ([]cookie.RevocationEntry, uint64, error) {
	m, err := s.readMeta(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows) && since != 0:
		// Emptied: the reserved row is created again by the Salt that
		// follows, on its caller's clock, not here on the store's.
		return nil, 0, fmt.Errorf("securesession/gorm: revocation Changes: table %q has no reserved row (emptied): %w", s.table, cookie.ErrChangesLost)
	case errors.Is(err, sql.ErrNoRows):
		m, err = s.meta(ctx, s.now())
	}
	if err != nil {
		return nil, 0, fmt.Errorf("securesession/gorm: revocation Changes: %w", err)
	}
	cur := uint64(m.pos)
	if since == 0 || since == cur {
		return nil, cur, nil
	}
	if since>>posCountBits != cur>>posCountBits || since > cur {
		return nil, cur, fmt.Errorf("securesession/gorm: revocation Changes: table %q was emptied or recreated: %w", s.table, cookie.ErrChangesLost)
	}
	var out []cookie.RevocationEntry
	last := int64(since)
	err = s.retry(ctx, func() error {
		out = out[:0]
		p, err := s.prepared(ctx, &s.stmts.changes)
		if err != nil {
			return err
		}
		rows, err := p.QueryContext(ctx, int64(since), m.pos, metaKeyArg)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r revocationRow
			if err := rows.Scan(&r.Key, &r.Below, &r.Before, &r.Keep, &r.Until, &r.Seq); err != nil {
				return err
			}
			out = append(out, r.entry(string(r.Key)))
			last = r.Seq
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("securesession/gorm: revocation Changes: %w", err)
	}
	if len(out) == s.batch {
		return out, uint64(last), nil
	}
	return out, cur, nil
}

// Cleanup deletes the entries whose Until is before Now(), in DELETEs of
// at most DefaultCleanupBatch rows each, and returns how many it deleted.
// The reserved row is never deleted. The sweeper calls it every
// CleanupInterval. It stops between batches when ctx is done. Safe for
// concurrent use, also with Put: a Put that extends an entry's Until at
// the same moment either commits first (and the entry is no longer
// expired) or writes the entry anew.
func (s *RevocationStore) Cleanup(ctx context.Context) (deleted int64, err error) {
	if s.closed.Load() {
		return 0, errRevClosed
	}
	now := encTime(s.now())
	for {
		var keys [][]byte
		err := s.retry(ctx, func() error {
			keys = keys[:0]
			return s.single.WithContext(ctx).Table(s.table).Model(&revocationRow{}).
				Where("until_at < ?", now).Limit(DefaultCleanupBatch).Pluck("entry_key", &keys).Error
		})
		if err != nil || len(keys) == 0 {
			return deleted, err
		}
		var n int64
		err = s.retry(ctx, func() error {
			res := s.single.WithContext(ctx).Table(s.table).Where("entry_key IN ? AND until_at < ?", keys, now).Delete(&revocationRow{})
			n = res.RowsAffected
			return res.Error
		})
		deleted += n
		if err != nil || len(keys) < DefaultCleanupBatch {
			return deleted, err
		}
		if err := ctx.Err(); err != nil {
			return deleted, err
		}
	}
}

func (s *RevocationStore) sweeper(interval time.Duration) {
	sweep(s.sweepCtx, interval, s.stop, s.done, s.Cleanup, s.onError)
}

var _ cookie.RevocationStore = (*RevocationStore)(nil)
