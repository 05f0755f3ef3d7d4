//! Who hears of a changed connection. Whatever keeps connections in memory (the proxy's hot
//! connections) registers a [`Watcher`]; every write that replaces, refreshes, marks, re-seals
//! or deletes a connection tells it, once the write is committed: at once in the process that
//! wrote, and on PostgreSQL in every other instance too, through `NOTIFY` on
//! [`CHANNEL`], sent inside the writing transaction (so a rolled-back write announces nothing
//! and a committed one always does) and heard by a `LISTEN` connection of each instance.
//!
//! A watcher is told when it cannot trust what it keeps: [`Change::Down`] while the `LISTEN`
//! connection is lost (changes made elsewhere would go unheard), [`Change::Resumed`] once it
//! listens again (changes may have been missed meanwhile, so everything kept is stale). On
//! SQLite, one process owns the file and every change is heard, so the feed is up from the
//! start.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::postgres::{PgListener, PgPool};

/// The PostgreSQL notification channel of connection changes.
pub(crate) const CHANNEL: &str = "provider_forge_connections";

/// What a watcher hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// This connection was written (replaced, refreshed, marked, re-sealed) or deleted.
    Connection {
        /// Provider id.
        provider: String,
        /// Connection id.
        connection_id: String,
    },
    /// Changes made elsewhere are heard again; some may have been missed meanwhile.
    Resumed,
    /// Changes made elsewhere go unheard until [`Change::Resumed`].
    Down,
}

/// Hears of changed connections.
pub trait Watcher: Send + Sync {
    /// Called after the change was committed, on the writing task or the listening one; it must
    /// not block.
    fn changed(&self, change: &Change);
}

/// The watchers of one store, and whether changes made elsewhere reach them.
#[derive(Default)]
pub(super) struct Feed {
    watchers: RwLock<Vec<Arc<dyn Watcher>>>,
    up: AtomicBool,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("up", &self.up.load(Ordering::SeqCst))
            .finish_non_exhaustive()
    }
}

impl Feed {
    /// A feed that hears every change from the start (one process owns the database).
    pub(super) fn local() -> Self {
        Self {
            watchers: RwLock::default(),
            up: AtomicBool::new(true),
        }
    }

    /// Registers a watcher; it is told [`Change::Resumed`] at once when the feed is up.
    pub(super) fn add(&self, watcher: Arc<dyn Watcher>) {
        // Under the write lock, so no publication changes `up` between the look and the call.
        let mut watchers = self.watchers.write().unwrap_or_else(|e| e.into_inner());
        if self.up.load(Ordering::SeqCst) {
            watcher.changed(&Change::Resumed);
        }
        watchers.push(watcher);
    }

    /// Tells every watcher.
    pub(super) fn publish(&self, change: &Change) {
        let watchers = self.watchers.read().unwrap_or_else(|e| e.into_inner());
        match change {
            Change::Resumed => self.up.store(true, Ordering::SeqCst),
            Change::Down => self.up.store(false, Ordering::SeqCst),
            Change::Connection { .. } => {}
        }
        for watcher in watchers.iter() {
            watcher.changed(change);
        }
    }

    /// Tells every watcher that one connection changed.
    pub(super) fn connection(&self, provider: &str, connection_id: &str) {
        self.publish(&Change::Connection {
            provider: provider.to_owned(),
            connection_id: connection_id.to_owned(),
        });
    }
}

/// The payload of a notification: the connection's provider and id, as a JSON array.
pub(super) fn payload(provider: &str, connection_id: &str) -> String {
    serde_json::json!([provider, connection_id]).to_string()
}

/// The change a notification's payload names; `None` when it is not one this version writes.
fn parse(payload: &str) -> Option<Change> {
    let (provider, connection_id): (String, String) = serde_json::from_str(payload).ok()?;
    Some(Change::Connection {
        provider,
        connection_id,
    })
}

/// Listens on [`CHANNEL`] through a connection of `pool` of its own, for as long as the
/// process runs, and publishes what it hears to `feed`. A lost connection publishes
/// [`Change::Down`] and is opened again with backoff; listening again publishes
/// [`Change::Resumed`].
pub(super) async fn listen(pool: PgPool, feed: Arc<Feed>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if let Ok(mut listener) = PgListener::connect_with(&pool).await {
            if listener.listen(CHANNEL).await.is_ok() {
                feed.publish(&Change::Resumed);
                backoff = Duration::from_millis(100);
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => {
                            feed.publish(&parse(notification.payload()).unwrap_or(Change::Resumed))
                        }
                        // The connection was lost and opened again: what was said meanwhile
                        // went unheard.
                        Ok(None) => feed.publish(&Change::Resumed),
                        Err(_) => break,
                    }
                }
            }
        }
        feed.publish(&Change::Down);
        tracing::warn!(
            "not listening for connection changes of other instances; hot connections are not used until the database answers again"
        );
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Heard(Mutex<Vec<Change>>);

    impl Watcher for Heard {
        fn changed(&self, change: &Change) {
            self.0.lock().unwrap().push(change.clone());
        }
    }

    #[test]
    fn a_payload_names_its_connection_whatever_it_holds() {
        let text = payload("zoho-crm", "user \"42\"\n, ]");
        assert_eq!(
            parse(&text),
            Some(Change::Connection {
                provider: "zoho-crm".into(),
                connection_id: "user \"42\"\n, ]".into()
            })
        );
        assert_eq!(parse("not json"), None);
    }

    #[test]
    fn a_watcher_added_while_the_feed_is_up_is_told_so() {
        let feed = Feed::default();
        let early = Arc::new(Heard::default());
        feed.add(early.clone());
        assert!(early.0.lock().unwrap().is_empty(), "not up yet");
        feed.publish(&Change::Resumed);
        feed.connection("p", "c");
        let late = Arc::new(Heard::default());
        feed.add(late.clone());
        assert_eq!(
            *early.0.lock().unwrap(),
            [
                Change::Resumed,
                Change::Connection {
                    provider: "p".into(),
                    connection_id: "c".into()
                }
            ]
        );
        assert_eq!(*late.0.lock().unwrap(), [Change::Resumed]);
        feed.publish(&Change::Down);
        let after_down = Arc::new(Heard::default());
        feed.add(after_down.clone());
        assert!(after_down.0.lock().unwrap().is_empty());
    }
}
