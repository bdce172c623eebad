package gorm

// initCompat wires the gin-contrib sessions.Store adapter (pending
// internal/gincompat).
func (s *Store) initCompat() {}
