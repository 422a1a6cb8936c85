//! Redis, for several instances behind one load balancer: the digest cache, single-flight
//! locks, chat settings, and (through [`RedisPerKey`]) link allowances, repeat marks and
//! send windows. Every call degrades to "not shared" on a Redis error, so an outage makes
//! each instance work alone (each fetches for itself) but never stops a reply.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::RedisTimeouts;
use crate::perkey::{Local, PerKey};
use crate::settings::ChatSettings;

/// After a failure, calls answer "not shared" at once for this long before one asks Redis
/// again: while Redis is away no reply waits for it on every step.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(1);

/// How often an instance that started without Redis tries to reach it.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// The connection manager's settings: bounded connects and calls, one retry.
fn manager_config(timeouts: RedisTimeouts) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(timeouts.connect)
        .set_response_timeout(timeouts.response)
        .set_number_of_retries(1)
}

/// Deletes the lock only when it still holds the caller's token.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('DEL', KEYS[1]) else return 0 end";

/// Extends the lock only when it still holds the caller's token.
const EXTEND: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

/// The outcome of asking for a single-flight lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lock {
    /// This instance holds the lock: it fetches, then releases it.
    Acquired(Held),
    /// Another instance is fetching: wait for its digest.
    Busy,
    /// Redis did not answer: fetch locally.
    Unavailable,
}

/// A single-flight lock this instance holds: its key and the unique token that proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    key: String,
    token: String,
}

/// A connection to the shared Redis; cheap to clone.
#[derive(Clone)]
pub struct RedisState {
    /// Empty until the first connection succeeds (see [`RedisState::connect_later`]).
    conn: Arc<OnceLock<ConnectionManager>>,
    degraded: Arc<AtomicBool>,
    /// Until when calls skip Redis after a failure, in milliseconds since `epoch`.
    resting_until: Arc<AtomicU64>,
    epoch: Instant,
}

