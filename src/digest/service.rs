//! The service that turns a link into a cached digest.

use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::Digest;
use super::admission::{Admission, Limits, Requester, site_of};
use super::archive::{Archived, DigestArchive};
use crate::budget::Deadline;
use crate::cache::{Cache, CacheConfig};
use crate::config::{Config, MarkupLimits, SingleFlightLimits, SummarizerKind};
use crate::extract::{self, ExtractError};
use crate::fetch::{FetchError, Fetcher, PageKind};
use crate::links::NormalizedUrl;
use crate::ops;
use crate::pdf::{self, PdfError, PdfLimits};
use crate::redis_state::{Lock, RedisState};
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
    /// The PDF could not be read as text.
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// The summarizer produced nothing.
    #[error("the article could not be summarized")]
    Summarize,
    /// Extracting and summarizing the page took more than its CPU budget.
    #[error("the page took too long to process")]
    TooSlow,
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
            DigestError::Pdf(e) => e.kind(),
            DigestError::Summarize => "summarize",
            DigestError::TooSlow => "too_slow",
            DigestError::Internal => "internal",
        }
    }
}

pub use crate::config::{DEFAULT_CONCURRENT_FETCHES, WorkLimits};

impl DigestError {
    /// Whether the failure may pass by itself within seconds (a timeout, a broken connection,
    /// a 5xx, a 429, our own "busy"), so it is remembered only briefly; a missing page, a
    /// page without an article, a too large or unreadable file or a refused address will not
    /// change soon and is remembered for the whole failure TTL.
    pub fn is_transient(&self) -> bool {
        match self {
            DigestError::Fetch(e) => matches!(
                e,
                FetchError::Timeout(_)
                    | FetchError::Connect { .. }
                    | FetchError::Dns { .. }
                    | FetchError::ServerError(_)
                    | FetchError::Status(408 | 425 | 429)
                    | FetchError::Busy
                    | FetchError::BrokenResponse { .. }
                    | FetchError::Client(_)
            ),
            DigestError::Extract(_)
            | DigestError::Pdf(_)
            | DigestError::Summarize
            | DigestError::TooSlow
            | DigestError::Internal => false,
        }
    }
}

/// Fetches, extracts and summarizes links, caching each digest once for every chat.
pub struct Service {
    fetcher: Fetcher,
    summarizer: Arc<dyn Summarizer>,
    cache: Cache<Digest, DigestError>,
    ttl: std::time::Duration,
    fetches: Arc<Admission>,
    cpu: Arc<Admission>,
    cpu_deadline: Duration,
    shared: Option<RedisState>,
    single_flight: SingleFlightLimits,
    pdf_limits: PdfLimits,
    markup: MarkupLimits,
    archive: Option<Arc<dyn DigestArchive>>,
    /// Places for fetched pages not yet extracted: a page waiting for a CPU slot holds up to
    /// 5 MiB (20 for a PDF) after its fetch slot is free, so their number has its own bound.
    pages: Arc<Semaphore>,
    /// How long a digest made by the summarizer's fallback stays fresh.
    fallback_ttl: Duration,
}

/// Fetched pages waiting for (or in) a CPU slot, per fetch slot.
const PAGES_PER_FETCH_SLOT: usize = 2;

