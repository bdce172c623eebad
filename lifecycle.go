package securesession

import "time"

// The timeout arithmetic, shared by the middleware and the gin-contrib
// adapter so that both decide alike: one place says when a session ends.
//
// # Lifetime classes
//
// A session is remembered (a Login given RememberMe), device-bound (its
// browser registered a DBSC key, see DeviceBinding), or normal, and each
// class has its own idle and absolute timeouts (timeouts). Remembered
// comes first: a remembered session whose device binds keeps the
// remembered timeouts.
//
// Being remembered needs no field of its own, so that no backend stores
// anything new: it is written in the record's times, which every backend
// keeps exactly and which are trusted (the record lives on the server, or
// sealed in the cookie). Deadline - Created is the absolute lifetime the
// session was given: RememberAbsoluteTimeout for a remembered session,
// AbsoluteTimeout (or DeviceBinding.BoundAbsoluteTimeout once bound) for
// the others. Nothing after the login moves Created, and only a DBSC
// registration of a session that is not remembered moves Deadline
// (Rotate, Update, Touch and the cookie backend's re-seals keep both), so
// the class survives every write.
//
// remembered compares that lifetime with rememberSplit, the geometric
// mean of the longest other absolute timeout and RememberAbsoluteTimeout
// (about 3.9 days with the defaults): halfway between the two on a
// logarithmic scale, so that a later change of either, or both, each by
// less than a factor of sqrt(RememberAbsoluteTimeout/AbsoluteTimeout) (7.7
// with the defaults), leaves the class of every existing session alone.
// New requires RememberAbsoluteTimeout to be the longest absolute timeout
// so that the split exists.
//
// # Enforcement
//
// The stored times are enforced, bounded by the current configuration of
// the session's class (limits):
//
//	deadline = min(Deadline, Created + the class's absolute timeout)
//	idle end = min(Expires, LastSeen + the class's idle timeout)
//
// so a configuration that shortens a timeout applies at once to existing
// sessions (one that lengthens the idle timeout applies from their next
// recorded activity), and no record lives longer than the current
// configuration allows, whatever its stored times say. Activity (seen)
// sets Expires from the class's idle timeout, which is how a session that
// becomes bound gets the bound idle timeout. Only a drastic change of the
// absolute timeouts (beyond the factor above) can put an existing session
// in the other class; even then it never outlives its stored Deadline.

// remembered reports whether rec is a remembered session (see above).
func (cfg *config) remembered(rec *Record) bool {
	return rec.Deadline.Sub(rec.Created) > cfg.rememberSplit
}

// timeouts returns the configured idle and absolute timeouts of rec's
// class.
func (cfg *config) timeouts(rec *Record) (idle, absolute time.Duration) {
	switch {
	case cfg.remembered(rec):
		return cfg.rememberIdle, cfg.rememberAbs
	case cfg.bind != nil && len(rec.Binding) > 0 && (cfg.bind.idle != cfg.idle || cfg.bind.absolute != cfg.absolute) && bindingRegistered(rec.Binding):
		return cfg.bind.idle, cfg.bind.absolute
	}
	return cfg.idle, cfg.absolute
}

// limits returns when rec's idle timeout and absolute timeout end: its
// stored Expires and Deadline, bounded by the current configuration of
// its class. A record with a zero Created or Deadline ends in the past: it
// is refused, never kept alive.
func (cfg *config) limits(rec *Record) (idleEnd, deadline time.Time) {
	idle, abs := cfg.timeouts(rec)
	deadline = rec.Created.Add(abs)
	if rec.Deadline.Before(deadline) {
		deadline = rec.Deadline
	}
	idleEnd = rec.LastSeen.Add(idle)
	if !rec.Expires.IsZero() && rec.Expires.Before(idleEnd) {
		idleEnd = rec.Expires
	}
	return idleEnd, deadline
}

// expiry returns the event kind that ends rec at now, or 0 if rec is live.
func (cfg *config) expiry(rec *Record, now time.Time) EventKind {
	idleEnd, deadline := cfg.limits(rec)
	switch {
	case !now.Before(deadline):
		return EventExpiredAbsolute
	case !now.Before(idleEnd):
		return EventExpiredIdle
	}
	return 0
}

// newRecord returns the record of a normal session that starts at now,
// for userID ("" for an anonymous session).
func (cfg *config) newRecord(userID string, now time.Time) Record {
	return cfg.newSession(userID, now, false)
}

// newSession returns the record of a session that starts at now, for
// userID ("" for an anonymous session): a remembered one if remember, so
// that its Deadline is now + RememberAbsoluteTimeout.
func (cfg *config) newSession(userID string, now time.Time, remember bool) Record {
	abs := cfg.absolute
	if remember {
		abs = cfg.rememberAbs
	}
	rec := Record{Created: now, Deadline: now.Add(abs)}
	if userID != "" {
		rec.UserID, rec.AuthTime = userID, now
	}
	cfg.seen(&rec, now)
	return rec
}

// seen records activity at now: LastSeen moves, and Expires becomes the
// earlier of now plus the idle timeout of rec's class and the stored
// Deadline. Deadline never moves here (Touch must not change it); expiry
// enforces a shorter configured deadline.
func (cfg *config) seen(rec *Record, now time.Time) {
	idle, _ := cfg.timeouts(rec)
	rec.LastSeen = now
	rec.Expires = now.Add(idle)
	if rec.Deadline.Before(rec.Expires) {
		rec.Expires = rec.Deadline
	}
}

// touchDue reports whether recorded activity is old enough to refresh.
func (cfg *config) touchDue(rec *Record, now time.Time) bool {
	return now.Sub(rec.LastSeen) >= cfg.touch
}

// cookieMaxAge returns the Max-Age in seconds for a cookie that should
// live for life but not past rec's deadline (see limits): 0 (a
// browser-session cookie) when life is 0, else at least 1.
func (cfg *config) cookieMaxAge(life time.Duration, rec *Record, now time.Time) int {
	if life <= 0 {
		return 0
	}
	_, deadline := cfg.limits(rec)
	if rem := deadline.Sub(now); rem < life {
		life = rem
	}
	return max(int((life+time.Second/2)/time.Second), 1) // nearest second; the server enforces the exact deadline
}