/// Redis could not be reached at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to Redis: {0}")]
pub struct ConnectError(#[from] redis::RedisError);

impl RedisState {
    /// Connects to the Redis at `url` (e.g. `redis://127.0.0.1:6379/0`); reconnects by itself
    /// after an outage.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_within(url, RedisTimeouts::default()).await
    }

    /// [`RedisState::connect`] with each connection and call bounded by `timeouts`.
    pub async fn connect_within(url: &str, timeouts: RedisTimeouts) -> Result<Self, ConnectError> {
        let client = redis::Client::open(url)?;
        let conn = ConnectionManager::new_with_config(client, manager_config(timeouts)).await?;
        let state = RedisState::unconnected();
        let _ = state.conn.set(conn);
        Ok(state)
    }

    /// Starts without waiting for Redis: until it first answers (tried again every
    /// `RECONNECT_EVERY`), every call answers "not shared" and the instance works alone; then
    /// it shares, as after an outage. An error only for a URL that is not a Redis URL; call it
    /// within a Tokio runtime.
    pub fn connect_later(url: &str, timeouts: RedisTimeouts) -> Result<Self, ConnectError> {
        let client = redis::Client::open(url)?;
        let state = RedisState::unconnected();
        let slot = Arc::clone(&state.conn);
        tokio::spawn(async move {
            loop {
                let config = manager_config(timeouts);
                match ConnectionManager::new_with_config(client.clone(), config).await {
                    Ok(conn) => {
                        let _ = slot.set(conn);
                        tracing::info!(
                            "Redis answered: cache, settings, limits and pacing are shared now"
                        );
                        return;
                    }
                    Err(_) => tokio::time::sleep(RECONNECT_EVERY).await,
                }
            }
        });
        Ok(state)
    }

    fn unconnected() -> Self {
        RedisState {
            conn: Arc::new(OnceLock::new()),
            degraded: Default::default(),
            resting_until: Default::default(),
            epoch: Instant::now(),
        }
    }

    /// A handle on the connection, once there is one.
    fn conn(&self) -> Option<ConnectionManager> {
        self.conn.get().cloned()
    }

    /// Runs one command through [`RedisState::call`]; `None` when not connected or failed.
    async fn query<T: redis::FromRedisValue>(&self, command: &redis::Cmd) -> Option<T> {
        let mut conn = self.conn()?;
        self.call(command.query_async(&mut conn)).await
    }

    /// Runs one Redis request unless a recent failure says Redis is away; `None` when it
    /// failed or was skipped.
    async fn call<T>(&self, request: impl Future<Output = redis::RedisResult<T>>) -> Option<T> {
        let now = self.epoch.elapsed().as_millis() as u64;
        if now < self.resting_until.load(Ordering::Relaxed) {
            return None;
        }
        let result = request.await;
        if result.is_err() {
            let until = self.epoch.elapsed() + REST_AFTER_FAILURE;
            self.resting_until
                .fetch_max(until.as_millis() as u64, Ordering::Relaxed);
        }
        self.note(result)
    }

    /// Logs the first failure of an outage as a warning, and the recovery.
    fn note<T>(&self, result: redis::RedisResult<T>) -> Option<T> {
        match result {
            Ok(value) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!(
                        "Redis is back: cache, settings, limits and pacing are shared again"
                    );
                }
                Some(value)
            }
            Err(e) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "Redis failed: this instance works alone (its own cache, limits and pacing) until it is back");
                }
                None
            }
        }
    }

    /// The digest (any serde value) another instance stored under `key`, if any.
    pub async fn digest<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let mut conn = self.conn()?;
        let json: Option<String> = self.call(conn.get(digest_key(key))).await?;
        json.and_then(|json| serde_json::from_str(&json).ok())
    }

    /// Stores a digest for every instance, for `ttl`.
    pub async fn put_digest<T: serde::Serialize>(&self, key: &str, digest: &T, ttl: Duration) {
        let Ok(json) = serde_json::to_string(digest) else {
            return;
        };
        let secs = ttl.as_secs().max(1);
        let Some(mut conn) = self.conn() else { return };
        let _: Option<()> = self.call(conn.set_ex(digest_key(key), json, secs)).await;
    }

    /// Runs a Lua script atomically in Redis (`EVAL`); `None` when Redis failed.
    pub async fn eval<T: redis::FromRedisValue>(
        &self,
        script: &str,
        keys: &[&str],
        args: &[String],
    ) -> Option<T> {
        let mut conn = self.conn()?;
        let mut eval = redis::cmd("EVAL");
        eval.arg(script).arg(keys.len()).arg(keys).arg(args);
        self.call(eval.query_async(&mut conn)).await
    }

    /// Asks to be the one instance fetching `key`, for `lease` unless extended. The lock
    /// holds a token unique to this call, so only its holder can release or extend it.
    pub async fn lock(&self, key: &str, lease: Duration) -> Lock {
        let held = Held {
            key: lock_key(key),
            token: unique_token(),
        };
        let Some(mut conn) = self.conn() else {
            return Lock::Unavailable;
        };
        let mut set = redis::cmd("SET");
        set.arg(&held.key)
            .arg(&held.token)
            .arg("NX")
            .arg("PX")
            .arg(millis(lease));
        let answer: Option<Option<String>> = self.call(set.query_async(&mut conn)).await;
        match answer {
            Some(Some(_)) => Lock::Acquired(held),
            Some(None) => Lock::Busy,
            None => Lock::Unavailable,
        }
    }

    /// Releases a lock this instance holds (compare-and-delete); true when it was still
    /// ours. A lock that expired and was taken by another instance is left alone.
    pub async fn unlock(&self, held: &Held) -> bool {
        let deleted: Option<i64> = self
            .eval(RELEASE, &[&held.key], std::slice::from_ref(&held.token))
            .await;
        deleted == Some(1)
    }

    /// Extends a lock this instance still holds to `lease` from now; false when it is no
    /// longer ours (it expired) or Redis failed.
    pub async fn extend(&self, held: &Held, lease: Duration) -> bool {
        let args = [held.token.clone(), millis(lease).to_string()];
        let extended: Option<i64> = self.eval(EXTEND, &[&held.key], &args).await;
        extended == Some(1)
    }

    /// Runs `work` while holding `held`, extending the lease every third of it so slow work
    /// (a slow site, an LLM with retries) never outlives its lock; releases it after.
    pub async fn while_locked<T>(
        &self,
        held: &Held,
        lease: Duration,
        work: impl Future<Output = T>,
    ) -> T {
        tokio::pin!(work);
        let mut ours = true;
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                () = tokio::time::sleep(lease / 3), if ours => {
                    ours = self.extend(held, lease).await;
                    if !ours {
                        tracing::warn!("a single-flight lock was lost before its work was done");
                    }
                }
            }
        };
        self.unlock(held).await;
        result
    }

    /// The chat's settings as any instance saved them; `None` when unknown or unreachable.
    pub async fn settings(&self, chat: i64) -> Option<ChatSettings> {
        let mut conn = self.conn()?;
        let mut get = redis::cmd("HMGET");
        get.arg(settings_key(chat)).arg("length").arg("mode");
        let fields: Vec<Option<String>> = self.call(get.query_async(&mut conn)).await?;
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
        let fields = [
            ("length", settings.length.as_str()),
            ("mode", settings.mode.as_str()),
        ];
        let Some(mut conn) = self.conn() else { return };
        let _: Option<()> = self
            .call(conn.hset_multiple(settings_key(chat), &fields))
            .await;
    }

    /// Sets one settings field for every instance in one atomic step; `other` (this
    /// instance's value of the other field) is written only when Redis has none, so it never
    /// undoes another instance's change.
    pub async fn change_setting(&self, chat: i64, field: (&str, &str), other: (&str, &str)) {
        let Some(mut conn) = self.conn() else { return };
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset(settings_key(chat), field.0, field.1)
            .ignore()
            .hset_nx(settings_key(chat), other.0, other.1)
            .ignore();
        let _: Option<()> = self.call(pipe.query_async(&mut conn)).await;
    }

    /// The link (as posted) behind link key `key`, as any instance saved it; `None` when
    /// unknown or unreachable.
    pub async fn link(&self, key: &str) -> Option<String> {
        let mut conn = self.conn()?;
        self.call(conn.get(link_key(key))).await?
    }

    /// Saves the link (as posted) behind link key `key` for every instance, for `ttl`.
    pub async fn save_link(&self, key: &str, url: &str, ttl: Duration) {
        let secs = ttl.as_secs().max(1);
        let Some(mut conn) = self.conn() else { return };
        let _: Option<()> = self.call(conn.set_ex(link_key(key), url, secs)).await;
    }

    /// Moves a group's settings to its new supergroup id.
    pub async fn migrate_chat(&self, from: i64, to: i64) {
        if let Some(settings) = self.settings(from).await {
            self.save_settings(to, settings).await;
            let Some(mut conn) = self.conn() else { return };
            let _: Option<()> = self.call(conn.del(settings_key(from))).await;
        }
    }
}

