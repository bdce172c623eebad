package securesession_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
)

// Cart is a type the application forgot to gob.Register.
type Cart struct{ Items []string }

// TestFailedSaveNamesTheKeyAndType: a value of an unregistered type turns
// the handler's answer into a 500; the log and the event say which key,
// which type and what to do, and the response body says none of it.
func TestFailedSaveNamesTheKeyAndType(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	var events []securesession.Event
	r := router(t, newCookieStore(t), securesession.Options{
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		OnEvent: func(e securesession.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		},
	})
	r.POST("/cart", func(c *gin.Context) {
		sessions.Default(c).Set("cart", Cart{Items: []string{"book"}})
		c.String(http.StatusOK, "added")
	})
	w := serve(r, "POST", "/cart", nil)
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "added") {
		t.Fatalf("status %d body %q; want 500 without the handler's body", w.Code, w.Body)
	}
	const want = `session value "cart" of type securesession_test.Cart: register it with gob.Register or use a supported type`
	if strings.Contains(w.Body.String(), "Cart") {
		t.Errorf("the response body names the type: %q", w.Body)
	}
	if !strings.Contains(strings.ReplaceAll(logs.String(), `\"`, `"`), want) {
		t.Errorf("the log does not say %q:\n%s", want, logs.String())
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, e := range events {
		if e.Kind == securesession.EventSaveFailed && e.Err != nil && strings.Contains(e.Err.Error(), want) {
			found = true
		}
	}
	if !found {
		t.Errorf("no save_failed event naming the key and type among %v", events)
	}
}

// TestOversizedSessionNamesTheLargestValue: a session too large for its
// cookie says which value to move elsewhere.
func TestOversizedSessionNamesTheLargestValue(t *testing.T) {
	var logs bytes.Buffer
	r := router(t, newCookieStore(t), securesession.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	r.POST("/big", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("theme", "dark")
		s.Set("history", strings.Repeat("page,", 1000))
		c.Status(http.StatusNoContent)
	})
	if w := serve(r, "POST", "/big", nil); w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	if !strings.Contains(logs.String(), `largest value is session value \"history\"`) {
		t.Errorf("the log does not name the largest value:\n%s", logs.String())
	}
}
