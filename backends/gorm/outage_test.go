package gorm

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	sqlitedriver "gorm.io/driver/sqlite"
	gormdb "gorm.io/gorm"

	"github.com/gin-securesession/securesession/backends/backendtest/outagetest"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
	"github.com/gin-securesession/securesession/internal/testservers"
)

// restartablePG is a PostgreSQL server of its own (the shared test server
// cannot be restarted) that keeps its data directory and port across Stop
// and Start, as a real restart does.
type restartablePG struct {
	bin, base, data, sock string
	port                  int
	cred                  *syscall.Credential
	cmd                   *exec.Cmd
	exited                chan struct{}
}

func startRestartablePG(t *testing.T) *restartablePG {
	t.Helper()
	bin, err := testservers.PostgresBinDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("SKIPPING PostgreSQL restart test: %v", err)
	}
	base, err := os.MkdirTemp("", "securesession-pgrestart-")
	if err != nil {
		t.Fatal(err)
	}
	p := &restartablePG{bin: bin, base: base, data: filepath.Join(base, "data"), sock: filepath.Join(base, "sock")}
	t.Cleanup(func() { p.stop(); os.RemoveAll(base) })
	for _, d := range []string{p.data, p.sock} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root with no postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		os.Chmod(base, 0o755)
		for _, d := range []string{p.data, p.sock} {
			if err := os.Chown(d, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	if out, err := p.command("initdb", "-D", p.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *restartablePG) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(p.bin, name), args...)
	cmd.Dir = p.base
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Pdeathsig: syscall.SIGQUIT}
	return cmd
}

func (p *restartablePG) dsn() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=2", p.port)
}

func (p *restartablePG) start() error {
	cmd := p.command("postgres", "-D", p.data, "-h", "127.0.0.1", "-p", strconv.Itoa(p.port), "-k", p.sock,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=50")
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(p.exited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		db, err := sql.Open("pgx", p.dsn())
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("postgres exited at start: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop shuts the server down the way an operator's restart does (SIGINT:
// fast shutdown, which disconnects every client).
func (p *restartablePG) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

// TestOutagePostgresRestarted restarts PostgreSQL while logged-in clients
// read and write through the middleware. During the restart requests get
// 503, never another user's session or a silent logout; afterwards the
// pool reconnects by itself, every session is still there with its last
// value, no goroutine leaks and no token or key reaches a log or an error.
func TestOutagePostgresRestarted(t *testing.T) {
	pg := startRestartablePG(t)
	db := openPostgresDSN(t, pg.dsn())
	s := newStore(t, db, Options{Key: testKey})
	res := outagetest.Run(t, outagetest.Outage{
		Backend: s,
		Down:    func(t *testing.T) { pg.stop() },
		Up: func(t *testing.T) {
			if err := pg.start(); err != nil {
				t.Fatal(err)
			}
		},
		Secrets: [][]byte{testKey},
	})
	t.Log(res)
	checkNoConnLeak(t, db)
}

// TestOutageSQLiteLocked holds SQLite's write lock from a second
// connection (BEGIN EXCLUSIVE) for longer than the store's busy budget.
// Writes then fail with 503; reads go on (WAL); no session is lost or
// mixed up; once the lock is released service resumes by itself.
//
// The database is opened as sqlite.Open does but with a 50 ms busy
// timeout, so that the store gives up on the lock within a second and the
// test stays short; with sqlite.Open's 5 s a lock shorter than that is
// simply waited out (see TestSQLiteShortLockIsWaitedOut).
func TestOutageSQLiteLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	db, err := gormdb.Open(sqlitedriver.Open("file:"+path+"?_journal_mode=WAL&_busy_timeout=50&_txlock=immediate&_synchronous=NORMAL"), quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	sqlDB, _ := db.DB()
	sqlDB.SetMaxOpenConns(sqlite.MaxOpenConns)
	s := newStore(t, db, Options{Key: testKey})
	var locker *sql.DB
	var conn *sql.Conn
	res := outagetest.Run(t, outagetest.Outage{
		Backend: s,
		DownFor: 1500 * time.Millisecond,
		Down: func(t *testing.T) {
			locker, conn = lockSQLite(t, path)
		},
		Up: func(t *testing.T) {
			if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
			conn.Close()
			locker.Close()
		},
		Secrets: [][]byte{testKey},
	})
	t.Log(res)
	checkNoConnLeak(t, db)
}

// lockSQLite opens a second connection to the database file and takes its
// write lock with BEGIN EXCLUSIVE, as another process could.
func lockSQLite(t *testing.T, path string) (*sql.DB, *sql.Conn) {
	t.Helper()
	locker, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := locker.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	return locker, conn
}

// TestSQLiteShortLockIsWaitedOut: with sqlite.Open's busy timeout a lock
// held for less than it is waited out: writes are delayed, never failed.
func TestSQLiteShortLockIsWaitedOut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	db, err := sqlite.Open(path, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeDB(db) })
	s := newStore(t, db, Options{Key: testKey})
	now := time.Now()
	tok, err := s.Create(bg, "__Host-session", newRecord(now, "alice", "v1"))
	if err != nil {
		t.Fatal(err)
	}
	locker, conn := lockSQLite(t, path)
	held := 300 * time.Millisecond
	go func() {
		time.Sleep(held)
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		locker.Close()
	}()
	start := time.Now()
	rec := newRecord(now, "alice", "v2")
	if _, err := s.Update(bg, "__Host-session", tok, rec); err != nil {
		t.Fatalf("Update during a %v lock: %v", held, err)
	}
	if d := time.Since(start); d < held/2 {
		t.Fatalf("Update returned after %v, before the lock was released", d)
	}
	got, found, err := s.Find(bg, "__Host-session", tok)
	if err != nil || !found || string(got.Values) != "v2" {
		t.Fatalf("after the lock: found=%v err=%v values=%q", found, err, got.Values)
	}
}

// checkNoConnLeak: once the load is over, no pooled connection is still
// in use.
func checkNoConnLeak(t *testing.T, db *gormdb.DB) {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for sqlDB.Stats().InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d database connections still in use after the run", sqlDB.Stats().InUse)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
