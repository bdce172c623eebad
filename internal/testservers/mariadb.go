package testservers

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	_ "github.com/go-sql-driver/mysql" // database/sql driver "mysql", to create per-test databases
)

// ErrMariaDBNotInstalled is returned by StartMariaDB when mariadbd or
// mariadb-install-db is not found (Debian package mariadb-server).
var ErrMariaDBNotInstalled = errors.New("testservers: MariaDB is not installed (apt-get install mariadb-server; looked for $MARIADBD, /usr/sbin/mariadbd and mariadbd on $PATH, and mariadb-install-db)")

// MariaDBBinaries returns the paths of mariadbd and mariadb-install-db:
// mariadbd from $MARIADBD, /usr/sbin/mariadbd or $PATH, mariadb-install-db
// from beside it or $PATH. It returns ErrMariaDBNotInstalled if either is
// missing.
func MariaDBBinaries() (server, installDB string, err error) {
	for _, p := range []string{os.Getenv("MARIADBD"), "/usr/sbin/mariadbd"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			server = p
			break
		}
	}
	if server == "" {
		if server, err = exec.LookPath("mariadbd"); err != nil {
			return "", "", ErrMariaDBNotInstalled
		}
	}
	for _, p := range []string{filepath.Join(filepath.Dir(server), "mariadb-install-db"), "/usr/bin/mariadb-install-db"} {
		if _, err := os.Stat(p); err == nil {
			return server, p, nil
		}
	}
	if installDB, err = exec.LookPath("mariadb-install-db"); err != nil {
		return "", "", ErrMariaDBNotInstalled
	}
	return server, installDB, nil
}

// mariadbFlags are the server settings of the throwaway server, given both
// to mariadb-install-db (which passes them on to its bootstrap server) and
// to mariadbd. The character set and collation are those Debian's
// packaged configuration sets (utf8mb4, case-insensitive and PAD SPACE),
// so that tests see the comparisons a default production server makes.
// Durability is off: the data is thrown away.
var mariadbFlags = []string{
	"--no-defaults", // first: ignore /etc/mysql and ~/.my.cnf
	"--skip-name-resolve",
	"--character-set-server=utf8mb4",
	"--collation-server=utf8mb4_general_ci",
	"--innodb-buffer-pool-size=32M",
	"--innodb-log-file-size=8M",
	"--innodb-flush-log-at-trx-commit=0",
	"--innodb-doublewrite=0",
	"--skip-log-bin",
	"--max-connections=300",
}

// StartMariaDB starts a throwaway MariaDB server: a fresh data directory
// made by mariadb-install-db in a temporary directory, listening on
// 127.0.0.1 on a free port and on a unix socket in that directory, with
// durability off. It returns a DSN (go-sql-driver/mysql format) for root
// with no password, on database "mysql", and stop, which shuts the server
// down and removes the directory; stop is idempotent. When the test
// process runs as root, the server runs as root too (--user=root), since
// mariadbd refuses root otherwise.
func StartMariaDB() (dsn string, stop func(), err error) {
	addr, stop, err := startMariaDB()
	if err != nil {
		return "", nil, err
	}
	return mariaDSN(addr, "mysql"), stop, nil
}

// mariaDSN is the DSN for root on database db of the server at addr.
func mariaDSN(addr, db string) string {
	return "root@tcp(" + addr + ")/" + db + "?timeout=5s"
}

func startMariaDB() (addr string, stop func(), err error) {
	server, installDB, err := MariaDBBinaries()
	if err != nil {
		return "", nil, err
	}
	base, err := os.MkdirTemp("", "securesession-mariadb-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(base) }
	dataDir := filepath.Join(base, "data")
	sock := filepath.Join(base, "mariadb.sock")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		cleanup()
		return "", nil, err
	}
	flags := append([]string(nil), mariadbFlags...)
	if os.Geteuid() == 0 {
		flags = append(flags, "--user=root")
	}
	command := func(bin string, args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir = base
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		// If the test binary dies without calling stop, take the server
		// down with it.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		return cmd
	}

	install := command(installDB, append(append([]string(nil), flags...),
		"--datadir="+dataDir, "--auth-root-authentication-method=normal", "--skip-test-db")...)
	if out, err := install.CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("testservers: mariadb-install-db: %w\n%s", err, out)
	}

	port, err := freePort()
	if err != nil {
		cleanup()
		return "", nil, err
	}
	logPath := filepath.Join(base, "mariadb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	srv := command(server, append(flags, "--datadir="+dataDir, "--socket="+sock,
		"--bind-address=127.0.0.1", "--port="+strconv.Itoa(port), "--pid-file="+filepath.Join(base, "mariadb.pid"))...)
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		logFile.Close()
		cleanup()
		return "", nil, fmt.Errorf("testservers: starting mariadbd: %w", err)
	}
	addr = "127.0.0.1:" + strconv.Itoa(port)
	dsn := mariaDSN(addr, "mysql")
	stop, err = supervise("mariadbd", srv, logFile, logPath, syscall.SIGTERM, cleanup, func() error { return pingMariaDB(dsn) })
	if err != nil {
		return "", nil, err
	}
	return addr, stop, nil
}

func pingMariaDB(dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

var sharedMariaDB struct {
	once  sync.Once
	addr  string // "127.0.0.1:port"
	stop  func()
	err   error
	admin *sql.DB
	n     atomic.Int64
	mu    sync.Mutex
}

// MariaDB returns the DSN (go-sql-driver/mysql format) of a new, empty
// database on a MariaDB server shared by the whole test binary, started on
// first use. The DSN sets clientFoundRows=true, as the gorm backend's
// documentation asks. Call StopMariaDB from TestMain after m.Run to shut
// the server down (a server left running dies with the test process
// anyway). If MariaDB is not installed, MariaDB fails the test when $CI is
// "true" and otherwise skips it, saying why. Safe for concurrent use.
func MariaDB(tb testing.TB) string {
	tb.Helper()
	s := &sharedMariaDB
	s.once.Do(func() {
		s.addr, s.stop, s.err = startMariaDB()
		if s.err == nil {
			s.admin, s.err = sql.Open("mysql", mariaDSN(s.addr, "mysql"))
		}
	})
	if s.err != nil {
		if errors.Is(s.err, ErrMariaDBNotInstalled) && os.Getenv("CI") != "true" {
			tb.Skipf("SKIPPING MariaDB TEST: %v", s.err)
		}
		tb.Fatalf("MariaDB test server: %v", s.err)
	}
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), s.n.Add(1))
	if _, err := s.admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("MariaDB test server: CREATE DATABASE: %v", err)
	}
	return mariaDSN(s.addr, name) + "&clientFoundRows=true"
}

// StopMariaDB shuts down the server MariaDB started, if any. Call it from
// TestMain after m.Run.
func StopMariaDB() {
	s := &sharedMariaDB
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.admin != nil {
		s.admin.Close()
	}
	if s.stop != nil {
		s.stop()
	}
}
