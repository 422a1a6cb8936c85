//! The service that turns a link into a cached digest.

use std::sync::Arc;

use std::time::Instant;
use thiserror::Error;

use tokio::sync::Semaphore;
use url::Url;

use super::Digest;
use crate::cache::{Cache, CacheConfig};
use crate::config::{Config, SummarizerKind};
use crate::extract::{self, Article, ExtractError};
use crate::fetch::{FetchError, Fetcher, PageKind};
use crate::links::NormalizedUrl;
use crate::ops;
use crate::shared::{LOCK_LEASE, Lock, Shared};
use crate::summarize::openai::OpenAi;
use crate::summarize::{Extractive, Summarizer};

/// Sentences asked of the summarizer: enough for the longest expanded view.
const RANKED_SENTENCES: usize = 12;

/// Why a link has no digest; the message is the short reason a user reads.
#[derive(Debug, Clone, Error)]
pub enum DigestError {
    /// The page could not be fetched.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The page holds no article.
    #[error(transparent)]
    Extract(#[from] ExtractError),
    /// The summarizer produced nothing.
    #[error("the article could not be summarized")]
    Summarize,
    /// Processing the page failed unexpectedly (logged with the details).
    #[error("the page could not be processed")]
    Internal,
}

impl DigestError {
    /// A short stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            DigestError::Fetch(e) => e.kind(),
            DigestError::Extract(ExtractError::Paywalled) => "paywall",
            DigestError::Extract(_) => "no_article",
            DigestError::Summarize => "summarize",
            DigestError::Internal => "internal",
        }
    }
}

/// Fetches, extracts and summarizes links, caching each digest once for every chat.
pub struct Service {
    fetcher: Fetcher,
    summarizer: Arc<dyn Summarizer>,
    cache: Cache<Digest, DigestError>,
    ttl: std::time::Duration,
    fetch_permits: Semaphore,
    shared: Option<Shared>,
}

/// How long an instance waits for another's digest of a link before fetching it itself;
/// the holder extends its lock while it works, so this is only the patience of the others.
const SHARED_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// How often an instance waiting on another's fetch looks for the digest.
const SHARED_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Pages fetched and processed at once unless the settings say otherwise.
pub const DEFAULT_CONCURRENT_FETCHES: usize = 16;

impl Service {
    /// Builds the service from the settings.
    pub fn new(config: &Config) -> Result<Self, DigestError> {
        let fetcher = Fetcher::new(config.fetch.clone())?;
        let summarizer: Arc<dyn Summarizer> = match config.summarizer {
            SummarizerKind::Extractive => Arc::new(Extractive::new()),
            SummarizerKind::OpenAi => {
                Arc::new(OpenAi::new(config.openai.clone()).map_err(|e| {
                    tracing::error!(error = %e, "cannot set up the LLM client");
                    DigestError::Internal
                })?)
            }
        };
        Ok(Self::from_parts(fetcher, summarizer, config.cache.clone())
            .with_concurrent_fetches(config.max_concurrent_fetches))
    }

    /// Builds the service from its parts (tests inject a fetcher with a fake resolver).
    pub fn from_parts(
        fetcher: Fetcher,
        summarizer: Arc<dyn Summarizer>,
        cache: CacheConfig,
    ) -> Self {
        Service {
            fetcher,
            summarizer,
            ttl: cache.ttl,
            cache: Cache::new(cache),
            fetch_permits: Semaphore::new(DEFAULT_CONCURRENT_FETCHES),
            shared: None,
        }
    }

    /// Shares digests and fetch locks with other instances through Redis; the local cache
    /// stays the first level.
    pub fn with_shared(mut self, shared: Shared) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Bounds how many pages are fetched and processed at once; the rest wait their turn.
    pub fn with_concurrent_fetches(mut self, permits: usize) -> Self {
        self.fetch_permits = Semaphore::new(permits.max(1));
        self
    }

