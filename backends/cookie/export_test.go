package cookie

import "context"

// Test hooks for the external tests of SharedRevocation.

// SharedWriteLocks returns how many times r has write-locked a shard.
func SharedWriteLocks(r *SharedRevocation) uint64 { return r.wlocks.Load() }

// SharedKey returns the key r stores for a session handle (kind 's') or
// a user ID (kind 'u'), once r has the store's salt.
func SharedKey(r *SharedRevocation, kind byte, v string) string {
	d := digestKey(kind, v, *r.salt.Load())
	return storeKey(kind, &d)
}

// SharedIndexed returns how many digests r's index maps back to a handle
// or user ID: one per key held or pending.
func SharedIndexed(r *SharedRevocation) int {
	n := 0
	for i := range r.index {
		ix := &r.index[i]
		ix.mu.RLock()
		n += len(ix.sessions) + len(ix.users)
		ix.mu.RUnlock()
	}
	return n
}

// SharedLookUpSession looks handle up as a request does once it has
// found the state fresh, without checking the state's age: a request
// already past that check when a sync began.
func SharedLookUpSession(r *SharedRevocation, handle string) error {
	_, err := r.lookup(context.Background(), []local{{'s', handle}})
	return err
}