/// The places for fetched pages that `fetches` fetch slots need.
fn page_places(fetches: &Limits) -> Arc<Semaphore> {
    Arc::new(Semaphore::new(fetches.total.max(1) * PAGES_PER_FETCH_SLOT))
}

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
            .with_limits(config.work)
            .with_concurrent_fetches(config.max_concurrent_fetches)
            .with_pdf_limits(config.pdf.clone())
            .with_markup_limits(config.markup)
            .with_single_flight(config.single_flight))
    }

    /// Builds the service from its parts (tests inject a fetcher with a fake resolver).
    pub fn from_parts(
        fetcher: Fetcher,
        summarizer: Arc<dyn Summarizer>,
        cache: CacheConfig,
    ) -> Self {
        let limits = WorkLimits::default();
        let fallback_ttl = cache.transient_failure_ttl;
        Service {
            fetcher,
            summarizer,
            ttl: cache.ttl,
            cache: Cache::new(cache).with_transient(DigestError::is_transient),
            fetches: Admission::new(limits.fetches),
            cpu: Admission::new(limits.cpu),
            cpu_deadline: limits.cpu_deadline,
            shared: None,
            single_flight: SingleFlightLimits::default(),
            pdf_limits: PdfLimits::default(),
            markup: MarkupLimits::default(),
            archive: None,
            pages: page_places(&limits.fetches),
            fallback_ttl,
        }
    }

    /// Sets the page and stream limits of PDFs (a PDF is read within the same CPU deadline
    /// as a web page).
    pub fn with_pdf_limits(mut self, limits: PdfLimits) -> Self {
        self.pdf_limits = limits;
        self
    }

    /// Bounds the markup of a web page the HTML parser sees.
    pub fn with_markup_limits(mut self, limits: MarkupLimits) -> Self {
        self.markup = limits;
        self
    }

    /// Sets how long this instance waits for another's digest of a link, how often it
    /// looks, and the lease of the lock it takes to make one itself.
    pub fn with_single_flight(mut self, limits: SingleFlightLimits) -> Self {
        self.single_flight = limits;
        self
    }

    /// Shares digests and fetch locks with other instances through Redis; the local cache
    /// stays the first level.
    pub fn with_shared(mut self, shared: RedisState) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Keeps every digest made in `archive` and looks there on a miss (after Redis, before
    /// fetching), so a digest younger than the cache TTL survives a restart.
    pub fn with_archive(mut self, archive: Arc<dyn DigestArchive>) -> Self {
        self.archive = Some(archive);
        self
    }

    /// Bounds how many pages are fetched at once; the rest wait their turn.
    pub fn with_concurrent_fetches(mut self, permits: usize) -> Self {
        let limits = Limits {
            total: permits,
            ..self.fetches.limits()
        };
        self.pages = page_places(&limits);
        self.fetches = Admission::new(limits);
        self
    }

    /// Sets the fetch and CPU limits and the CPU deadline of one link.
    pub fn with_limits(mut self, limits: WorkLimits) -> Self {
        self.pages = page_places(&limits.fetches);
        self.fetches = Admission::new(limits.fetches);
        self.cpu = Admission::new(limits.cpu);
        self.cpu_deadline = limits.cpu_deadline;
        self
    }

    /// The digest of `url` for `who`, from the cache or made now; concurrent calls for one
    /// link share one fetch, and a failure is remembered briefly (a transient one for
    /// seconds) so a dead link is not hammered. `who` decides the link's place in the fair
    /// queues of fetching and CPU work.
    pub async fn get(
        &self,
        url: &NormalizedUrl,
        who: Requester,
    ) -> Result<Arc<Digest>, DigestError> {
        let key = self.cache_key(url);
        let counter = if self.cache.get(&key).is_some() {
            ops::CACHE_HITS
        } else {
            ops::CACHE_MISSES
        };
        metrics::counter!(counter).increment(1);
        self.cache
            .get_or_load_for(&key, || async {
                let digest = self.load(&key, url.url(), who).await;
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
        let page = Page {
            url,
            kind: PageKind::Html,
            text: html,
            bytes: Vec::new(),
            title: None,
            _place: None,
        };
        Ok(self.process(page, Requester::local()).await?.digest)
    }

    /// Makes a digest of plain text (paragraphs separated by blank lines).
    pub async fn digest_text(
        &self,
        text: String,
        title: Option<String>,
    ) -> Result<Digest, DigestError> {
        let page = Page {
            url: None,
            kind: PageKind::PlainText,
            text,
            bytes: Vec::new(),
            title,
            _place: None,
        };
        Ok(self.process(page, Requester::local()).await?.digest)
    }

    /// Makes a digest of a PDF that did not come through the fetcher.
    pub async fn digest_pdf(
        &self,
        bytes: Vec<u8>,
        url: Option<Url>,
    ) -> Result<Digest, DigestError> {
        let page = Page {
            url,
            kind: PageKind::Pdf,
            text: String::new(),
            bytes,
            title: None,
            _place: None,
        };
        Ok(self.process(page, Requester::local()).await?.digest)
    }

    /// A digest from another instance through Redis, else made here; with Redis, one
    /// instance makes a link's digest while the others wait for it. A digest from the
    /// archive comes with the rest of its freshness.
    async fn load(
        &self,
        key: &str,
        url: &Url,
        who: Requester,
    ) -> Result<(Digest, Option<Duration>), DigestError> {
        let Some(shared) = &self.shared else {
            return self.make(key, url, who).await;
        };
        if let Some(digest) = shared.digest(key).await {
            return Ok((digest, None));
        }
        let SingleFlightLimits {
            wait,
            poll,
            lock_lease,
        } = self.single_flight;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match shared.lock(key, lock_lease).await {
                Lock::Acquired(held) => {
                    let work = async {
                        let made = self.make(key, url, who).await;
                        if let Ok((digest, fresh_for)) = &made {
                            shared
                                .put_digest(key, digest, fresh_for.unwrap_or(self.ttl))
                                .await;
                        }
                        made
                    };
                    return shared.while_locked(&held, lock_lease, work).await;
                }
                Lock::Busy if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(poll).await;
                    if let Some(digest) = shared.digest(key).await {
                        return Ok((digest, None));
                    }
                }
                // Redis is gone, or the other instance is taking too long: make it here.
                Lock::Busy | Lock::Unavailable => return self.make(key, url, who).await,
            }
        }
    }

    /// The archived digest of `key` if it is younger than the cache TTL (with the rest of
    /// its freshness), else one fetched and made now, then archived. Reading the archive
    /// takes no fetch or CPU slot; an archive failure is logged and counts as a miss. A
    /// digest the summarizer's fallback made (an LLM that failed) is archived under the
    /// fallback's id and stays fresh only for the transient-failure time, so the configured
    /// summarizer is asked again soon.
    async fn make(
        &self,
        key: &str,
        url: &Url,
        who: Requester,
    ) -> Result<(Digest, Option<Duration>), DigestError> {
        if let Some(archive) = &self.archive {
            match archive.recall(key, self.ttl).await {
                Ok(Some(Archived { digest, age })) if age < self.ttl => {
                    metrics::counter!(ops::ARCHIVE_HITS).increment(1);
                    return Ok((digest, Some(self.ttl - age)));
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "could not read the digest archive"),
            }
        }
        let Made { digest, by } = self.fetch_and_digest(url, who).await?;
        let own = by == self.summarizer.id();
        if let Some(archive) = &self.archive {
            let kept_as = if own {
                key.to_owned()
            } else {
                relabelled(key, &by)
            };
            if let Err(e) = archive.keep(&kept_as, &digest).await {
                tracing::warn!(error = %e, "could not archive a digest");
            }
        }
        if own {
            Ok((digest, None))
        } else {
            tracing::info!(by, "a fallback digest is kept only briefly");
            Ok((digest, Some(self.fallback_ttl)))
        }
    }

    async fn fetch_and_digest(&self, url: &Url, who: Requester) -> Result<Made, DigestError> {
        let site = url.host_str().map(site_of);
        let page = {
            let _slot = self.fetches.enter(who, site).await;
            // Never closed, so a place always comes; it goes with the page once extracted.
            let place = Arc::clone(&self.pages).acquire_owned().await.ok();
            let started = Instant::now();
            let page = self.fetcher.get(url).await;
            metrics::histogram!(ops::FETCH_SECONDS).record(started.elapsed().as_secs_f64());
            (page?, place)
        };
        let (page, place) = page;
        let page = Page {
            url: Some(page.url),
            kind: page.kind,
            text: page.text,
            bytes: page.bytes,
            title: None,
            _place: place,
        };
        self.process(page, who).await
    }

    /// Extracts and summarizes a page on the CPU pool (the fetch slot is free by now), under
    /// the link's deadline. An LLM is asked after the CPU slot is given back; its answer is
    /// checked against the article (or the article ranked instead) in a CPU slot again, within
    /// what is left of the same deadline, so a large article never stems on an async worker.
    async fn process(&self, page: Page, who: Requester) -> Result<Made, DigestError> {
        let started = Instant::now();
        let url = page.url.clone();
        let deadline = self.cpu_deadline;
        let summarizer = Arc::clone(&self.summarizer);
        let pdf_limits = self.pdf_limits.clone();
        let markup = self.markup;
        let slot = self.cpu.enter(who, None).await;
        let cpu_started = Instant::now();
        let (article, summary, abstract_text) = blocking(move || {
            let ends = Instant::now() + deadline;
            Deadline::after(deadline).run(|| {
                let (article, abstract_text) = match page.kind {
                    PageKind::Html => (
                        extract::article_within(&page.text, page.url.as_ref(), &markup)?,
                        None,
                    ),
                    PageKind::PlainText => (
                        extract::plain_text(&page.text, page.title.as_deref())?,
                        None,
                    ),
                    // Read page by page against the same deadline as a web page.
                    PageKind::Pdf => {
                        let pdf = pdf::read(&page.bytes, &pdf_limits, ends)?;
                        (pdf.article, pdf.abstract_text)
                    }
                };
                drop(page);
                let summary = summarizer.rank_now(&article, RANKED_SENTENCES);
                Ok::<_, DigestError>((article, summary, abstract_text))
            })
        })
        .await?
        .map_err(|_| too_slow(deadline))??;
        let cpu_used = cpu_started.elapsed();
        drop(slot);
        let (article, summary) = match summary {
            Some(summary) => (article, summary.map(|s| (s, self.summarizer.id()))),
            None => {
                let draft = self.summarizer.draft(&article, RANKED_SENTENCES).await;
                let left = deadline.saturating_sub(cpu_used);
                let summarizer = Arc::clone(&self.summarizer);
                let _slot = self.cpu.enter(who, None).await;
                blocking(move || {
                    let summary = Deadline::after(left)
                        .run(|| summarizer.finish_labelled(&article, draft, RANKED_SENTENCES));
                    (article, summary)
                })
                .await
                .and_then(|(article, summary)| {
                    summary
                        .map(|s| (article, s))
                        .map_err(|_| too_slow(deadline))
                })?
            }
        };
        let (mut summary, by) = summary.map_err(|e| {
            tracing::warn!(error = %e, "summarizer failed");
            DigestError::Summarize
        })?;
        metrics::histogram!(ops::SUMMARIZE_SECONDS).record(started.elapsed().as_secs_f64());
        if summary.sentences.is_empty() {
            return Err(DigestError::Summarize);
        }
        if let Some(abstract_text) = &abstract_text {
            // A paper's abstract is what its authors chose to say first: its sentences lead
            // the ranking (a stable sort keeps the summarizer's order within each group).
            summary
                .sentences
                .sort_by_key(|s| !abstract_text.contains(s.text.as_str()));
        }
        Ok(Made {
            digest: Digest::new(&article, summary, url.as_ref()),
            by,
        })
    }

    /// How many CPU slots this service has handed out: one per page processed, and one more
    /// for checking an LLM's answer (for metrics and tests).
    pub fn cpu_slots_granted(&self) -> u64 {
        self.cpu.granted()
    }
}

