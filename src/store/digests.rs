//! Digests in SQLite, one row per summarizer and link, serving both readers: the digest
//! service finds its own again after a restart (by summarizer id and link, within the cache
//! TTL), and a digest message's buttons find the digest it shows (by the link's key, the
//! newest of any summarizer). Schema version 1 merged the two tables that held every digest
//! twice (`digests`, written by the bot for the buttons, and `archived_digests`, written by
//! the service); [`migrate`] moves a file of version 0 (before the version was kept).

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{PRUNE_EVERY, Store, StoreError, keep_newest, now_ms, prune, secs};
use crate::digest::{ArchiveError, Archived, Digest, DigestArchive};
use crate::links;

/// The schema version this code reads and writes (SQLite's `user_version`).
pub(super) const SCHEMA_VERSION: i64 = 1;

/// Digests by summarizer id and link, with the link's button key and when it was made (ms).
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS kept_digests (
        summarizer TEXT NOT NULL,
        link       TEXT NOT NULL,
        link_key   TEXT NOT NULL,
        digest     TEXT NOT NULL,
        made_at_ms INTEGER NOT NULL,
        PRIMARY KEY (summarizer, link)
    );
    CREATE INDEX IF NOT EXISTS kept_digests_by_link_key ON kept_digests (link_key, made_at_ms);
    CREATE INDEX IF NOT EXISTS kept_digests_by_age ON kept_digests (made_at_ms);
";

/// Brings the database to [`SCHEMA_VERSION`] in one transaction: a version 0 file has its
/// two digest tables merged into one (the bot's copies, whose summarizer was not recorded,
/// are kept for the buttons only, under an empty summarizer id).
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= SCHEMA_VERSION {
        conn.execute_batch(SCHEMA)?;
        return Ok(());
    }
    let tx = conn.transaction()?;
    tx.execute_batch(SCHEMA)?;
    if has_table(&tx, "archived_digests")? {
        let rows = {
            let mut rows = tx.prepare("SELECT key, digest, made_at_ms FROM archived_digests")?;
            rows.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<Vec<(String, String, i64)>, _>>()?
        };
        for (key, digest, made_at_ms) in rows {
            let (summarizer, link) = split(&key);
            insert(&tx, summarizer, link, &digest, made_at_ms, "OR IGNORE")?;
        }
        tx.execute_batch("DROP TABLE archived_digests")?;
    }
    if has_table(&tx, "digests")? {
        tx.execute(
            "INSERT OR IGNORE INTO kept_digests (summarizer, link, link_key, digest, made_at_ms)
             SELECT '', url, key, digest, created_at * 1000 FROM digests",
            [],
        )?;
        tx.execute_batch("DROP TABLE digests")?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

fn has_table(tx: &Transaction<'_>, name: &str) -> Result<bool, StoreError> {
    Ok(tx
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// A cache key (`summarizer id|link`) split in two; a key without `|` is a link alone.
fn split(key: &str) -> (&str, &str) {
    key.split_once('|').unwrap_or(("", key))
}

fn insert(
    c: &Connection,
    summarizer: &str,
    link: &str,
    json: &str,
    made_at_ms: i64,
    conflict: &str,
) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "INSERT {conflict} INTO kept_digests (summarizer, link, link_key, digest, made_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5)"
        ),
        params![summarizer, link, links::key_of(link), json, made_at_ms],
    )?;
    Ok(())
}

/// Deletes kept digests past the retention period and beyond the digest cap.
pub(super) fn prune_digests(
    c: &Connection,
    retention: Duration,
    cap: usize,
) -> Result<(), StoreError> {
    let oldest = now_ms().saturating_sub(secs(retention).saturating_mul(1000));
    c.execute("DELETE FROM kept_digests WHERE made_at_ms < ?1", [oldest])?;
    keep_newest(c, "kept_digests", "made_at_ms", cap)
}

impl Store {
    /// Keeps a digest just made under its cache key (`summarizer id|link`), made now; its
    /// link's buttons find it too.
    pub async fn archive_digest(&self, key: &str, digest: &Digest) -> Result<(), StoreError> {
        let json = serde_json::to_string(digest)?;
        let key = key.to_owned();
        let limits = self.limits;
        let prune_now = self
            .saves
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % PRUNE_EVERY
            == PRUNE_EVERY - 1;
        self.with(move |c| {
            let (summarizer, link) = split(&key);
            insert(c, summarizer, link, &json, now_ms(), "OR REPLACE")?;
            if prune_now {
                prune(c, limits)?;
            }
            Ok(())
        })
        .await
    }

