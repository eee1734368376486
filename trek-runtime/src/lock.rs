//! trek's session advisory lock, held for a whole run.
//!
//! Waiting polls `pg_try_advisory_lock` with backoff instead of blocking in `pg_advisory_lock`:
//! a backend blocked on the lock holds a snapshot, and a `CREATE INDEX CONCURRENTLY` in the
//! holder would wait for that snapshot forever. The lock is released on every path: callers
//! release it explicitly (after rolling back any failed transaction), and [`LockGuard`]'s `Drop`
//! does the same as a backstop, so a failed run on a pooled connection never leaves it behind.
//!
//! The same query sets `client_connection_check_interval` to one second (PostgreSQL 14 and
//! newer) for the session, so when trek dies in the middle of a statement (killed, its host
//! gone), the server notices within a second, rolls the transaction back and frees the lock,
//! instead of running the statement to its end first.
//!
//! Session advisory locks belong to a server session. Behind a transaction-pooling proxy
//! (PgBouncer `pool_mode=transaction`) consecutive statements may run in different sessions, so
//! the lock does not serialise anything; trek notices when the backend that unlocks is not the
//! one that locked and reports [`crate::Warning::LockLost`].

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::thread;
use std::time::{Duration, Instant};

use postgres::types::Type;
use postgres::Client;

use crate::error::{Error, Result};

/// The default advisory lock key for a trek schema: FNV-1a (64-bit) of `trek:` followed by the
/// schema name. Advisory locks are per database, so the key covers the database and the
/// schema: two applications with separate trek schemas in one database do not block each other.
pub fn default_lock_key(schema: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"trek:".iter().chain(schema.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Who holds the advisory lock, as `pg_stat_activity` tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockHolder {
    /// Backend process id.
    pub pid: i32,
    /// The holder's `application_name`.
    pub application_name: String,
    /// The client address, when connected over TCP.
    pub client_addr: Option<String>,
    /// When the holder's session started (UTC, RFC 3339).
    pub since: String,
    /// The holder's current or last query, shortened.
    pub query: String,
    /// Whether the lock is stranded: the holding session is idle and its last statement was
    /// trek's own lock query, so no run is going on. A transaction-pooling proxy (PgBouncer in
    /// `pool_mode=transaction`) leaves the lock so in a pooled server session.
    pub stranded: bool,
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "held by backend pid {}", self.pid)?;
        if !self.application_name.is_empty() {
            write!(f, " ({})", self.application_name)?;
        }
        if let Some(addr) = &self.client_addr {
            write!(f, " from {addr}")?;
        }
        write!(f, ", connected since {}", self.since)?;
        if self.stranded {
            return write!(
                f,
                "; that session is idle and its last statement was trek's own lock, so no run is \
                 going on: the lock is stranded (a transaction-pooling proxy such as PgBouncer in \
                 pool_mode=transaction, or a client that went away, left the session holding it). \
                 Clear it with SELECT pg_terminate_backend({}), and migrate through a direct or \
                 session-pooled connection",
                self.pid
            );
        }
        if !self.query.is_empty() {
            write!(f, ", running: {}", self.query)?;
        }
        Ok(())
    }
}

/// Facts about the session, read in the same round trip as the lock.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub pid: i32,
    pub database: String,
}

/// What releasing the lock found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Release {
    pub locked_by_pid: i32,
    pub unlocked_by_pid: i32,
    /// Whether the lock was still held by the releasing session.
    pub held: bool,
    /// Whether the lock is still held after every attempt: by a pooled server session trek's
    /// unlock never reached.
    pub still_held: bool,
}

/// Holds the advisory lock; derefs to the client. Release with [`LockGuard::release`];
/// dropping it rolls back any open transaction and releases the lock as a backstop.
pub(crate) struct LockGuard<'c> {
    client: &'c mut Client,
    key: i64,
    pub session: Session,
    released: bool,
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").field("key", &self.key).finish()
    }
}

/// The oldest `server_version_num` trek supports: PostgreSQL 13.
pub(crate) const MIN_SERVER_VERSION_NUM: i32 = 130_000;

/// Whether trek supports a server of `server_version_num`.
pub(crate) fn supported(server_version_num: i32) -> bool {
    server_version_num >= MIN_SERVER_VERSION_NUM
}

