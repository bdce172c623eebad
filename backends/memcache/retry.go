package memcache

import (
	"bytes"
	"errors"
	"io"
	"syscall"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
)

// Broken pooled connections.
//
// gomemcache keeps idle connections per server and hands them out last in,
// first out, without checking them. When a server restarts, every idle
// connection to the old process is dead: the next command sent on one
// fails at once, with io.EOF or a reset (ECONNRESET, EPIPE), and gomemcache
// closes that connection and returns the error. Without help each of those
// connections would fail one request after the server is back, although
// the server is healthy.
//
// So a command that fails with such a broken-connection error is sent
// again, on the next connection gomemcache gives out, when doing so is
// safe; each failure has discarded one dead connection, and there are at
// most MaxIdleConns of them per server, so within MaxIdleConns+1 attempts
// the command goes out on a freshly dialled connection. A server that is
// still down refuses that dial (ECONNREFUSED), which is not retried: the
// outage error is returned at once. Timeouts are never retried either:
// they are what a partitioned server looks like, and a retry would only
// double the wait.
//
// Whether sending a command again is safe depends on the command, since a
// connection that breaks after the command went out leaves the outcome
// unknown: the server may have applied it and died (or closed the
// connection) before answering.
//
//   - get and gets only read: always safe.
//   - a set of a value computed before the first attempt is idempotent:
//     applying it twice leaves what applying it once does. The
//     only set the store sends is RevokeUser's fresh generation item,
//     which revokes: sent twice, it leaves the same generation.
//   - delete is idempotent: the item is gone either way. A repeated delete
//     may answer "not found" because its first attempt did delete; where
//     the store reads "not found" as "someone else ended the session"
//     (a rotation's delete of the old session), it then stops and creates
//     nothing, which is the safe
//     reading.
//   - add and cas are never sent again blindly: if the first attempt was
//     applied, a second add answers NOT_STORED and a second cas EXISTS, and
//     the store would take its own write for someone else's. Instead the
//     store reads the item back (add and cas below) and decides from what
//     it finds: its own value (every value is sealed under a fresh random
//     nonce, so equal bytes are this write and no other) means applied;
//     for a cas, an unchanged CAS ID means not applied, so the cas can go
//     out again, still conditional on that CAS ID; anything else is
//     reported as the conflict or miss the command would have answered.

// broken reports whether err says that the connection a command went out
// on was dead (closed or reset by the other end), as opposed to a memcached
// answer, a timeout or a refused dial.
func broken(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// attempts is how many times a command may meet a broken connection
// before the store gives up: one more than the idle connections gomemcache
// keeps per server, so that the last attempt dials afresh.
func (s *Store) attempts() int {
	n := s.client.MaxIdleConns
	if n < 1 {
		n = gomemcache.DefaultMaxIdleConns
	}
	return n + 1
}

// resend runs call, a command that is safe to send again (see above),
// until it does not fail with a broken connection, at most s.attempts()
// times.
func (s *Store) resend(call func() error) error {
	err := call()
	for i := 1; i < s.attempts() && broken(err); i++ {
		err = call()
	}
	return err
}

func (s *Store) get(key string) (it *gomemcache.Item, err error) {
	err = s.resend(func() error {
		it, err = s.client.Get(key)
		return err
	})
	return it, err
}

func (s *Store) getMulti(keys []string) (items map[string]*gomemcache.Item, err error) {
	err = s.resend(func() error {
		items, err = s.client.GetMulti(keys)
		return err
	})
	return items, err
}

func (s *Store) set(it *gomemcache.Item) error {
	return s.resend(func() error { return s.client.Set(it) })
}

func (s *Store) delete(key string) error {
	return s.resend(func() error { return s.client.Delete(key) })
}

// add is gomemcache's Add, with the outcome of an attempt that met a
// broken connection settled by reading the item back: this value there
// means it was stored; nothing there means it was not, and it is sent
// again; another value means another writer's add won (ErrNotStored).
func (s *Store) add(it *gomemcache.Item) error {
	err := s.client.Add(it)
	for i := 1; i < s.attempts() && broken(err); i++ {
		var cur *gomemcache.Item
		switch cur, err = s.client.Get(it.Key); {
		case broken(err):
			continue // read it again
		case errors.Is(err, gomemcache.ErrCacheMiss):
			err = s.client.Add(it)
		case err != nil:
			return err
		case bytes.Equal(cur.Value, it.Value):
			return nil
		default:
			return gomemcache.ErrNotStored
		}
	}
	return err
}

// cas is gomemcache's CompareAndSwap, with the outcome of an attempt that
// met a broken connection settled by reading the item back: this value
// there means it was stored; the same CAS ID means it was not, and it is
// sent again under that CAS ID; another CAS ID means another writer came
// first (ErrCASConflict); nothing there means the item is gone
// (ErrCacheMiss, as a cas of a missing item answers).
func (s *Store) cas(it *gomemcache.Item) error {
	err := s.client.CompareAndSwap(it)
	for i := 1; i < s.attempts() && broken(err); i++ {
		var cur *gomemcache.Item
		switch cur, err = s.client.Get(it.Key); {
		case broken(err):
			continue // read it again
		case err != nil:
			return err // ErrCacheMiss included
		case bytes.Equal(cur.Value, it.Value):
			return nil
		case cur.CasID != it.CasID:
			return gomemcache.ErrCASConflict
		default:
			err = s.client.CompareAndSwap(it)
		}
	}
	return err
}