    /// The digest kept under cache key `key` and its age, if made less than `max_age` ago.
    pub async fn archived_digest(
        &self,
        key: &str,
        max_age: Duration,
    ) -> Result<Option<(Digest, Duration)>, StoreError> {
        let key = key.to_owned();
        let now = now_ms();
        let oldest = now.saturating_sub(i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX));
        self.reading(move |c| {
            let (summarizer, link) = split(&key);
            let row: Option<(String, i64)> = c
                .query_row(
                    "SELECT digest, made_at_ms FROM kept_digests
                     WHERE summarizer = ?1 AND link = ?2 AND made_at_ms > ?3",
                    params![summarizer, link, oldest],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((json, made_at)) = row else {
                return Ok(None);
            };
            let age = Duration::from_millis(u64::try_from(now - made_at).unwrap_or(0));
            Ok(Some((serde_json::from_str(&json)?, age)))
        })
        .await
    }

    /// The newest digest of the link with button key `link_key` (by any summarizer) and the
    /// link, if it is within the retention period: what a digest message's buttons show.
    pub async fn digest(&self, link_key: &str) -> Result<Option<(String, Digest)>, StoreError> {
        let link_key = link_key.to_owned();
        let oldest = now_ms().saturating_sub(secs(self.limits.retention).saturating_mul(1000));
        self.reading(move |c| {
            let row: Option<(String, String)> = c
                .query_row(
                    "SELECT link, digest FROM kept_digests
                     WHERE link_key = ?1 AND made_at_ms >= ?2
                     ORDER BY made_at_ms DESC LIMIT 1",
                    params![link_key, oldest],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(link, json)| Ok((link, serde_json::from_str(&json)?)))
                .transpose()
        })
        .await
    }
}

#[async_trait::async_trait]
impl DigestArchive for Store {
    async fn recall(&self, key: &str, max_age: Duration) -> Result<Option<Archived>, ArchiveError> {
        let found = self
            .archived_digest(key, max_age)
            .await
            .map_err(|e| ArchiveError(Box::new(e)))?;
        Ok(found.map(|(digest, age)| Archived { digest, age }))
    }

