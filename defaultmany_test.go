package securesession_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// TestDefaultManyPanicsWithAClearError: gin-contrib's DefaultMany cannot
// work under this middleware (it reads a map that only SessionsMany
// stores). Its first use fails with ErrDefaultMany, which says to use
// sessions.Default, instead of a bare type assertion failure.
func TestDefaultManyPanicsWithAClearError(t *testing.T) {
	mw, err := securesession.New(newCookieStore(t), securesession.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	var got any
	r := gin.New()
	r.Use(gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, v any) {
		got = v
		c.AbortWithStatus(http.StatusInternalServerError)
	}), mw)
	r.GET("/many", func(c *gin.Context) { sessions.DefaultMany(c, "cart").Get("x") })
	r.GET("/other", func(c *gin.Context) { panic("unrelated") })

	if w := serve(r, "GET", "/many", nil); w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", w.Code)
	}
	if e, ok := got.(error); !ok || !errors.Is(e, securesession.ErrDefaultMany) {
		t.Fatalf("panic value %v (%T), want ErrDefaultMany", got, got)
	}
	serve(r, "GET", "/other", nil)
	if got != "unrelated" {
		t.Fatalf("another panic became %v; it must pass through unchanged", got)
	}
}
