//! SQLite persistence: chat settings and digests, so both survive a restart. Digests are
//! kept once, by summarizer and link, for the digest service and the buttons alike (the
//! `digests` module, which also moves older database files to the current schema).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use thiserror::Error;

use crate::redis_state::RedisState;
use crate::settings::{ChatSettings, Setting};

pub use crate::config::StoreLimits;

mod digests;

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite refused the operation.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored digest could not be read back.
    #[error("stored digest is unreadable: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The blocking worker running the query stopped.
    #[error("database worker failed")]
    Worker,
}

/// The SQLite database; cheap to clone, every query runs off the async workers.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    /// A second connection for reads of a database file: with WAL a read never waits for a
    /// write (a prune of old digests, say), so the settings read in every chat's lane cannot
    /// queue behind one. The same connection as `conn` for an in-memory database.
    reader: Arc<Mutex<Connection>>,
    limits: StoreLimits,
    saves: Arc<AtomicUsize>,
    shared: Option<RedisState>,
    /// Settings last read from Redis, by chat: a change seen there is copied into this
    /// database, so during an outage this instance still knows what another one saved.
    seen: Arc<dashmap::DashMap<i64, ChatSettings>>,
}

/// Chats whose settings read from Redis are remembered; past it the memory starts over (the
/// database copies stay, at the cost of one more write per chat).
const SEEN_CHATS: usize = 100_000;

/// Digests saved between two prunes: pruning walks the age index, so not on every save.
const PRUNE_EVERY: usize = 256;

const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS chat_settings (
        chat_id INTEGER PRIMARY KEY,
        length  TEXT NOT NULL,
        mode    TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS inline_links (
        key        TEXT PRIMARY KEY,
        url        TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS inline_links_by_age ON inline_links (created_at);
";

impl Store {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path, limits: StoreLimits) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL loses at most the last commits on power loss, never consistency.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut store = Self::init(conn, limits)?;
        let reader = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(limits.busy_timeout)?;
        store.reader = Arc::new(Mutex::new(reader));
        Ok(store)
    }

    /// An in-memory database, for tests and one-shot runs.
    pub fn in_memory(limits: StoreLimits) -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory()?, limits)
    }

    fn init(mut conn: Connection, limits: StoreLimits) -> Result<Self, StoreError> {
        conn.busy_timeout(limits.busy_timeout)?;
        conn.execute_batch(SCHEMA)?;
        digests::migrate(&mut conn)?;
        let conn = Arc::new(Mutex::new(conn));
        let store = Store {
            reader: Arc::clone(&conn),
            conn,
            limits,
            saves: Arc::new(AtomicUsize::new(0)),
            shared: None,
            seen: Arc::default(),
        };
        prune(&lock(&store.conn), limits)?;
        Ok(store)
    }

    /// Keeps chat settings and the links behind link keys in Redis too, so every instance
    /// sees the same; this database stays the fallback when Redis is unreachable.
    pub fn with_shared(mut self, shared: RedisState) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The Redis this store shares settings through, if any.
    pub fn shared(&self) -> Option<&RedisState> {
        self.shared.as_ref()
    }

    /// Runs `query` on the connection in a blocking worker, so no async worker (and no other
    /// chat) waits for SQLite.
    async fn with<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || query(&lock(&conn)))
            .await
            .map_err(|_| StoreError::Worker)?
    }

    /// Like [`Store::with`], on the read connection, for queries that only read.
    async fn reading<T: Send + 'static>(
        &self,
        query: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || query(&lock(&conn)))
            .await
            .map_err(|_| StoreError::Worker)?
    }

    /// The chat's settings, or the defaults when it has none.
    pub async fn settings(&self, chat_id: i64) -> Result<ChatSettings, StoreError> {
        if let Some(shared) = &self.shared
            && let Some(settings) = shared.settings(chat_id).await
        {
            self.copy_locally(chat_id, settings);
            return Ok(settings);
        }
        self.reading(move |c| {
            let row: Option<(String, String)> = c
                .query_row(
                    "SELECT length, mode FROM chat_settings WHERE chat_id = ?1",
                    [chat_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(
                row.map_or_else(ChatSettings::default, |(length, mode)| ChatSettings {
                    length: length.parse().unwrap_or_default(),
                    mode: mode.parse().unwrap_or_default(),
                }),
            )
        })
        .await
    }

    /// Saves the chat's settings.
    pub async fn save_settings(
        &self,
        chat_id: i64,
        settings: ChatSettings,
    ) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            shared.save_settings(chat_id, settings).await;
        }
        self.save_locally(chat_id, settings).await
    }

    async fn save_locally(&self, chat_id: i64, settings: ChatSettings) -> Result<(), StoreError> {
        self.with(move |c| {
            c.execute(
                "INSERT INTO chat_settings (chat_id, length, mode) VALUES (?1, ?2, ?3)
                 ON CONFLICT (chat_id) DO UPDATE SET length = ?2, mode = ?3",
                params![chat_id, settings.length.as_str(), settings.mode.as_str()],
            )?;
            Ok(())
        })
        .await
    }

    /// Copies settings read from Redis into this database when they differ from the last
    /// ones read, in the background (the reader does not wait for the write).
    fn copy_locally(&self, chat_id: i64, settings: ChatSettings) {
        if self
            .seen
            .get(&chat_id)
            .is_some_and(|seen| *seen == settings)
        {
            return;
        }
        if self.seen.len() >= SEEN_CHATS {
            self.seen.clear();
        }
        self.seen.insert(chat_id, settings);
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(e) = store.save_locally(chat_id, settings).await {
                tracing::warn!(chat = chat_id, error = %e, "could not keep a copy of a chat's settings");
            }
        });
    }

    /// Changes one setting of the chat in one statement (the other keeps whatever it is
    /// then, or its default), so a concurrent change of another setting is never lost.
    /// Returns the chat's settings as they are after the change.
    pub async fn change_setting(
        &self,
        chat_id: i64,
        change: Setting,
    ) -> Result<ChatSettings, StoreError> {
        let fresh = change.applied_to(ChatSettings::default());
        let (field, value) = change.field();
        let upsert = match change {
            Setting::Length(_) => {
                "INSERT INTO chat_settings (chat_id, length, mode) VALUES (?1, ?2, ?3)
                 ON CONFLICT (chat_id) DO UPDATE SET length = excluded.length
                 RETURNING length, mode"
            }
            Setting::Mode(_) => {
                "INSERT INTO chat_settings (chat_id, length, mode) VALUES (?1, ?2, ?3)
                 ON CONFLICT (chat_id) DO UPDATE SET mode = excluded.mode
                 RETURNING length, mode"
            }
        };
        let now = self
            .with(move |c| {
                let (length, mode): (String, String) = c.query_row(
                    upsert,
                    params![chat_id, fresh.length.as_str(), fresh.mode.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                Ok(ChatSettings {
                    length: length.parse().unwrap_or_default(),
                    mode: mode.parse().unwrap_or_default(),
                })
            })
            .await?;
        if let Some(shared) = &self.shared {
            let (other, other_value) = match change {
                Setting::Length(_) => ("mode", now.mode.as_str()),
                Setting::Mode(_) => ("length", now.length.as_str()),
            };
            shared
                .change_setting(chat_id, (field, value), (other, other_value))
                .await;
        }
        Ok(now)
    }

    /// Moves a group's settings to its new supergroup id (`migrate_to_chat_id`).
    pub async fn migrate_chat(&self, from: i64, to: i64) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            shared.migrate_chat(from, to).await;
        }
        self.with(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO chat_settings (chat_id, length, mode)
                 SELECT ?2, length, mode FROM chat_settings WHERE chat_id = ?1",
                params![from, to],
            )?;
            c.execute("DELETE FROM chat_settings WHERE chat_id = ?1", [from])?;
            Ok(())
        })
        .await
    }
}

