// Package testservers starts real database and cache servers for tests.
package testservers

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to create per-test databases
)

// ErrPostgresNotInstalled is returned by StartPostgres when no PostgreSQL
// server binaries are found (Debian package postgresql).
var ErrPostgresNotInstalled = errors.New("testservers: PostgreSQL is not installed (apt-get install postgresql; looked for /usr/lib/postgresql/*/bin/postgres)")

// PostgresBinDir returns the directory holding initdb and postgres, from
// $PG_BINDIR or the newest /usr/lib/postgresql/*/bin, or
// ErrPostgresNotInstalled.
func PostgresBinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVer := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil && v > bestVer {
			best, bestVer = d, v
		}
	}
	if best == "" {
		return "", ErrPostgresNotInstalled
	}
	return best, nil
}

// StartPostgres starts a throwaway PostgreSQL server: a fresh cluster in a
// temporary directory, listening on 127.0.0.1 on a free port and on a unix
// socket in that directory, with fsync off. It returns a DSN for the
// postgres superuser (trust authentication) and stop, which shuts the
// server down and removes the directory; stop is idempotent. When the test
// process runs as root, the server runs as the "postgres" user, since
// PostgreSQL refuses root.
func StartPostgres() (dsn string, stop func(), err error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return "", nil, err
	}
	base, err := os.MkdirTemp("", "securesession-pg-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(base) }
	dataDir := filepath.Join(base, "data")
	sockDir := filepath.Join(base, "sock")
	for _, d := range []string{dataDir, sockDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			cleanup()
			return "", nil, err
		}
	}

	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("testservers: running as root and there is no postgres user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(base, 0o755); err != nil {
			cleanup()
			return "", nil, err
		}
		for _, d := range []string{dataDir, sockDir} {
			if err := os.Chown(d, uid, gid); err != nil {
				cleanup()
				return "", nil, err
			}
		}
	}
	command := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = base
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Credential: cred,
			// If the test binary dies without calling stop, take the
			// server down with it (SIGQUIT: immediate shutdown).
			Pdeathsig: syscall.SIGQUIT,
		}
		return cmd
	}

	initdb := command("initdb", "-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("testservers: initdb: %w\n%s", err, out)
	}

	port, err := freePort()
	if err != nil {
		cleanup()
		return "", nil, err
	}
	logPath := filepath.Join(base, "postgres.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	srv := command("postgres", "-D", dataDir, "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", sockDir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "shared_buffers=32MB")
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		logFile.Close()
		cleanup()
		return "", nil, fmt.Errorf("testservers: starting postgres: %w", err)
	}
	dsn = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", port)
	// SIGINT is PostgreSQL's fast shutdown.
	stop, err = supervise("postgres", srv, logFile, logPath, syscall.SIGINT, cleanup, func() error { return pingPostgres(dsn) })
	if err != nil {
		return "", nil, err
	}
	return dsn, stop, nil
}

func pingPostgres(dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var shared struct {
	once  sync.Once
	dsn   string
	stop  func()
	err   error
	admin *sql.DB
	n     atomic.Int64
	mu    sync.Mutex
}

// Postgres returns the DSN of a new, empty database on a PostgreSQL server
// shared by the whole test binary, started on first use. Call StopPostgres
// from TestMain after m.Run to shut it down (a server left running dies
// with the test process anyway). If PostgreSQL is not installed, Postgres
// fails the test when $CI is "true" and otherwise skips it, saying why.
// Safe for concurrent use.
func Postgres(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		shared.dsn, shared.stop, shared.err = StartPostgres()
		if shared.err == nil {
			shared.admin, shared.err = sql.Open("pgx", shared.dsn)
		}
	})
	if shared.err != nil {
		if errors.Is(shared.err, ErrPostgresNotInstalled) && os.Getenv("CI") != "true" {
			tb.Skipf("SKIPPING PostgreSQL TEST: %v", shared.err)
		}
		tb.Fatalf("PostgreSQL test server: %v", shared.err)
	}
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), shared.n.Add(1))
	// CREATE DATABASE copies template1 and cannot run twice at once.
	shared.mu.Lock()
	_, err := shared.admin.Exec("CREATE DATABASE " + name)
	shared.mu.Unlock()
	if err != nil {
		tb.Fatalf("PostgreSQL test server: CREATE DATABASE: %v", err)
	}
	return strings.Replace(shared.dsn, "dbname=postgres", "dbname="+name, 1)
}

// StopPostgres shuts down the server Postgres started, if any. Call it
// from TestMain after m.Run.
func StopPostgres() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.admin != nil {
		shared.admin.Close()
	}
	if shared.stop != nil {
		shared.stop()
	}
}

// supervise watches srv, a database server just started with its output
// in logFile (at logPath), until ping succeeds. It returns the stop
// function, which sends sig, waits up to 15 s before killing, and then
// runs cleanup; it is idempotent. If srv exits or does not answer within
// 30 s, supervise stops it and returns an error with its log.
func supervise(name string, srv *exec.Cmd, logFile *os.File, logPath string, sig os.Signal, cleanup func(), ping func() error) (stop func(), err error) {
	exited := make(chan struct{})
	go func() { srv.Wait(); logFile.Close(); close(exited) }()

	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Process.Signal(sig)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				srv.Process.Kill()
				<-exited
			}
			cleanup()
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			out, _ := os.ReadFile(logPath)
			stop()
			return nil, fmt.Errorf("testservers: %s exited at startup:\n%s", name, out)
		default:
		}
		if err := ping(); err == nil {
			return stop, nil
		} else if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			stop()
			return nil, fmt.Errorf("testservers: %s not ready after 30s: %w\n%s", name, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