impl<'c> LockGuard<'c> {
    /// Takes the lock, polling with backoff for at most `timeout`. Returns the guard and the
    /// time spent waiting.
    pub fn acquire(
        client: &'c mut Client,
        key: i64,
        timeout: Duration,
    ) -> Result<(Self, Duration)> {
        let started = Instant::now();
        let mut delay = Duration::from_millis(5);
        let mut announced = false;
        loop {
            let row = client
                .query_typed(
                    "SELECT pg_try_advisory_lock($1), pg_backend_pid(), current_database()::text, \
                     CASE WHEN current_setting('server_version_num')::int >= 140000 \
                          THEN set_config('client_connection_check_interval', '1000', false) END, \
                     current_setting('server_version_num')::int, current_setting('server_version')",
                    &[(&key, Type::INT8)],
                )
                .map_err(|e| Error::db("could not take trek's advisory lock", e))?;
            let row = row.into_iter().next();
            if let Some(row) = row {
                let locked: bool = row.get(0);
                let version_num: i32 = row.get(4);
                if !supported(version_num) {
                    if locked {
                        let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&key]);
                    }
                    return Err(Error::UnsupportedServer {
                        version: row.get(5),
                    });
                }
                if locked {
                    let waited = started.elapsed();
                    metrics::histogram!("trek_lock_wait_seconds").record(waited.as_secs_f64());
                    let session = Session {
                        pid: row.get(1),
                        database: row.get(2),
                    };
                    tracing::debug!(key, pid = session.pid, ?waited, "took trek's advisory lock");
                    return Ok((
                        LockGuard {
                            client,
                            key,
                            session,
                            released: false,
                        },
                        waited,
                    ));
                }
            }
            let waited = started.elapsed();
            if waited >= timeout {
                let holder = holder(client, key).unwrap_or(None).map(Box::new);
                return Err(Error::LockTimeout {
                    key,
                    waited,
                    holder,
                });
            }
            if !announced {
                announced = true;
                let holder = holder(client, key).unwrap_or(None);
                tracing::info!(
                    key,
                    holder = holder.as_ref().map(ToString::to_string),
                    "waiting for trek's advisory lock: another run holds it"
                );
            }
            thread::sleep(delay.min(timeout.saturating_sub(waited)));
            delay = (delay * 2).min(Duration::from_millis(500));
        }
    }

    /// Releases the lock, saying which backends took and released it so the caller can tell
    /// whether the session changed under it (a transaction-pooling proxy). When the unlock
    /// lands in another server session than the lock, it is tried again, each time in a
    /// transaction of its own, up to [`UNLOCK_ATTEMPTS`] times, until it reaches the session that
    /// holds the lock: a pooler hands its sessions out in turn, so the lock is usually freed
    /// instead of staying stranded.
    pub fn release(mut self) -> Result<Release> {
        self.released = true;
        let mut release = Release {
            locked_by_pid: self.session.pid,
            unlocked_by_pid: self.session.pid,
            held: true,
            still_held: false,
        };
        for attempt in 1..=UNLOCK_ATTEMPTS {
            let row = self
                .client
                .query_typed(
                    "SELECT pg_advisory_unlock($1), pg_backend_pid()",
                    &[(&self.key, Type::INT8)],
                )
                .map_err(|e| Error::db("could not release trek's advisory lock", e))?;
            let Some(row) = row.into_iter().next() else {
                return Ok(release);
            };
            let (unlocked, pid): (bool, i32) = (row.get(0), row.get(1));
            if attempt == 1 {
                release.unlocked_by_pid = pid;
                release.held = unlocked;
            }
            if unlocked || pid == self.session.pid {
                return Ok(release);
            }
        }
        release.still_held = true;
        Ok(release)
    }
}

/// How many times [`LockGuard::release`] tries to reach the server session that holds the
/// lock when a transaction-pooling proxy moved trek to another one.
pub(crate) const UNLOCK_ATTEMPTS: usize = 8;

impl Deref for LockGuard<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
    }
}

impl DerefMut for LockGuard<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        if self.released || self.client.is_closed() {
            return;
        }
        // Roll back first (a failed statement leaves the session in an aborted transaction,
        // where even the unlock would fail), then unlock. Errors are ignored: this is the
        // backstop, and a closed session releases its locks anyway.
        let _ = self.client.batch_execute("ROLLBACK");
        let _ = self
            .client
            .query_typed("SELECT pg_advisory_unlock($1)", &[(&self.key, Type::INT8)]);
    }
}

/// Who holds advisory lock `key` in the current database, if anyone.
fn holder(client: &mut Client, key: i64) -> Result<Option<LockHolder>> {
    let hi = key >> 32;
    let lo = key & 0xffff_ffff;
    let rows = client
        .query_typed(
            "SELECT a.pid, coalesce(a.application_name, ''), a.client_addr::text, \
                    to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), \
                    left(coalesce(a.query, ''), 120), \
                    a.state = 'idle' AND a.query LIKE 'SELECT pg\\_try\\_advisory\\_lock($1), pg\\_backend\\_pid()%' \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
               AND l.classid::bigint = $1 AND l.objid::bigint = $2 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[(&hi, Type::INT8), (&lo, Type::INT8)],
        )
        .map_err(|e| Error::db("could not read who holds trek's advisory lock", e))?;
    Ok(rows.into_iter().next().map(|r| LockHolder {
        pid: r.get(0),
        application_name: r.get(1),
        client_addr: r.get(2),
        since: r.get::<_, Option<String>>(3).unwrap_or_default(),
        query: r.get(4),
        stranded: r.get::<_, Option<bool>>(5).unwrap_or(false),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_key_is_stable_and_differs_per_schema() {
        assert_eq!(default_lock_key("trek"), default_lock_key("trek"));
        assert_ne!(default_lock_key("trek"), default_lock_key("billing_trek"));
        // Pinned: changing it would let an old and a new trek run at once.
        assert_eq!(default_lock_key("trek"), 1_696_352_918_431_010_113);
    }

    #[test]
    fn servers_from_13_on_are_supported() {
        assert!(!supported(120_022));
        assert!(!supported(90_624));
        assert!(supported(130_000));
        assert!(supported(180_004));
        let refused = Error::UnsupportedServer {
            version: "12.22".to_owned(),
        };
        assert_eq!(
            refused.to_string(),
            "the server runs PostgreSQL 12.22, which trek does not support: trek needs \
             PostgreSQL 13 or later (13 to 18 are tested); upgrade the server"
        );
        assert_eq!(refused.kind().as_str(), "unsupported_server");
    }
}