/// A lock token no other call of any instance will draw.
fn unique_token() -> String {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut random = [0u8; 16];
    if getrandom::fill(&mut random).is_err() {
        // No OS randomness: the process id, time and counter still tell instances apart.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        random[..16].copy_from_slice(&nanos.to_le_bytes());
    }
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    format!("{}-{call}-{random}", std::process::id())
}

/// Milliseconds for `PX`/`PEXPIRE`, at least 1.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

fn digest_key(key: &str) -> String {
    format!("linkdigest:digest:{key}")
}

fn lock_key(key: &str) -> String {
    format!("linkdigest:lock:{key}")
}

fn link_key(key: &str) -> String {
    format!("linkdigest:link:{key}")
}

fn settings_key(chat: i64) -> String {
    format!("linkdigest:settings:{chat}")
}

/// Takes `ARGV[1]` tokens from every bucket in KEYS (capacity `ARGV[2+i]`, refilled over
/// `ARGV[2]` ms), or from none; the same token bucket as [`crate::perkey::Local`].
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local count, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local left = {}
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 + i])
  local tokens = capacity
  local state = redis.call('HMGET', key, 'tokens', 'at')
  if state[1] then
    local elapsed = math.max(0, now - tonumber(state[2]))
    tokens = math.min(capacity, tonumber(state[1]) + elapsed * capacity / window)
  end
  if tokens + 1e-9 < count then return 0 end
  left[i] = tokens
