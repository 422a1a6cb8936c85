//! The concurrent digest cache: TTL, bounds on entries and bytes, single-flight loads,
//! short-lived failures (a failure that may pass by itself lives only a few seconds).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::OnceCell;
use tokio::time::Instant;

pub use crate::config::CacheConfig;

/// How many bytes a cached value holds, roughly: what the cache's byte bound counts.
pub trait Weight {
    /// The value's size in bytes, its heap data included.
    fn weight(&self) -> usize;
}

impl Weight for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

/// Bytes counted for an entry beyond its value: key copy, timestamps, map slot.
const ENTRY_OVERHEAD: usize = 128;

/// What a load produced: a shared value or the error to hand every caller until it expires.
type Outcome<V, E> = Result<Arc<V>, E>;

struct Entry<V, E> {
    outcome: Outcome<V, E>,
    /// Bytes counted for this entry in [`Cache::bytes`].
    bytes: usize,
    expires: Instant,
    /// Tick of the last read or write, for least-recently-used eviction.
    last_used: AtomicU64,
}

/// A concurrent cache keyed by string; concurrent loads of one key share a single call.
pub struct Cache<V, E> {
    config: CacheConfig,
    entries: DashMap<String, Entry<V, E>>,
    /// Loads in progress; every caller for a key awaits the same cell.
    in_flight: DashMap<String, Cell<V, E>>,
    clock: AtomicU64,
    evicting: AtomicBool,
    /// Bytes of every entry held.
    bytes: AtomicUsize,
    /// Whether a failure may pass by itself, so it is kept for the transient TTL only.
    is_transient: fn(&E) -> bool,
}

impl<V: Weight + Send + Sync + 'static, E: Clone + Send + Sync + 'static> Cache<V, E> {
    /// An empty cache with the given limits; every failure is kept for `failure_ttl` until
    /// [`Cache::with_transient`] says which ones pass by themselves.
    pub fn new(config: CacheConfig) -> Self {
        Self {
            config,
            entries: DashMap::new(),
            in_flight: DashMap::new(),
            clock: AtomicU64::new(0),
            evicting: AtomicBool::new(false),
            bytes: AtomicUsize::new(0),
            is_transient: |_| false,
        }
    }

    /// Keeps the failures `is_transient` picks for `transient_failure_ttl` only.
    pub fn with_transient(mut self, is_transient: fn(&E) -> bool) -> Self {
        self.is_transient = is_transient;
        self
    }

    /// The cached outcome for `key`, or the outcome of `load`, run once however many callers
    /// ask for the key at the same time; if the caller running it is dropped, a waiter takes over.
    pub async fn get_or_load<F, Fut>(&self, key: &str, load: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        self.get_or_load_for(key, || async { load().await.map(|value| (value, None)) })
            .await
    }

    /// [`Cache::get_or_load`] where the load may say how long its value stays fresh (a value
    /// found in a slower tier has only the rest of its life left); never longer than the TTL.
    pub async fn get_or_load_for<F, Fut>(&self, key: &str, load: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(V, Option<Duration>), E>>,
    {
        if let Some(outcome) = self.fresh(key) {
            return outcome;
        }
        let flight = Flight::join(&self.in_flight, key);
        flight
            .cell
            .get_or_init(|| async {
                // A load may have finished between the lookup above and joining the flight.
                if let Some(outcome) = self.fresh(key) {
                    return outcome;
                }
                let (outcome, ttl) = match load().await {
                    Ok((value, ttl)) => (Ok(Arc::new(value)), ttl),
                    Err(e) => (Err(e), None),
                };
                self.store_for(key, outcome.clone(), ttl);
                outcome
            })
            .await
            .clone()
    }

    /// The value for `key` if one was loaded and is still fresh (failures are not returned).
    pub fn get(&self, key: &str) -> Option<Arc<V>> {
        self.fresh(key).and_then(Result::ok)
    }

    /// Stores `value` under `key` for the configured TTL and returns it shared.
    pub fn insert(&self, key: &str, value: V) -> Arc<V> {
        let value = Arc::new(value);
        self.store(key, Ok(value.clone()));
        value
    }

    /// The number of entries held, failures and not yet swept expired ones included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The bytes held, as the values' [`Weight`] counts them plus a fixed cost per entry.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Whether the cache holds no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::Relaxed)
    }

