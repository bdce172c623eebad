package config_test

import (
	"errors"
	"fmt"

	"github.com/gin-securesession/securesession/backends/config"
)

// Parse checks a configuration string without connecting to anything,
// and String gives a form of it that is safe to log.
func ExampleParse() {
	spec, err := config.Parse("postgres://app:s3cret@db.internal:5432/sessions?sslmode=verify-full&sslpassword=hunter2&table=web_sessions")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(spec.Scheme)
	fmt.Println(spec)
	// Output:
	// postgres
	// postgres://app:xxxxx@db.internal:5432/sessions?sslmode=verify-full&sslpassword=xxxxx&table=web_sessions
}

// An error names the parameter at fault but never repeats its value,
// which may be a secret pasted in the wrong place.
func ExampleParse_error() {
	_, err := config.Parse("memcache://cache.internal?prefix=app_&passwd=hunter2")
	var cerr *config.Error
	fmt.Println(errors.As(err, &cerr))
	fmt.Println(err)
	// Output:
	// true
	// securesession/config: memcache: unknown parameter "passwd"; accepted: prefix, timeout, max_idle_conns, max_item_size
}
