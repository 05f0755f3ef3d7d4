//! Hot connections: a proxied call to a connection used a moment ago reads no database row and
//! opens no sealed value; it takes the connection's prepared credentials from memory.
//!
//! What keeps them true is the store's change feed ([`crate::service::store::changes`]): every
//! write that changes a connection (a refresh, a reconnect or credential change, a
//! `reauthorization_required` mark, a delete, a re-seal after a key rotation) drops its entry,
//! at once in the process that wrote and, on PostgreSQL, in every other instance through
//! `LISTEN`/`NOTIFY`. Two other ways were weighed:
//! - a time to live bounds staleness only by its length: a deleted connection would keep
//!   working for that long, and a short one reads the database again on every busy
//!   connection;
//! - a generation check per call (a `SELECT generation`, no decryption) is still a database
//!   round trip per call, the very cost the cache removes, and fails with the database.
//!
//! `NOTIFY` is sent inside the writing transaction, so a committed change is always announced
//! and a rolled-back one never. What it cannot cover is a change made while an instance is not
//! listening (its `LISTEN` connection lost): the feed says so ([`Change::Down`]) and the cache
//! then empties and stays unused, so every call reads the database (and fails cleanly with it)
//! until the feed is back ([`Change::Resumed`]), when it empties once more. An entry loaded
//! while a change arrived is not kept (the epoch check below), so a load cannot put back what a
//! change just removed. The delay left is that of a notification between instances, a few
//! milliseconds; within it a call may still use the credentials the change replaced, as a
//! call that started just before the change would.
//!
//! The cache holds at most [`CAPACITY`] connections. Past it, quick_cache's eviction (S3-FIFO:
//! a connection seen once waits in a small queue, one seen again moves to the main one) drops
//! connections used once before busy ones, so a platform's busy connections stay hot however
//! many others are called once in between.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use quick_cache::Equivalent;
use quick_cache::sync::Cache;

use crate::service::store::changes::{Change, Watcher};

/// Most connections kept.
pub(super) const CAPACITY: usize = 50_000;

/// One connection's entries, by environment (`None`: the connection's own).
type Environments<T> = Vec<(Option<String>, Arc<T>)>;

/// A connection, as the cache keys it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    provider: String,
    connection_id: String,
}

/// A connection to look up, borrowed: the same hash as its [`Key`], so a lookup allocates
/// nothing.
#[derive(Hash)]
struct Lookup<'a> {
    provider: &'a str,
    connection_id: &'a str,
}

impl Equivalent<Key> for Lookup<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.provider == key.provider && self.connection_id == key.connection_id
    }
}

/// Connections kept in memory, each as `T` per environment.
pub(crate) struct HotConnections<T> {
    entries: Cache<Key, Arc<Environments<T>>>,
    /// Taken by whatever keeps or drops entries, so that a keep sees every change that moved
    /// the epoch before it; lookups never take it.
    writes: Mutex<()>,
    /// Moves with every change heard: a load that saw it move keeps nothing.
    epoch: AtomicU64,
    /// Whether every change is heard (the feed is up).
    up: AtomicBool,
}

impl<T> HotConnections<T> {
    /// An empty cache, unused until the feed says it is up.
    pub(crate) fn new() -> Self {
        Self::with_capacity(CAPACITY)
    }

    fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Cache::new(capacity),
            writes: Mutex::new(()),
            epoch: AtomicU64::new(0),
            up: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.writes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry of a connection in `environment`, when one is kept.
    pub(crate) fn get(
        &self,
        provider: &str,
        connection_id: &str,
        environment: Option<&str>,
    ) -> Option<Arc<T>> {
        if !self.up.load(Ordering::Acquire) {
            return None;
        }
        self.entries
            .get(&Lookup {
                provider,
                connection_id,
            })?
            .iter()
            .find(|(env, _)| env.as_deref() == environment)
            .map(|(_, entry)| Arc::clone(entry))
    }

    /// What a load must show [`HotConnections::keep`] it started at.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps an entry loaded after `epoch` was read, unless a change was heard since (then
    /// the entry may be what the change replaced) or the feed is down.
    pub(crate) fn keep(
        &self,
        epoch: u64,
        provider: &str,
        connection_id: &str,
        environment: Option<&str>,
        entry: Arc<T>,
    ) {
        let _writes = self.lock();
        // Read under the lock a change takes to move it.
        if self.epoch.load(Ordering::Acquire) != epoch || !self.up.load(Ordering::Acquire) {
            return;
        }
        let lookup = Lookup {
            provider,
            connection_id,
        };
        let mut environments: Environments<T> = self
            .entries
            .peek(&lookup)
            .map(|kept| {
                kept.iter()
                    .map(|(env, e)| (env.clone(), Arc::clone(e)))
                    .collect()
            })
            .unwrap_or_default();
        match environments
            .iter_mut()
            .find(|(env, _)| env.as_deref() == environment)
        {
            Some((_, kept)) => *kept = entry,
            None => environments.push((environment.map(str::to_owned), entry)),
        }
        let key = Key {
            provider: provider.to_owned(),
            connection_id: connection_id.to_owned(),
        };
        self.entries.insert(key, Arc::new(environments));
    }

