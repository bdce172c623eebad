// Command bareserver is the floor of the load test: the demo app's
// GET /profile page (same Gin middleware, same templates, same headers)
// served with no session layer, the user fixed to "demo".
//
//	ADDR=127.0.0.1:8081 bareserver -templates ../examples/internal/demoapp/templates
package main

import (
	"flag"
	"html/template"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
)

// page mirrors the data the demo app passes to every template.
type page struct {
	Backend string
	User    string
	Flashes []string
	Notice  string
	Data    any
}

func main() {
	dir := flag.String("templates", "../examples/internal/demoapp/templates", "the demo app's templates directory")
	backend := flag.String("backend", "cookie", "backend name shown on the page")
	flag.Parse()
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8081"
	}
	tmpl := template.Must(template.New("").Funcs(template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "-"
			}
			return t.Local().Format("2006-01-02 15:04:05 MST")
		},
	}).ParseGlob(filepath.Join(*dir, "*.html")))

	r := gin.New()
	r.Use(gin.Logger(), gin.Recovery())
	if err := r.SetTrustedProxies(nil); err != nil {
		log.Fatal(err)
	}
	r.SetHTMLTemplate(tmpl)
	r.Use(func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		c.Next()
	})
	authTime := time.Now()
	r.GET("/profile", func(c *gin.Context) {
		c.HTML(http.StatusOK, "profile.html", page{Backend: *backend, User: "demo", Notice: "", Data: struct{ AuthTime time.Time }{authTime}})
	})
	srv := &http.Server{Addr: addr, Handler: r, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.ListenAndServe())
}