    /// The unexpired outcome for `key`; an expired entry is dropped on the way.
    fn fresh(&self, key: &str) -> Option<Outcome<V, E>> {
        let now = Instant::now();
        if let Some(entry) = self.entries.get(key)
            && entry.expires > now
        {
            entry.last_used.store(self.tick(), Ordering::Relaxed);
            return Some(entry.outcome.clone());
        }
        if let Some((_, gone)) = self.entries.remove_if(key, |_, entry| entry.expires <= now) {
            self.bytes.fetch_sub(gone.bytes, Ordering::Relaxed);
        }
        None
    }

    fn store(&self, key: &str, outcome: Outcome<V, E>) {
        self.store_for(key, outcome, None);
    }

    /// Stores `outcome` for `ttl` when given (at most the configured TTL), else the default.
    fn store_for(&self, key: &str, outcome: Outcome<V, E>, ttl: Option<Duration>) {
        let ttl = match &outcome {
            Ok(_) => ttl.map_or(self.config.ttl, |ttl| ttl.min(self.config.ttl)),
            Err(e) if (self.is_transient)(e) => self.config.transient_failure_ttl,
            Err(_) => self.config.failure_ttl,
        };
        let bytes = ENTRY_OVERHEAD + key.len() + outcome.as_ref().map_or(0, |value| value.weight());
        let entry = Entry {
            outcome,
            bytes,
            expires: Instant::now() + ttl,
            last_used: AtomicU64::new(self.tick()),
        };
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        if let Some(old) = self.entries.insert(key.to_owned(), entry) {
            self.bytes.fetch_sub(old.bytes, Ordering::Relaxed);
        }
        if self.entries.len() > self.config.capacity.max(1) || self.bytes() > self.config.max_bytes
        {
            self.evict();
        }
    }

    /// Drops expired entries, then the least recently used, down to 90% of capacity and of
    /// the byte bound, so a full scan happens once per tenth of either rather than on every
    /// insert.
    fn evict(&self) {
        if self.evicting.swap(true, Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        self.entries.retain(|_, entry| {
            let keep = entry.expires > now;
            if !keep {
                self.bytes.fetch_sub(entry.bytes, Ordering::Relaxed);
            }
            keep
        });
        let capacity = self.config.capacity.max(1);
        let target = capacity - capacity / 10;
        let target_bytes = self.config.max_bytes - self.config.max_bytes / 10;
        if self.entries.len() > target || self.bytes() > target_bytes {
            let mut by_age: Vec<(u64, String)> = self
                .entries
                .iter()
                .map(|e| (e.last_used.load(Ordering::Relaxed), e.key().clone()))
                .collect();
            by_age.sort_unstable();
            for (_, key) in &by_age {
                if self.entries.len() <= target && self.bytes() <= target_bytes {
                    break;
                }
                if let Some((_, gone)) = self.entries.remove(key) {
                    self.bytes.fetch_sub(gone.bytes, Ordering::Relaxed);
                }
            }
        }
        self.evicting.store(false, Ordering::Release);
    }
}

type Cell<V, E> = Arc<OnceCell<Outcome<V, E>>>;

/// One caller's share in a key's in-flight load; dropping it clears the map entry once the
/// load is done, or once nobody is left to finish it (the caller was cancelled).
struct Flight<'a, V, E> {
    map: &'a DashMap<String, Cell<V, E>>,
    key: &'a str,
    cell: Cell<V, E>,
}

impl<'a, V, E> Flight<'a, V, E> {
    fn join(map: &'a DashMap<String, Cell<V, E>>, key: &'a str) -> Self {
        let cell = map
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(OnceCell::new()))
            .clone();
        Self { map, key, cell }
    }
}

