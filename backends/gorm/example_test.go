package gorm_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	ssgorm "github.com/gin-securesession/securesession/backends/gorm"
	"github.com/gin-securesession/securesession/backends/gorm/sqlite"
)

// Sessions in a SQLite file, behind the securesession middleware.
func Example() {
	key := []byte(os.Getenv("SESSION_KEY")) // 32 random bytes
	db, err := sqlite.Open("sessions.db")
	if err != nil {
		log.Fatal(err)
	}
	store, err := ssgorm.NewStore(db, ssgorm.Options{Key: key})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close() // stops the expiry sweeper

	mw, err := securesession.New(store, securesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		// ... check the password, then rotate the session to the user:
		if err := securesession.Login(c, "alice"); err != nil {
			c.AbortWithStatus(http.StatusServiceUnavailable)
		}
	})
	log.Fatal(r.Run(":8080"))
}

// Outside any request (after a password reset, from an admin page): list a
// user's sessions and end all of them.
func ExampleStore_RevokeUser() {
	var store *ssgorm.Store // from NewStore
	ctx := context.Background()
	live, err := store.ListUser(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("alice has %d live sessions", len(live))
	// The zero Ref keeps none; pass the current session's Ref to keep it.
	if err := store.RevokeUser(ctx, "alice", securesession.Ref{}); err != nil {
		log.Fatal(err)
	}
}
