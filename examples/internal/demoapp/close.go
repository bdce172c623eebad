package demoapp

import "errors"

// CloseAll returns a Config.Close that calls each of closers in order (for
// the GORM backend: stop the store's sweeper, then close the database).
func CloseAll(closers ...func() error) func() error {
	return func() error {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
}