impl Store {
    /// Remembers the link behind the buttons of inline messages with link key `key`: an
    /// inline message cannot be read back, so its buttons find the link here.
    /// With Redis the link goes there too, so a press on any instance finds it.
    pub async fn save_inline_link(&self, key: &str, url: &str) -> Result<(), StoreError> {
        if let Some(shared) = &self.shared {
            shared.save_link(key, url, self.limits.retention).await;
        }
        let (key, url) = (key.to_owned(), url.to_owned());
        let limits = self.limits;
        let prune_now = self.saves.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1;
        self.with(move |c| {
            c.execute(
                "INSERT INTO inline_links (key, url, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET url = excluded.url, created_at = excluded.created_at
                 WHERE inline_links.created_at < excluded.created_at - 3600",
                params![key, url, now_secs()],
            )?;
            if prune_now {
                prune(c, limits)?;
            }
            Ok(())
        })
        .await
    }

    /// With Redis, remembers link key `key` → `url` (as posted) when the digest's page is
    /// elsewhere (the link redirected), so Expand on another instance finds the shared
    /// digest by the link it was made from, not by where that redirected.
    pub async fn remember_redirected(&self, key: &str, url: &str, digest: &crate::digest::Digest) {
        if let Some(shared) = &self.shared
            && digest.url.as_deref() != Some(url)
        {
            shared.save_link(key, url, self.limits.retention).await;
        }
    }

