package gorm_test

import (
	"log"
	"os"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
)

// Cookie sessions across a fleet: every instance keeps its revocations in
// one PostgreSQL table, so that a cookie copied before logout is refused
// on every instance within two seconds, not only on the one that logged
// it out.
func ExampleNewRevocationStore() {
	db, err := gorm.Open(postgres.Open(os.Getenv("DATABASE_URL")))
	if err != nil {
		log.Fatal(err)
	}
	store, err := ssgorm.NewRevocationStore(db, ssgorm.RevocationStoreOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the expiry sweeper
	rev, err := cookie.NewSharedRevocation(store, cookie.SharedRevocationOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer rev.Close()

	sessions, err := cookie.NewStore(cookie.Options{
		Keys:       [][]byte{[]byte(os.Getenv("SESSION_KEY"))}, // 32 random bytes, the same on every instance
		Revocation: rev,
	})
	if err != nil {
		log.Fatal(err)
	}
	mw, err := securesession.New(sessions, securesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	_ = mw // r.Use(mw) on the gin engine
}