    /// Drops a connection's entries.
    pub(crate) fn forget(&self, provider: &str, connection_id: &str) {
        let _writes = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries.remove(&Lookup {
            provider,
            connection_id,
        });
    }

    /// Drops everything, and uses the cache from now on only when `up`.
    fn reset(&self, up: bool) {
        let _writes = self.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.up.store(up, Ordering::Release);
        self.entries.clear();
    }

    /// Connections kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

impl<T: Send + Sync> Watcher for HotConnections<T> {
    fn changed(&self, change: &Change) {
        match change {
            Change::Connection {
                provider,
                connection_id,
            } => self.forget(provider, connection_id),
            Change::Resumed => self.reset(true),
            Change::Down => self.reset(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(provider: &str, connection_id: &str) -> Change {
        Change::Connection {
            provider: provider.into(),
            connection_id: connection_id.into(),
        }
    }

    fn up() -> HotConnections<&'static str> {
        let cache = HotConnections::new();
        cache.changed(&Change::Resumed);
        cache
    }

    #[test]
    fn nothing_is_kept_or_served_while_changes_could_go_unheard() {
        let cache = HotConnections::new();
        cache.keep(cache.epoch(), "p", "c", None, Arc::new("creds"));
        assert_eq!(cache.get("p", "c", None), None, "not up yet");
        cache.changed(&Change::Resumed);
        cache.keep(cache.epoch(), "p", "c", None, Arc::new("creds"));
        assert_eq!(cache.get("p", "c", None).as_deref(), Some(&"creds"));
        cache.changed(&Change::Down);
        assert_eq!(cache.get("p", "c", None), None);
        cache.changed(&Change::Resumed);
        assert_eq!(
            cache.get("p", "c", None),
            None,
            "emptied: changes were missed"
        );
    }

    #[test]
    fn a_change_drops_every_environment_of_its_connection_only() {
        let cache = up();
        let epoch = cache.epoch();
        cache.keep(epoch, "p", "c", None, Arc::new("own"));
        cache.keep(epoch, "p", "c", Some("sandbox"), Arc::new("sandbox"));
        cache.keep(epoch, "p", "other", None, Arc::new("other"));
        cache.keep(epoch, "q", "c", None, Arc::new("q"));
        assert_eq!(
            cache.get("p", "c", Some("sandbox")).as_deref(),
            Some(&"sandbox")
        );
        assert_eq!(cache.get("p", "c", None).as_deref(), Some(&"own"));
        cache.changed(&change("p", "c"));
        assert_eq!(cache.get("p", "c", None), None);
        assert_eq!(cache.get("p", "c", Some("sandbox")), None);
        assert_eq!(cache.get("p", "other", None).as_deref(), Some(&"other"));
        assert_eq!(cache.get("q", "c", None).as_deref(), Some(&"q"));
    }

    #[test]
    fn a_load_that_raced_a_change_is_not_kept() {
        let cache = up();
        let before = cache.epoch();
        // The load read the row; meanwhile the row was deleted and the change heard.
        cache.changed(&change("p", "c"));
        cache.keep(before, "p", "c", None, Arc::new("stale"));
        assert_eq!(cache.get("p", "c", None), None);
        cache.keep(cache.epoch(), "p", "c", None, Arc::new("fresh"));
        assert_eq!(cache.get("p", "c", None).as_deref(), Some(&"fresh"));
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = HotConnections::with_capacity(100);
        cache.changed(&Change::Resumed);
        for id in 0..1_000 {
            cache.keep(cache.epoch(), "p", &id.to_string(), None, Arc::new("x"));
            assert!(cache.len() <= 100, "{} kept after {id}", cache.len());
        }
    }

    #[test]
    fn busy_connections_stay_while_many_others_pass_through() {
        // A platform's busy connections, called all the time, and a stream of connections
        // called once each, ten times the cache's size.
        let cache = HotConnections::with_capacity(100);
        cache.changed(&Change::Resumed);
        let busy: Vec<String> = (0..20).map(|n| format!("busy-{n}")).collect();
        for id in &busy {
            cache.keep(cache.epoch(), "p", id, None, Arc::new("busy"));
        }
        for once in 0..1_000 {
            for id in &busy {
                assert!(
                    cache.get("p", id, None).is_some(),
                    "{id} dropped after {once} one-off connections"
                );
            }
            cache.keep(
                cache.epoch(),
                "p",
                &format!("once-{once}"),
                None,
                Arc::new("once"),
            );
        }
    }
}