end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'tokens', tostring(left[i] - count), 'at', tostring(now))
  redis.call('PEXPIRE', key, window)
end
return 1
";

/// Reserves the next send slot of KEYS[1] (its `next` field, and its last slots in KEYS[2]):
/// `ARGV[1]` ms gap, at most `ARGV[2]` slots in `ARGV[3]` ms; returns the wait in ms.
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gap, limit, window = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local slot = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
if limit > 0 then
  local n = redis.call('LLEN', KEYS[2])
  if n >= limit then
    slot = math.max(slot, tonumber(redis.call('LINDEX', KEYS[2], n - limit)) + window)
  end
  redis.call('RPUSH', KEYS[2], tostring(slot))
  redis.call('LTRIM', KEYS[2], -limit, -1)
  redis.call('PEXPIRE', KEYS[2], slot - now + window)
end
redis.call('SET', KEYS[1], tostring(slot + gap), 'PX', slot - now + gap + 1)
return slot - now
";

/// [`PerKey`] in Redis, so every instance counts against the same allowances, marks and
/// windows; each call falls back to this instance's own [`Local`] state while Redis fails.
pub struct RedisPerKey {
    redis: RedisState,
    local: Local,
}

impl RedisPerKey {
    /// Keeps per-key state in `redis`; the fallback keeps `local_capacity` keys.
    pub fn new(redis: RedisState, local_capacity: usize) -> Self {
        RedisPerKey {
            redis,
            local: Local::with_capacity(local_capacity),
        }
    }
}

#[async_trait::async_trait]
impl PerKey for RedisPerKey {
    async fn take(&self, buckets: &[(&str, u32)], count: u32, window: Duration) -> bool {
        let buckets: Vec<(String, u32)> = buckets
            .iter()
            .filter(|(_, capacity)| *capacity > 0)
            .map(|(key, capacity)| (state_key(key), *capacity))
            .collect();
        if buckets.is_empty() {
            return true;
        }
        let keys: Vec<&str> = buckets.iter().map(|(key, _)| key.as_str()).collect();
        let mut args = vec![count.to_string(), millis(window).to_string()];
        args.extend(buckets.iter().map(|(_, capacity)| capacity.to_string()));
        match self.redis.eval::<i64>(TAKE, &keys, &args).await {
            Some(taken) => taken == 1,
            None => {
                let local: Vec<(&str, u32)> =
                    buckets.iter().map(|(k, c)| (k.as_str(), *c)).collect();
                self.local.take(&local, count, window).await
            }
        }
    }

    async fn mark(&self, key: &str, window: Duration) -> bool {
        let mut set = redis::cmd("SET");
        set.arg(state_key(key))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(millis(window));
        let answer: Option<Option<String>> = self.redis.query(&set).await;
        match answer {
            Some(set) => set.is_some(),
            None => self.local.mark(key, window).await,
        }
    }

    async fn unmark(&self, key: &str) {
        let mut del = redis::cmd("DEL");
        del.arg(state_key(key));
        let deleted: Option<()> = self.redis.query(&del).await;
        if deleted.is_none() {
            self.local.unmark(key).await;
        }
    }

    async fn reserve(&self, key: &str, gap: Duration, limit: u32, window: Duration) -> Duration {
        let key = state_key(key);
        let keys = [key.as_str(), &format!("{key}:recent")];
        let args = [
            millis(gap).to_string(),
            limit.to_string(),
            millis(window).to_string(),
        ];
        // Without Redis the caller's own local slots pace this instance alone.
        let wait: Option<u64> = self.redis.eval(RESERVE, &keys, &args).await;
        Duration::from_millis(wait.unwrap_or(0))
    }
}

fn state_key(key: &str) -> String {
    format!("linkdigest:state:{key}")
}
