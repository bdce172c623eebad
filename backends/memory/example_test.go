package memory_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/memory"
)

// A single-instance app with sessions in memory.
func Example() {
	store, err := memory.NewStore(memory.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	mw, err := securesession.New(store, securesession.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, "alice"); err != nil {
			c.AbortWithError(http.StatusInternalServerError, err)
			return
		}
		c.Status(http.StatusNoContent)
	})

	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "https://example.com/login", nil)
	r.ServeHTTP(w, req)
	fmt.Println(w.Code, store.Len(), "session stored")
	// Output: 204 1 session stored
}