impl<V, E> Drop for Flight<'_, V, E> {
    fn drop(&mut self) {
        // remove_if holds the shard lock, so nobody joins meanwhile; a count of two (the map's
        // and ours) means no waiter is left to take over the load.
        self.map.remove_if(self.key, |_, current| {
            Arc::ptr_eq(current, &self.cell)
                && (self.cell.initialized() || Arc::strong_count(&self.cell) == 2)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::task::JoinSet;

    fn cache(ttl: u64, failure_ttl: u64, capacity: usize) -> Arc<Cache<String, String>> {
        Arc::new(Cache::new(CacheConfig {
            ttl: Duration::from_secs(ttl),
            failure_ttl: Duration::from_secs(failure_ttl),
            capacity,
            ..CacheConfig::default()
        }))
    }

    #[test]
    fn the_byte_bound_evicts_the_least_recently_used() {
        let cache: Cache<String, String> = Cache::new(CacheConfig {
            max_bytes: 100 * 1024,
            ..CacheConfig::default()
        });
        for i in 0..100 {
            cache.insert(&format!("k{i}"), "x".repeat(10 * 1024));
            assert!(
                cache.bytes() <= 100 * 1024 + 11 * 1024,
                "{} bytes",
                cache.bytes()
            );
        }
        assert!(cache.len() < 10, "{} entries", cache.len());
        assert!(cache.get("k99").is_some(), "the newest stays");
        assert!(cache.get("k0").is_none(), "the oldest goes");
    }

    /// Loads `value` after a second, counting calls.
    async fn slow_load(calls: &AtomicUsize, value: &str) -> Result<String, String> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(value.to_owned())
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_concurrent_loads_call_load_once() {
        let cache = cache(60, 60, 100);
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = JoinSet::new();
        for _ in 0..20 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks
                .spawn(async move { cache.get_or_load("k", || slow_load(&calls, "digest")).await });
        }
        let results = tasks.join_all().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(results.len(), 20);
        for result in results {
            assert_eq!(result.as_deref().map(String::as_str), Ok("digest"));
        }
        assert_eq!(
            cache.get("k").as_deref().map(String::as_str),
            Some("digest")
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_loads_on_threads_share_one_call_per_key() {
        let cache = cache(60, 60, 100);
        let calls = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(tokio::sync::Barrier::new(40));
        let mut tasks = JoinSet::new();
        for i in 0..40 {
            let (cache, calls, barrier) = (cache.clone(), calls.clone(), barrier.clone());
            tasks.spawn(async move {
                let key = format!("k{}", i % 2);
                barrier.wait().await;
                let value = cache
                    .get_or_load(&key, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(key.clone())
                    })
                    .await;
                (key, value)
            });
        }
        for (key, value) in tasks.join_all().await {
            assert_eq!(value.as_deref(), Ok(&key));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn failure_is_cached_then_retried_after_failure_ttl() {
        let cache = cache(3600, 60, 100);
        let calls = AtomicUsize::new(0);
        let failing = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<String, String>("the site did not answer".into())
        };
        assert_eq!(
            cache.get_or_load("dead", failing).await,
            Err("the site did not answer".into())
        );
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(
            cache.get_or_load("dead", failing).await,
            Err("the site did not answer".into())
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.get("dead"), None);

        tokio::time::advance(Duration::from_secs(2)).await;
        let retried = cache
            .get_or_load("dead", || async { Ok("back".to_owned()) })
            .await;
        assert_eq!(retried.as_deref().map(String::as_str), Ok("back"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_is_kept_seconds_not_a_minute() {
        let cache = Cache::new(CacheConfig {
            transient_failure_ttl: Duration::from_secs(5),
            ..CacheConfig::default()
        })
        .with_transient(|e: &String| e.contains("try again"));
        let busy = || async { Err::<String, String>("busy, try again".into()) };
        let gone = || async { Err::<String, String>("not found".into()) };
        assert!(cache.get_or_load("busy", busy).await.is_err());
        assert!(cache.get_or_load("gone", gone).await.is_err());

        tokio::time::advance(Duration::from_secs(2)).await;
        let shared = cache
            .get_or_load("busy", || async { Ok("too early".to_owned()) })
            .await;
        assert_eq!(
            shared,
            Err("busy, try again".into()),
            "a burst shares one try"
        );

        tokio::time::advance(Duration::from_secs(4)).await;
        let retried = cache
            .get_or_load("busy", || async { Ok("served".to_owned()) })
            .await;
        assert_eq!(retried.as_deref().map(String::as_str), Ok("served"));
        let still_gone = cache
            .get_or_load("gone", || async { Ok("too early".to_owned()) })
            .await;
        assert_eq!(
            still_gone,
            Err("not found".into()),
            "a lasting failure stays"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entry_is_reloaded() {
        let cache = cache(10, 1, 100);
        let calls = AtomicUsize::new(0);
        let first = cache.get_or_load("k", || slow_load(&calls, "v1")).await;
        assert_eq!(first.as_deref().map(String::as_str), Ok("v1"));

        tokio::time::advance(Duration::from_secs(5)).await;
        let cached = cache.get_or_load("k", || slow_load(&calls, "v2")).await;
        assert_eq!(cached.as_deref().map(String::as_str), Ok("v1"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);

        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(cache.get("k"), None);
        let reloaded = cache.get_or_load("k", || slow_load(&calls, "v2")).await;
        assert_eq!(reloaded.as_deref().map(String::as_str), Ok("v2"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn capacity_holds_and_recently_used_entries_survive() {
        let cache = cache(3600, 60, 100);
        cache.insert("hot", "kept".to_owned());
        for i in 0..5_000 {
            cache.insert(&format!("k{i}"), i.to_string());
            assert!(cache.len() <= 100, "len {} after {i} inserts", cache.len());
            assert!(
                cache.get("hot").is_some(),
                "hot entry evicted after {i} inserts"
            );
        }
        assert_eq!(
            cache.get("k4999").as_deref().map(String::as_str),
            Some("4999")
        );
        assert_eq!(cache.get("k0"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn waiter_takes_over_when_the_leader_is_dropped() {
        let cache = cache(60, 60, 100);
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let leader = tokio::spawn({
            let cache = cache.clone();
            async move {
                cache
                    .get_or_load("k", || async move {
                        let _ = started_tx.send(());
                        std::future::pending::<Result<String, String>>().await
                    })
                    .await
            }
        });
        started_rx.await.expect("leader started loading");

        let calls = Arc::new(AtomicUsize::new(0));
        let waiter = tokio::spawn({
            let (cache, calls) = (cache.clone(), calls.clone());
            async move {
                cache
                    .get_or_load("k", || slow_load(&calls, "from waiter"))
                    .await
            }
        });
        // Let the waiter reach the in-flight load before the leader goes away.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "waiter must wait, not load"
        );
        leader.abort();

        let value = tokio::time::timeout(Duration::from_secs(30), waiter)
            .await
            .expect("waiter did not hang")
            .expect("waiter task finished");
        assert_eq!(value.as_deref().map(String::as_str), Ok("from waiter"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(cache.in_flight.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_load_leaves_nothing_behind() {
        let cache = cache(60, 60, 100);
        let stalled = cache.get_or_load("k", std::future::pending::<Result<String, String>>);
        let timed_out = tokio::time::timeout(Duration::from_secs(15), stalled).await;
        assert!(timed_out.is_err());
        assert!(cache.in_flight.is_empty());
        assert!(cache.is_empty());

        let calls = AtomicUsize::new(0);
        let value = cache.get_or_load("k", || slow_load(&calls, "v")).await;
        assert_eq!(value.as_deref().map(String::as_str), Ok("v"));
        assert!(cache.in_flight.is_empty());
    }

    #[tokio::test]
    async fn insert_replaces_and_get_ignores_failures() {
        let cache = cache(60, 60, 10);
        assert!(cache.is_empty());
        let failed = cache
            .get_or_load("k", || async { Err::<String, String>("no".into()) })
            .await;
        assert_eq!(failed, Err("no".to_owned()));
        assert_eq!(cache.get("k"), None);
        let stored = cache.insert("k", "yes".to_owned());
        assert_eq!(cache.get("k"), Some(stored));
        assert_eq!(cache.len(), 1);
    }
}
