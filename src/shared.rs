//! Redis, for several instances behind one load balancer: the digest cache, single-flight
//! locks and chat settings they share. Every call degrades to "not shared" on a Redis error,
//! so an outage slows the bots down (each fetches for itself) but never stops a reply.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::digest::Digest;
use crate::settings::ChatSettings;

/// How long one Redis call may take before it counts as a failure.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// The outcome of asking for a single-flight lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// This instance holds the lock: it fetches.
    Acquired,
    /// Another instance is fetching: wait for its digest.
    Busy,
    /// Redis did not answer: fetch locally.
    Unavailable,
}

/// A connection to the shared Redis; cheap to clone.
#[derive(Clone)]
pub struct Shared {
    conn: ConnectionManager,
    degraded: std::sync::Arc<AtomicBool>,
}

/// Redis could not be reached at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis: {0}")]
pub struct ConnectError(#[from] redis::RedisError);

impl Shared {
    /// Connects to the Redis at `url` (e.g. `redis://127.0.0.1:6379/0`); reconnects by itself
    /// after an outage.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(RESPONSE_TIMEOUT)
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(Shared {
            conn,
            degraded: Default::default(),
        })
    }

    /// Logs the first failure of an outage as a warning, and the recovery.
    fn note<T>(&self, result: redis::RedisResult<T>) -> Option<T> {
        match result {
            Ok(value) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("Redis is back: cache and settings are shared again");
                }
                Some(value)
            }
            Err(e) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis failed: caching locally until it is back");
                }
                None
            }
        }
    }

    /// The digest another instance stored under `key`, if any.
    pub async fn digest(&self, key: &str) -> Option<Digest> {
        let json: Option<String> = self.note(self.conn.clone().get(digest_key(key)).await)?;
        json.and_then(|json| serde_json::from_str(&json).ok())
    }

    /// Stores a digest for every instance, for `ttl`.
    pub async fn put_digest(&self, key: &str, digest: &Digest, ttl: Duration) {
        let Ok(json) = serde_json::to_string(digest) else {
            return;
        };
        let secs = ttl.as_secs().max(1);
        let stored: redis::RedisResult<()> =
            self.conn.clone().set_ex(digest_key(key), json, secs).await;
        self.note(stored);
    }

    /// Asks to be the one instance fetching `key`, for at most `ttl`.
    pub async fn lock(&self, key: &str, ttl: Duration) -> Lock {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let answer: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(lock_key(key))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(millis)
            .query_async(&mut self.conn.clone())
            .await;
        match self.note(answer) {
            Some(Some(_)) => Lock::Acquired,
            Some(None) => Lock::Busy,
            None => Lock::Unavailable,
        }
    }

    /// Releases the lock on `key` once its digest (or failure) is known.
    pub async fn unlock(&self, key: &str) {
        let deleted: redis::RedisResult<()> = self.conn.clone().del(lock_key(key)).await;
        self.note(deleted);
    }

    /// The chat's settings as any instance saved them; `None` when unknown or unreachable.
    pub async fn settings(&self, chat: i64) -> Option<ChatSettings> {
        let fields: Vec<Option<String>> = self.note(
            redis::cmd("HMGET")
                .arg(settings_key(chat))
                .arg("length")
                .arg("mode")
                .query_async(&mut self.conn.clone())
                .await,
        )?;
        match fields.as_slice() {
            [Some(length), Some(mode)] => Some(ChatSettings {
                length: length.parse().unwrap_or_default(),
                mode: mode.parse().unwrap_or_default(),
            }),
            _ => None,
        }
    }

    /// Saves the chat's settings for every instance.
    pub async fn save_settings(&self, chat: i64, settings: ChatSettings) {
        let saved: redis::RedisResult<()> = self
            .conn
            .clone()
            .hset_multiple(
                settings_key(chat),
                &[
                    ("length", settings.length.as_str()),
                    ("mode", settings.mode.as_str()),
                ],
            )
            .await;
        self.note(saved);
    }

    /// Moves a group's settings to its new supergroup id.
    pub async fn migrate_chat(&self, from: i64, to: i64) {
        if let Some(settings) = self.settings(from).await {
            self.save_settings(to, settings).await;
            let deleted: redis::RedisResult<()> = self.conn.clone().del(settings_key(from)).await;
            self.note(deleted);
        }
    }
}

fn digest_key(key: &str) -> String {
    format!("linkdigest:digest:{key}")
}

fn lock_key(key: &str) -> String {
    format!("linkdigest:lock:{key}")
}

fn settings_key(chat: i64) -> String {
    format!("linkdigest:settings:{chat}")
}