    async fn keep(&self, key: &str, digest: &Digest) -> Result<(), ArchiveError> {
        self.archive_digest(key, digest)
            .await
            .map_err(|e| ArchiveError(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::StoreLimits;
    use crate::digest::Length;
    use crate::settings::{ChatSettings, Mode};
    use crate::summarize::RankedSentence;

    fn digest(title: &str) -> Digest {
        Digest {
            title: title.into(),
            site: "example.org".into(),
            url: Some("https://example.org/a".into()),
            lang: Some("en".into()),
            reading_minutes: 2,
            sentences: vec![RankedSentence {
                text: "One.".into(),
                position: 0,
            }],
            preview_only: false,
        }
    }

    fn rows(path: &Path) -> i64 {
        let c = Connection::open(path).unwrap();
        c.query_row("SELECT count(*) FROM kept_digests", [], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn a_digest_is_written_once_for_the_service_and_the_buttons() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path, StoreLimits::default()).unwrap();
        let link = "https://example.org/a";
        store
            .archive_digest(&format!("ex|{link}"), &digest("Kept"))
            .await
            .unwrap();
        drop(store);
        let store = Store::open(&path, StoreLimits::default()).unwrap();
        let hour = Duration::from_secs(3600);
        let (d, age) = store
            .archived_digest(&format!("ex|{link}"), hour)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.title, "Kept");
        assert!(age < hour, "{age:?}");
        let (url, d) = store.digest(&links::key_of(link)).await.unwrap().unwrap();
        assert_eq!((url.as_str(), d.title.as_str()), (link, "Kept"));
        assert!(
            store
                .archived_digest(&format!("llm|{link}"), hour)
                .await
                .unwrap()
                .is_none(),
            "another summarizer's digest is not served"
        );
        assert_eq!(rows(&path), 1);
    }

    #[tokio::test]
    async fn the_buttons_show_the_newest_digest_of_a_link_and_the_cap_holds() {
        let limits = StoreLimits {
            retention: Duration::from_secs(3600),
            max_digests: 2,
            ..StoreLimits::default()
        };
        let store = Store::in_memory(limits).unwrap();
        let link = "https://example.org/a";
        store
            .archive_digest(&format!("llm|{link}"), &digest("Old"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        store
            .archive_digest(&format!("ex|{link}"), &digest("New"))
            .await
            .unwrap();
        let (_, d) = store.digest(&links::key_of(link)).await.unwrap().unwrap();
        assert_eq!(d.title, "New");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let other = "https://example.org/b";
        store
            .archive_digest(&format!("ex|{other}"), &digest("Other"))
            .await
            .unwrap();
        prune(&super::super::lock(&store.conn), limits).unwrap();
        let hour = Duration::from_secs(3600);
        assert!(
            store
                .archived_digest(&format!("llm|{link}"), hour)
                .await
                .unwrap()
                .is_none(),
            "the oldest goes beyond the cap"
        );
        assert!(store.digest(&links::key_of(other)).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn digests_past_the_retention_are_not_served() {
        let limits = StoreLimits {
            retention: Duration::ZERO,
            max_digests: 10,
            ..StoreLimits::default()
        };
        let store = Store::in_memory(limits).unwrap();
        super::super::lock(&store.conn)
            .execute(
                "INSERT INTO kept_digests (summarizer, link, link_key, digest, made_at_ms)
                 VALUES ('ex', 'u', 'old', '{}', 0)",
                [],
            )
            .unwrap();
        assert!(store.digest("old").await.unwrap().is_none());
    }

    /// The schema before versions were kept: each digest twice.
    const VERSION_0: &str = "
        CREATE TABLE chat_settings (
            chat_id INTEGER PRIMARY KEY, length TEXT NOT NULL, mode TEXT NOT NULL);
        CREATE TABLE digests (
            key TEXT PRIMARY KEY, url TEXT NOT NULL, digest TEXT NOT NULL,
            created_at INTEGER NOT NULL);
        CREATE INDEX digests_by_age ON digests (created_at);
        CREATE TABLE inline_links (
            key TEXT PRIMARY KEY, url TEXT NOT NULL, created_at INTEGER NOT NULL);
        CREATE TABLE archived_digests (
            key TEXT PRIMARY KEY, digest TEXT NOT NULL, made_at_ms INTEGER NOT NULL);
        CREATE INDEX archived_digests_by_age ON archived_digests (made_at_ms);
    ";

    #[tokio::test]
    async fn a_database_of_version_0_opens_with_its_settings_links_and_digests() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let (shown, archived) = ("https://example.org/shown", "https://example.org/kept");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(VERSION_0).unwrap();
            c.execute(
                "INSERT INTO chat_settings VALUES (-100, 'long', 'manual')",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO inline_links VALUES ('abc', 'https://example.org/i', ?1)",
                [super::super::now_secs()],
            )
            .unwrap();
            let json = serde_json::to_string(&digest("Shown")).unwrap();
            c.execute(
                "INSERT INTO digests VALUES (?1, ?2, ?3, ?4)",
                params![links::key_of(shown), shown, json, super::super::now_secs()],
            )
            .unwrap();
            let json = serde_json::to_string(&digest("Kept")).unwrap();
            c.execute(
                "INSERT INTO archived_digests VALUES (?1, ?2, ?3)",
                params![format!("ex|{archived}"), json, now_ms()],
            )
            .unwrap();
        }
        for _ in 0..2 {
            let store = Store::open(&path, StoreLimits::default()).unwrap();
            let settings = store.settings(-100).await.unwrap();
            let kept = ChatSettings {
                length: Length::Long,
                mode: Mode::Manual,
            };
            assert_eq!(settings, kept);
            let url = store.inline_link("abc").await.unwrap();
            assert_eq!(url.as_deref(), Some("https://example.org/i"));
            let (url, d) = store.digest(&links::key_of(shown)).await.unwrap().unwrap();
            assert_eq!((url.as_str(), d.title.as_str()), (shown, "Shown"));
            let hour = Duration::from_secs(3600);
            let key = format!("ex|{archived}");
            let (d, _) = store.archived_digest(&key, hour).await.unwrap().unwrap();
            assert_eq!(d.title, "Kept");
            let (_, d) = store
                .digest(&links::key_of(archived))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(d.title, "Kept", "the buttons find the service's digest");
        }
        let c = Connection::open(&path).unwrap();
        let version: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let old: i64 = c
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('digests', 'archived_digests')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, 0, "the old tables are gone");
    }
}
