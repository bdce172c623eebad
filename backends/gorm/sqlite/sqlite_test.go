package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

func pragma(t *testing.T, db *gorm.DB, name string) string {
	t.Helper()
	var v string
	if err := db.Raw("PRAGMA " + name).Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenSetsWALBusyTimeoutAndPool(t *testing.T) {
	// A path with characters a file: URI would otherwise misread.
	path := filepath.Join(t.TempDir(), "odd?name#50%.db")
	db, err := Open(path, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := db.DB()
	defer sqlDB.Close()
	if got := pragma(t, db, "journal_mode"); got != "wal" {
		t.Errorf("journal_mode = %s, want wal", got)
	}
	if got := pragma(t, db, "busy_timeout"); got != "5000" {
		t.Errorf("busy_timeout = %s, want 5000", got)
	}
	if got := pragma(t, db, "synchronous"); got != "1" {
		t.Errorf("synchronous = %s, want 1 (NORMAL)", got)
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != MaxOpenConns {
		t.Errorf("MaxOpenConnections = %d, want %d", got, MaxOpenConns)
	}
	var file string
	if err := db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil {
		t.Fatal(err)
	}
	if file != path {
		t.Errorf("opened %q, want %q", file, path)
	}
}

func TestOpenRejectsNonFilePaths(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if db, err := Open(p); err == nil {
			sqlDB, _ := db.DB()
			sqlDB.Close()
			t.Errorf("Open(%q): no error", p)
		} else if !strings.HasPrefix(err.Error(), "securesession/gorm/sqlite: ") {
			t.Errorf("Open(%q) error %q lacks the package prefix", p, err)
		}
	}
}
