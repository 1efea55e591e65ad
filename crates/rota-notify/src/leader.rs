//! One replica does the background work: a lease in the store, renewed by a heartbeat.
//!
//! Several `rota serve` replicas share one store. Each would plan the same reminders; the ledger's
//! per-message claims already make every message go out once, but only one replica should do the
//! work, and when it dies another must take over quickly and finish what it left half-sent.
//!
//! - **The lease.** [`Leader::spawn`] starts a heartbeat thread that takes or renews the lease
//!   [`LEASE`] every [`HEARTBEAT`] for [`TTL`]. Whoever holds it does the background work
//!   ([`Leader::holding`]); the others wait. Renewal runs on its own thread, so a long sending run
//!   never lets the lease lapse while its holder is alive.
//! - **Failover.** When the holder dies (`kill -9`, a lost machine), its lease lapses after at most
//!   [`TTL`]; the next heartbeat of another replica takes it, at most [`HEARTBEAT`] later. That
//!   replica learns whom it took the lease from and treats that owner as dead: a message the
//!   dead one left in `sending` is taken over at once instead of after the ledger's claim lease, so
//!   at most that one message is sent twice (as with a process dying mid-send on one machine).
//! - **Clean shutdown** releases the lease ([`Leader::release`]), so another replica takes over
//!   at its next heartbeat.
//! - **Clocks.** Expiry instants are written by each replica's clock: replicas must keep their
//!   clocks in step (NTP) to well within [`TTL`].
//! - **The store down.** A heartbeat that cannot reach the store gives up holding at once (the
//!   others cannot renew either); work resumes when it answers again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rota_store::Store;

/// The lease's name in the store.
pub const LEASE: &str = "background";
/// How long a lease lasts unless renewed.
pub const TTL: Duration = Duration::from_secs(20);
/// How often the heartbeat takes or renews it.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// This process's part in the lease.
#[derive(Debug)]
pub struct Leader {
    me: String,
    holding: AtomicBool,
    /// When the lease was last taken or renewed (by this process's monotonic clock).
    renewed: Mutex<Option<Instant>>,
    /// Set by [`Leader::release`]: the heartbeat takes the lease no more.
    stopped: AtomicBool,
}

impl Leader {
    /// Starts the heartbeat thread as `me` (the ledger owner id, [`crate::run::owner`]) on the
    /// store that `state` holds, with `clock` for the lease's instants. The first beat is taken
    /// before this returns, so a single replica holds the lease from its start.
    pub fn spawn<S: AsRef<Store> + Send + 'static>(
        state: S,
        clock: impl Fn() -> DateTime<Utc> + Send + 'static,
        me: String,
    ) -> std::io::Result<Arc<Leader>> {
        let leader = Arc::new(Leader::new(me));
        leader.beat(state.as_ref(), clock());
        let l = leader.clone();
        std::thread::Builder::new()
            .name("rota-lease".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(HEARTBEAT);
                    l.beat(state.as_ref(), clock());
                }
            })?;
        Ok(leader)
    }

    /// A leader that is not running yet (tests drive [`Leader::beat`] themselves).
    pub fn new(me: String) -> Leader {
        Leader {
            me,
            holding: AtomicBool::new(false),
            renewed: Mutex::new(None),
            stopped: AtomicBool::new(false),
        }
    }

    /// Takes or renews the lease once.
    pub fn beat(&self, store: &Store, now: DateTime<Utc>) {
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        let asked = Instant::now();
        let ttl = chrono::Duration::from_std(TTL).unwrap_or(chrono::Duration::seconds(20));
        match store.take_lease(LEASE, &self.me, ttl, now) {
            Ok(lease) if lease.holder == self.me => {
                if let Some(dead) = &lease.taken_from {
                    tracing::warn!(from = %dead, "took over the background work from a replica whose lease lapsed");
                    crate::run::declare_dead(dead);
                }
                // Counted from before the call: a renewal that took long has less time left.
                *self.renewed.lock().unwrap_or_else(|p| p.into_inner()) = Some(asked);
                if !self.holding.swap(true, Ordering::SeqCst) {
                    tracing::info!(replica = %self.me, "this replica now does the background work (reminders, notices)");
                }
            }
            Ok(lease) => {
                if self.holding.swap(false, Ordering::SeqCst) {
                    tracing::warn!(holder = %lease.holder, "another replica holds the background work now");
                }
            }
            Err(e) => {
                if self.holding.swap(false, Ordering::SeqCst) {
                    tracing::error!(error = %e, "cannot renew the background-work lease; pausing background work");
                }
            }
        }
    }

    /// Whether this process holds the lease: its last heartbeat took or renewed it, and that was
    /// less than [`TTL`] minus a [`HEARTBEAT`] ago. A heartbeat stuck on a slow store therefore
    /// stops the work here before another replica may take the lease.
    pub fn holding(&self) -> bool {
        let fresh = self
            .renewed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|t| t.elapsed() < TTL - HEARTBEAT);
        self.holding.load(Ordering::SeqCst) && fresh && !self.stopped.load(Ordering::SeqCst)
    }

    /// This process's id in the lease and the ledger.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Gives the lease up (a clean shutdown).
    pub fn release(&self, store: &Store) {
        // First, so that the heartbeat thread does not take it again before the process exits.
        self.stopped.store(true, Ordering::SeqCst);
        self.holding.store(false, Ordering::SeqCst);
        match store.release_lease(LEASE, &self.me) {
            Ok(true) => tracing::info!("released the background-work lease"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot release the background-work lease; it lapses by itself")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    /// A released lease is taken at once by another process, and the releasing one's heartbeat
    /// does not take it back before it exits.
    #[test]
    fn release_hands_over_at_once_and_stays_released() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("rota.db")).unwrap();
        let now = t("2026-11-23T10:00:00Z");
        let (a, b) = (Leader::new("h/1".into()), Leader::new("h/2".into()));
        a.beat(&store, now);
        b.beat(&store, now);
        assert!(a.holding() && !b.holding());
        a.release(&store);
        assert!(!a.holding());
        a.beat(&store, now);
        assert!(
            !a.holding(),
            "a stopped leader does not take the lease again"
        );
        b.beat(&store, now);
        assert!(b.holding(), "the other takes it at once");
    }
}