    /// The link of inline messages with link key `key`, if it is within the retention period:
    /// from Redis first (any instance may have offered it), else this database.
    pub async fn inline_link(&self, key: &str) -> Result<Option<String>, StoreError> {
        if let Some(shared) = &self.shared
            && let Some(url) = shared.link(key).await
        {
            return Ok(Some(url));
        }
        let key = key.to_owned();
        let oldest = now_secs() - secs(self.limits.retention);
        self.with(move |c| {
            Ok(c.query_row(
                "SELECT url FROM inline_links WHERE key = ?1 AND created_at >= ?2",
                params![key, oldest],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2))
}

/// Deletes digests and inline links past the retention period, and the oldest of either
/// beyond the cap.
fn prune(c: &Connection, limits: StoreLimits) -> Result<(), StoreError> {
    c.execute(
        "DELETE FROM inline_links WHERE created_at < ?1",
        [now_secs() - secs(limits.retention)],
    )?;
    digests::prune_digests(c, limits.retention, limits.max_digests)?;
    // One row per link offered inline: capped like digests, or a script typing new links
    // into inline queries would grow the file for the whole retention period.
    keep_newest(c, "inline_links", "created_at", limits.max_digests)
}

/// Deletes all but the `cap` newest rows of `table` by its `age` column (ties: the last
/// written stays). Both names are the store's own constants, never outside input.
fn keep_newest(c: &Connection, table: &str, age: &str, cap: usize) -> Result<(), StoreError> {
    let cap = i64::try_from(cap).unwrap_or(i64::MAX);
    c.execute(
        &format!(
            "DELETE FROM {table} WHERE rowid IN (
                 SELECT rowid FROM {table} ORDER BY {age} DESC, rowid DESC LIMIT -1 OFFSET ?1)"
        ),
        [cap],
    )?;
    Ok(())
}

/// A poisoned lock only means another query panicked; the connection itself is still sound.
fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2)
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Length;
    use crate::settings::Mode;

    #[tokio::test]
    async fn inline_links_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path, StoreLimits::default()).unwrap();
        assert_eq!(store.inline_link("abc").await.unwrap(), None);
        store
            .save_inline_link("abc", "https://example.org/a")
            .await
            .unwrap();
        drop(store);
        let store = Store::open(&path, StoreLimits::default()).unwrap();
        let url = store.inline_link("abc").await.unwrap();
        assert_eq!(url.as_deref(), Some("https://example.org/a"));
    }

    #[tokio::test]
    async fn settings_default_then_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path, StoreLimits::default()).unwrap();
        assert_eq!(store.settings(-100).await.unwrap(), ChatSettings::default());
        let chosen = ChatSettings {
            length: Length::Long,
            mode: Mode::Manual,
        };
        store.save_settings(-100, chosen).await.unwrap();
        drop(store);
        let reopened = Store::open(&path, StoreLimits::default()).unwrap();
        assert_eq!(reopened.settings(-100).await.unwrap(), chosen);
        assert_eq!(
            reopened.settings(42).await.unwrap(),
            ChatSettings::default()
        );
    }

    #[tokio::test]
    async fn changes_of_different_settings_at_once_both_survive() {
        let store = Store::in_memory(StoreLimits::default()).unwrap();
        for chat in 0..20 {
            let (a, b) = tokio::join!(
                store.change_setting(chat, Setting::Length(Length::Long)),
                store.change_setting(chat, Setting::Mode(Mode::Off)),
            );
            a.unwrap();
            b.unwrap();
            let expected = ChatSettings {
                length: Length::Long,
                mode: Mode::Off,
            };
            assert_eq!(store.settings(chat).await.unwrap(), expected);
        }
        let now = store
            .change_setting(0, Setting::Length(Length::Short))
            .await
            .unwrap();
        assert_eq!((now.length, now.mode), (Length::Short, Mode::Off));
    }

    #[tokio::test]
    async fn a_settings_read_does_not_wait_for_a_write_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), StoreLimits::default()).unwrap();
        store
            .change_setting(-7, Setting::Mode(Mode::Manual))
            .await
            .unwrap();
        // A long write (a prune, say) holds the write connection the whole time.
        let writer = Arc::clone(&store.conn);
        let (locked, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
        let holder = std::thread::spawn(move || {
            let _busy = lock(&writer);
            locked.0.send(()).unwrap();
            let _ = release.1.recv();
        });
        locked.1.recv().unwrap();
        let read = tokio::time::timeout(Duration::from_secs(30), store.settings(-7)).await;
        release.0.send(()).unwrap();
        holder.join().unwrap();
        let settings = read.expect("the read waited for the write").unwrap();
        assert_eq!(settings.mode, Mode::Manual);
    }

    #[tokio::test]
    async fn migrated_groups_keep_their_settings() {
        let store = Store::in_memory(StoreLimits::default()).unwrap();
        let chosen = ChatSettings {
            length: Length::Short,
            mode: Mode::Auto,
        };
        store.save_settings(-1, chosen).await.unwrap();
        store.migrate_chat(-1, -1001).await.unwrap();
        assert_eq!(store.settings(-1001).await.unwrap(), chosen);
        assert_eq!(store.settings(-1).await.unwrap(), ChatSettings::default());
    }

    #[tokio::test]
    async fn inline_links_are_capped_like_digests() {
        let limits = StoreLimits {
            retention: Duration::from_secs(3600),
            max_digests: 2,
            ..StoreLimits::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path, limits).unwrap();
        for key in ["a", "b", "c"] {
            let url = format!("https://example.org/{key}");
            store.save_inline_link(key, &url).await.unwrap();
        }
        drop(store);
        let store = Store::open(&path, limits).unwrap();
        assert_eq!(
            store.inline_link("a").await.unwrap(),
            None,
            "oldest evicted"
        );
        for key in ["b", "c"] {
            let url = store.inline_link(key).await.unwrap();
            assert_eq!(url, Some(format!("https://example.org/{key}")));
        }
    }
}
