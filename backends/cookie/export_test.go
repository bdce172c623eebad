package cookie

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
