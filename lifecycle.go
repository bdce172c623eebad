package securesession

import "time"

// The timeout arithmetic, shared by the middleware and the gin-contrib
// adapter so that both decide alike: one place says when a session ends.

// expiry returns the event kind that ends rec at now, or 0 if rec is live.
func (cfg *config) expiry(rec *Record, now time.Time) EventKind {
	switch {
	case !now.Before(rec.Deadline):
		return EventExpiredAbsolute
	case !now.Before(rec.LastSeen.Add(cfg.idleOf(rec))):
		return EventExpiredIdle
	}
	return 0
}

// newRecord returns the record of a session that starts at now, for
// userID ("" for an anonymous session).
func (cfg *config) newRecord(userID string, now time.Time) Record {
	rec := Record{Created: now, Deadline: now.Add(cfg.absolute)}
	if userID != "" {
		rec.UserID, rec.AuthTime = userID, now
	}
	cfg.seen(&rec, now)
	return rec
}

// seen records activity at now: LastSeen moves, and Expires becomes the
// earlier of the idle timeout and the absolute deadline.
func (cfg *config) seen(rec *Record, now time.Time) {
	rec.LastSeen = now
	rec.Expires = now.Add(cfg.idleOf(rec))
	if rec.Deadline.Before(rec.Expires) {
		rec.Expires = rec.Deadline
	}
}

// touchDue reports whether recorded activity is old enough to refresh.
func (cfg *config) touchDue(rec *Record, now time.Time) bool {
	return now.Sub(rec.LastSeen) >= cfg.touch
}

// cookieMaxAge returns the Max-Age in seconds for a cookie that should
// live for life but not past rec's deadline: 0 (a browser-session cookie)
// when life is 0, else at least 1.
func cookieMaxAge(life time.Duration, rec *Record, now time.Time) int {
	if life <= 0 {
		return 0
	}
	if rem := rec.Deadline.Sub(now); rem < life {
		life = rem
	}
	return max(int((life+time.Second/2)/time.Second), 1) // nearest second; the server enforces the exact deadline
}

// idleOf returns rec's idle timeout: DeviceBinding.BoundIdleTimeout once
// its device has registered a key, Options.IdleTimeout otherwise.
func (cfg *config) idleOf(rec *Record) time.Duration {
	if cfg.bind != nil && cfg.bind.idle != cfg.idle && len(rec.Binding) > 0 && bindingRegistered(rec.Binding) {
		return cfg.bind.idle
	}
	return cfg.idle
}
