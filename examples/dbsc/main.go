// Command dbsc is the securesession demo app with device-bound sessions
// (DBSC): after login, a browser with DBSC registers a key that never
// leaves the device, and the session cookie alone stops authenticating
// anyone: a request also needs a bound cookie that lives a few minutes
// and that only the key can renew.
//
//	go run ./examples/dbsc
//
// This file is the whole wiring of the device-bound demo: keys, backend,
// options with DeviceBinding, HTTPS.
// It serves HTTPS on https://localhost:8443 with a self-signed certificate
// it makes at start, and prints the Chromium command line that trusts
// exactly that certificate and turns DBSC on. Log in as demo /
// demo-password: the profile page says whether the session is bound.
//
// Environment:
//
//	ADDR          listen address (default 127.0.0.1:8443)
//	SESSION_KEYS  as in examples/basic; a random key when unset (this demo
//	              only ever serves HTTPS on a certificate of its own)
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gin-securesession/securesession"
	"github.com/gin-securesession/securesession/backends/config/sessionkeys"
	"github.com/gin-securesession/securesession/backends/cookie"
	"github.com/gin-securesession/securesession/dbsc"
	"github.com/gin-securesession/securesession/examples/internal/demoapp"
)

func main() {
	keys, err := sessionkeys.FromEnv("SESSION_KEYS")
	keys, err = demoapp.DevKeys(keys, err, true) // a demo: a random key when unset
	if err != nil {
		demoapp.Fatal("reading the session keys", err)
	}
	store, err := cookie.NewStore(cookie.Options{Keys: keys, Revocation: cookie.NewMemoryRevocation(24 * time.Hour)})
	if err != nil {
		demoapp.Fatal("creating the cookie store", err)
	}

	tlsConfig, pin, err := demoapp.SelfSigned()
	if err != nil {
		demoapp.Fatal("making a certificate", err)
	}
	if os.Getenv(demoapp.AddrEnv) == "" {
		os.Setenv(demoapp.AddrEnv, "127.0.0.1:8443")
	}
	addr := os.Getenv(demoapp.AddrEnv)
	fmt.Printf(`
DBSC needs HTTPS with a certificate the browser trusts, and Chromium with
the feature on (software keys, since Linux has no TPM key provider). Run:

  chromium --user-data-dir=$(mktemp -d) \
    --ignore-certificate-errors-spki-list=%s \
    --enable-features=%s \
    https://%s/

(--ignore-certificate-errors would turn DBSC off.) The pin trusts only
this run's certificate, which is new at every start.

`, pin, demoapp.DBSCFeatures, addr)

	mw, err := securesession.New(store, securesession.Options{
		DeviceBinding: &securesession.DeviceBinding{
			// The zero value is the recommended configuration: the
			// endpoints /dbsc/register and /dbsc/refresh, a __Host-bound
			// cookie of 5 minutes. Shown here: a bound session may live a
			// working day; an unbound one keeps the 12-hour default.
			Cookie:               dbsc.BoundCookie{Lifetime: 5 * time.Minute},
			BoundAbsoluteTimeout: 24 * time.Hour,
		},
	})
	if err != nil {
		demoapp.Fatal("configuring sessions", err)
	}
	r := gin.New()
	if err := r.SetTrustedProxies(nil); err != nil { // no proxy: HTTPS ends here
		demoapp.Fatal("configuring trusted proxies", err)
	}
	r.Use(gin.Logger(), gin.Recovery(), mw)
	demoapp.Register(r, "cookie, device-bound")

	demoapp.Serve(&http.Server{
		Addr:              addr,
		Handler:           r,
		TLSConfig:         tlsConfig,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	})
}
