package cookie_test

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/cookie"
)

// A cookie store with a revocation list, so that a cookie replayed after
// logout is anonymous. Real applications read their keys with
// sessionkeys.FromEnv; a text key is refused.
func ExampleNewStore() {
	key, _ := hex.DecodeString("9f1c2a7be04d53e8a6c1f0b2d47e9a3c5b8d0e1f2a3b4c5d6e7f8091a2b3c4d5")
	store, err := cookie.NewStore(cookie.Options{
		Keys:       [][]byte{key},
		Revocation: cookie.NewMemoryRevocation(0),
	})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	_, err = cookie.NewStore(cookie.Options{Keys: [][]byte{[]byte("0123456789abcdef0123456789ABCDEF")}})
	fmt.Println(err != nil)

	mw, err := securesession.New(store, securesession.Options{})
	if err != nil {
		panic(err)
	}
	r := gin.New()
	r.Use(mw)
	r.POST("/login", func(c *gin.Context) {
		if err := securesession.Login(c, "alice"); err != nil {
			c.AbortWithError(http.StatusInternalServerError, err)
		}
	})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "https://example.com/login", nil))
	c := w.Result().Cookies()[0]
	fmt.Println(w.Code, c.Name, c.Secure, c.HttpOnly)
	// Output:
	// true
	// 200 __Host-session true true
}
