// Package memcache is a securesession backend that keeps sessions on one
// or many memcached servers, through github.com/bradfitz/gomemcache.
//
// Both packages are named memcache, so import this one under an alias:
//
//	import (
//		"github.com/bradfitz/gomemcache/memcache"
//		ssmemcache "github.com/gin-securesession/securesession/backends/memcache"
//	)
//
//	client := memcache.New("10.0.0.1:11211", "10.0.0.2:11211")
//	store, err := ssmemcache.NewStore(client, ssmemcache.Options{Key: key})
//
// # What is stored
//
// A session is kept as one item, and a logged-in session relies on a
// second and is listed in a third, both shared by all the sessions of its
// user; all are under Options.Prefix:
//
//   - the session item "<prefix>s<hash><suffix>", where hash is an HMAC
//     of the cookie name and the token, so the raw token never reaches
//     memcached and a listing of the keys (lru_crawler metadump) reveals
//     nothing usable. Its value is the record (times, user, client info,
//     values) with the session's random Handle, sealed with
//     XChaCha20-Poly1305, with the item's key as associated data: a value
//     copied under another key does not open. It expires with the idle
//     timeout (Record.Expires, never later than Record.Deadline); recording
//     activity (Touch) rewrites it by compare-and-swap, with the values it
//     holds, so memcached itself drops an idle session.
//   - for a logged-in session, the user's generation item "<prefix>u<ref>",
//     where ref is a keyed hash of the user ID. It holds a random
//     generation; a session is valid only while the generation it was
//     stamped with is current. RevokeUser replaces it, which ends every
//     session of the user at once without enumerating memcached.
//   - for a logged-in session, the user's index item "<prefix>i<ref><suffix>",
//     sealed like the others, which lists the user's sessions, since
//     memcached cannot enumerate them: for each (at most
//     MaxIndexedSessions) its Handle, the key of its session item (the
//     keyed hash, never the token), its creation, deadline and idle
//     expiry, and its client info. It expires with the latest deadline of
//     its entries. Store implements securesession.Lister (ListUser,
//     RevokeHandle) and securesession.SessionLimiter (LoginLimited, for
//     Options.MaxSessionsPerUser) through it; see "The session index".
//
// The token the client holds is 64 base64url characters: 32 random bytes
// followed by the user's 16-byte reference masked with a pad derived from
// the random part, so Find can compute the generation key from the token
// alone while two tokens of one user share no visible bytes. The Handle is
// 16 random bytes drawn at Create and carried by Rotate, so it names the
// session (a device's login), not one token, and no token can be derived
// from it.
//
// With gomemcache's default ServerList, the session key ends with a short
// suffix chosen so that it hashes to the same server as the user's
// generation key, and so does the index key: a session's items, and all
// of a user's sessions and their index, live on one server, so an authenticated read (Find) is one GetMulti answered by
// one server in one round trip, and a dead server fails only the sessions
// that live on it.
//
// # Round trips
//
// Through the middleware, each kind of request costs (and a test pins):
// a read, one GetMulti; a write or an activity refresh, that and one
// compare-and-swap; a logout, that and one delete; a login of a user whose
// generation item exists, one GetMulti of the generation and index items,
// one add of the session and one compare-and-swap of the index (a user
// with no generation item, or whose item would lapse before the new
// session's deadline, one command more; with no index, an add instead of
// the compare-and-swap); a login over an existing session, the read, the
// login's three and the delete of the old session; "log out everywhere",
// the read and one set of a fresh generation.
//
// The index costs a login its third command and nothing else: reads
// never look at it, and a logout or "log out everywhere" leaves its
// entries behind, to be pruned lazily by a later write of the index or
// listing, which finds their session items gone or stamped with an old
// generation. A limited login (Options.MaxSessionsPerUser) also reads the
// other sessions' items, one GetMulti, and deletes the ones it ends.
// ListUser is two GetMultis (the generation and the index, then the
// session items); RevokeHandle, those, a delete and a compare-and-swap.
//
// # The session index
//
// The index is only a listing and a counter: it never decides whether a
// session is valid, which the session item and the generation item alone
// do. So an evicted or corrupt index never lets a logged-out or revoked
// session back: it reads as empty (ListUser lists nothing) and is
// rebuilt by the next logins, the sessions it forgot being valid but
// neither listed nor counted by the limit until they end. Every entry is
// checked against its session item before it is listed, counted or
// revoked, so a stale entry only costs a few bytes until it is pruned.
// Entries go at their deadline, or once a limited login or a listing
// finds their item gone; beyond MaxIndexedSessions, a login drops the
// dead entries and then the least recently seen sessions from the index
// (they stay valid, unlisted) down to three quarters of it, so that such
// a pruning, which reads every listed item, happens once per sixteen
// logins of a user with that many sessions; with a limit, a login ends
// the sessions beyond it.
//
// Every login adds its session item first and then writes the index by
// compare-and-swap, retrying on a conflict; a limited login counts the
// live sessions the index lists and, if the new one does not fit, ends
// the least recently seen ones (deleting their items before the index
// write) or, refusing, removes its own item. A login that gives up removes
// its own item. Since every session enters the index by a
// compare-and-swap that saw all those before it, concurrent logins never
// leave more live sessions than the limit. A rotation adds the new item
// and updates the entry (which names both items meanwhile) before it
// deletes the old item, its commit point, so RevokeHandle always finds
// the session under one of them: a rotation racing RevokeHandle, or an
// eviction, never outlives it.
//
// # Expiry
//
// Expirations are computed from the record's times on Options.Now; up to
// 30 days they are sent as relative seconds, beyond that as absolute Unix
// times (memcached reads any larger relative value as a date in 1970), so
// the memcached servers' clocks should be in sync with the application's.
// An expiry already in the past is never sent: the item is deleted or not
// written. No item is ever stored without an expiry.
//
// # Who can write to memcached
//
// Keep the servers on a private network, reachable only by the
// application, never by its tenants or users. Anyone who can write to
// them can end sessions (delete items, flush) and can write back items
// copied earlier. The values are sealed, so nothing can be forged or moved
// to another key, but a copied item is genuine. With a copy of the
// victim's cookie as well (memcached holds only a keyed hash of the
// token), such a writer can:
//
//   - after a logout (Delete), write the session item back and use the
//     session again, until the idle expiry sealed in the item (which
//     further activity moves on, up to its absolute deadline);
//   - after RevokeUser (log out everywhere), do the same only by also
//     writing back the user's generation item as it was before. The
//     session item alone stays dead, then and after any later login,
//     which draws a new random generation. Writing the old generation item
//     back revives every session of the user still in memcached that
//     carried it, and ends the newer ones;
//   - roll a session's values back to any earlier state;
//   - write back an earlier index: it cannot revive a session, but it can
//     hide sessions from the listing and from the limit.
//
// Nothing stored in memcached can tell such a rollback from the real
// state. gomemcache speaks the text protocol, for which memcached offers
// no SASL, but it has its own authentication (-Y, memcached 1.5.15 and
// later): log each connection in from the client's DialContext, whose
// first command is then a set of any key with the value "user password";
// TLS (-Z) goes through DialContext too.
// After a suspected compromise, change Options.Key: every session ends.
//
// # Eviction and outages
//
// memcached may evict items under memory pressure. An evicted session item
// logs the session out; an evicted generation item logs out every session
// of that user (the store fails closed). Size memcached so that it does not
// evict, or accept these logouts.
//
// When a server is down, the operations whose keys live on it fail with an
// error, which the middleware reports as a *securesession.BackendError (503
// by default); requests whose keys live on other servers are served, and
// service resumes by itself when the server returns (empty, so its sessions
// are gone). The idle connections gomemcache pooled to a server that
// restarted are dead; a command that meets one goes out again on the next
// connection, so no request fails once the server is back: reads, sets,
// and deletes are sent again, and an add or a compare-and-swap,
// which must not be applied twice, is settled by reading the item back.
//
// gomemcache does not take a context: the client's fields (Timeout,
// MaxIdleConns) bound each call, and a context that is already done stops
// the store before the next network call.
//
// # Lifecycle
//
// The client's connections are gomemcache's. Store.Close closes its idle
// ones (gomemcache's Client.Close, after which the client stays usable);
// call it once the server has stopped serving.
package memcache