/// The cache key `key` (summarizer id, `|`, link) with the summarizer id `by` instead.
fn relabelled(key: &str, by: &str) -> String {
    let link = key.split_once('|').map_or(key, |(_, link)| link);
    format!("{by}|{link}")
}

/// The link ran past its CPU deadline (logged).
fn too_slow(deadline: Duration) -> DigestError {
    tracing::info!(?deadline, "page processing ran past its deadline");
    DigestError::TooSlow
}

/// A digest just made, and the id of the summarizer that made it (the configured one's, or
/// its fallback's).
struct Made {
    digest: Digest,
    by: String,
}

/// A document to digest: fetched, or handed in by the command line.
struct Page {
    url: Option<Url>,
    kind: PageKind,
    /// The decoded text of a web page or a text file.
    text: String,
    /// The bytes of a PDF.
    bytes: Vec<u8>,
    title: Option<String>,
    /// The fetched page's place among those waiting for the CPU, given back with the page.
    _place: Option<OwnedSemaphorePermit>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn only_failures_that_may_pass_by_themselves_are_transient() {
        let transient = [
            FetchError::Dns {
                host: "flaky.example".into(),
                detail: "Temporary failure in name resolution".into(),
            },
            FetchError::Timeout(Duration::from_secs(15)),
            FetchError::Connect {
                detail: "refused".into(),
            },
            FetchError::ServerError(503),
            FetchError::Status(429),
            FetchError::Busy,
        ];
        for e in transient {
            assert!(DigestError::Fetch(e.clone()).is_transient(), "{e:?}");
        }
        let lasting = [
            DigestError::Fetch(FetchError::NoSuchHost {
                host: "gone.invalid".into(),
            }),
            DigestError::Fetch(FetchError::NotFound(404)),
            DigestError::Fetch(FetchError::NotFound(410)),
            DigestError::Fetch(FetchError::TooLarge(5 << 20)),
            DigestError::Fetch(FetchError::PrivateAddress {
                host: "10.0.0.1".into(),
                range: "private",
            }),
            DigestError::Fetch(FetchError::Status(400)),
            DigestError::Extract(ExtractError::Paywalled),
            DigestError::Extract(ExtractError::NoArticleText),
            DigestError::Pdf(PdfError::NoTextLayer),
            DigestError::TooSlow,
        ];
        for e in lasting {
            assert!(!e.is_transient(), "{e:?}");
        }
    }
}
