// Command benchserver serves one contender of the bench package (its
// routes POST /login, GET /read, POST /write, POST /logout, each answering
// 204) over HTTP on $ADDR, for cmd/loadtest.
//
//	ADDR=127.0.0.1:8082 MEMCACHE_ADDR=127.0.0.1:11211 benchserver -contender ours-cookie
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-securesession/securesession/bench"
)

func main() {
	name := flag.String("contender", "bare-gin", "contender name (see bench.Contenders)")
	flag.Parse()
	c, ok := bench.ContenderByName(*name)
	if !ok {
		log.Fatalf("unknown contender %q", *name)
	}
	env, cleanup, err := bench.TempEnv()
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()
	env.MemcacheAddr = os.Getenv("MEMCACHE_ADDR")
	a, err := c.New(env)
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: a.Router, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		log.Print(err)
	}
}