    /// The digest of `url`, from the cache or made now; concurrent calls for one link share
    /// one fetch, and a failure is remembered briefly so a dead link is not hammered.
    pub async fn get(&self, url: &NormalizedUrl) -> Result<Arc<Digest>, DigestError> {
        let key = self.cache_key(url);
        let counter = if self.cache.get(&key).is_some() {
            ops::CACHE_HITS
        } else {
            ops::CACHE_MISSES
        };
        metrics::counter!(counter).increment(1);
        self.cache
            .get_or_load(&key, || async {
                let digest = self.load(&key, url.url()).await;
                if let Err(e) = &digest {
                    metrics::counter!(ops::FETCH_ERRORS, "kind" => e.kind()).increment(1);
                }
                digest
            })
            .await
    }

    /// The cached digest of `url`, if there is a fresh one.
    pub fn cached(&self, url: &NormalizedUrl) -> Option<Arc<Digest>> {
        self.cache.get(&self.cache_key(url))
    }

    /// The cache key: the link and everything that changes the digest (summarizer, model,
    /// prompt and algorithm version).
    fn cache_key(&self, url: &NormalizedUrl) -> String {
        format!("{}|{}", self.summarizer.id(), url.as_str())
    }

    /// Makes a digest of an HTML document that did not come through the fetcher.
    pub async fn digest_html(&self, html: String, url: Option<Url>) -> Result<Digest, DigestError> {
        let base = url.clone();
        let article = blocking(move || extract::article(&html, base.as_ref())).await??;
        self.summarize(&article, url.as_ref()).await
    }

    /// Makes a digest of plain text (paragraphs separated by blank lines).
    pub async fn digest_text(
        &self,
        text: String,
        title: Option<String>,
    ) -> Result<Digest, DigestError> {
        let article = blocking(move || extract::plain_text(&text, title.as_deref())).await??;
        self.summarize(&article, None).await
    }

    /// A digest from another instance through Redis, else fetched here; with Redis, one
    /// instance fetches a link while the others wait for its digest.
    async fn load(&self, key: &str, url: &Url) -> Result<Digest, DigestError> {
        let Some(shared) = &self.shared else {
            return self.fetch_and_digest(url).await;
        };
        if let Some(digest) = shared.digest(key).await {
            return Ok(digest);
        }
        let deadline = tokio::time::Instant::now() + SHARED_WAIT;
        loop {
            match shared.lock(key, LOCK_LEASE).await {
                Lock::Acquired(held) => {
                    let work = async {
                        let digest = self.fetch_and_digest(url).await;
                        if let Ok(digest) = &digest {
                            shared.put_digest(key, digest, self.ttl).await;
                        }
                        digest
                    };
                    return shared.while_locked(&held, LOCK_LEASE, work).await;
                }
                Lock::Busy if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(SHARED_POLL).await;
                    if let Some(digest) = shared.digest(key).await {
                        return Ok(digest);
                    }
                }
                // Redis is gone, or the other instance is taking too long: fetch here.
                Lock::Busy | Lock::Unavailable => return self.fetch_and_digest(url).await,
            }
        }
    }

    async fn fetch_and_digest(&self, url: &Url) -> Result<Digest, DigestError> {
        let _permit = self
            .fetch_permits
            .acquire()
            .await
            .map_err(|_| DigestError::Internal)?;
        let started = Instant::now();
        let page = self.fetcher.get(url).await;
        metrics::histogram!(ops::FETCH_SECONDS).record(started.elapsed().as_secs_f64());
        let page = page?;
        let started = Instant::now();
        let final_url = page.url.clone();
        let article = match page.kind {
            PageKind::Html => {
                let base = final_url.clone();
                blocking(move || extract::article(&page.text, Some(&base))).await??
            }
            PageKind::PlainText => {
                blocking(move || extract::plain_text(&page.text, None)).await??
            }
        };
        let digest = self.summarize(&article, Some(&final_url)).await;
        metrics::histogram!(ops::SUMMARIZE_SECONDS).record(started.elapsed().as_secs_f64());
        digest
    }

    async fn summarize(&self, article: &Article, url: Option<&Url>) -> Result<Digest, DigestError> {
        let summary = self
            .summarizer
            .summarize(article, RANKED_SENTENCES)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "summarizer failed");
                DigestError::Summarize
            })?;
        if summary.sentences.is_empty() {
            return Err(DigestError::Summarize);
        }
        Ok(Digest::new(article, summary, url))
    }
}

/// Runs CPU-heavy work (parsing a large page) off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, DigestError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        tracing::error!(error = %e, "page processing panicked");
        DigestError::Internal
    })
}
