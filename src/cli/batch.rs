//! The `--jsonl` batch modes: one JSON object per stdin line in, one per line out, in input
//! order, with the CPU work on a pool of all cores (see [`ordered`](super::ordered)).
//!
//! A bad line gets `{"id", "error"}` and the batch goes on. Lines that name only a `"url"` are
//! fetched on the runtime, at most `max_concurrent_fetches` at once.

use std::io::{BufReader, BufWriter};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use linkdigest::config::{Config, SummarizerKind};
use linkdigest::digest::{Digest, Service};
use linkdigest::extract::{self, Article, ExtractError};
use linkdigest::fetch::{Fetcher, PageKind};
use linkdigest::links::NormalizedUrl;
use linkdigest::pdf::{self, PdfLimits};
use serde::Serialize;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use url::Url;

use super::json_line::{self, Fields as Line};
use super::ordered::{self, LineWork, Options, Pool, Step};
use super::selection::Selection;

/// Longer lines get an error instead of being read into memory (a page is at most a few MiB;
/// JSON escaping can double it).
const MAX_LINE_BYTES: usize = 64 << 20;

/// Lines in flight per worker: enough that one slow page does not idle the other workers.
const LINES_PER_WORKER: usize = 4;

/// How the batch uses the machine.
#[derive(Debug, Clone, Copy)]
pub struct Threads {
    /// Worker threads for the CPU work; one per core unless the user says otherwise.
    pub workers: usize,
    /// Pages fetched at once for lines that name only a URL.
    pub fetches: usize,
}

impl Threads {
    /// `workers` threads (one per core when `None`) and the configured fetch bound.
    pub fn new(workers: Option<u16>, config: &Config) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Threads {
            workers: workers.map_or(cores, usize::from).max(1),
            fetches: config.max_concurrent_fetches.max(1),
        }
    }

    /// The lines in flight: a few per worker, plus room for every fetch.
    fn options(self) -> Options {
        Options {
            workers: self.workers,
            window: self.workers * LINES_PER_WORKER + self.fetches,
            max_line_bytes: MAX_LINE_BYTES,
        }
    }
}

/// Parses a line, or gives line `number`'s error object. The usual line is read by
/// [`json_line`] (which takes only valid UTF-8), anything else by `serde_json`.
fn parse(number: usize, raw: &[u8]) -> Result<Line, String> {
    if let Some(line) = json_line::parse(raw) {
        return Ok(line);
    }
    let Ok(raw) = simdutf8::basic::from_utf8(raw) else {
        return Err(error(Value::Null, format!("line {number} is not UTF-8")));
    };
    serde_json::from_str(raw).map_err(|e| {
        error(
            Value::Null,
            format!("line {number} is not a JSON object: {e}"),
        )
    })
}

/// The error object of a line.
fn error(id: Value, e: impl std::fmt::Display) -> String {
    let out = ErrorJson {
        error: &format!("{e:#}"),
        id: &id,
    };
    serde_json::to_string(&out).unwrap_or_default()
}

/// `{"error","id"}`, in the order the lines have always had (sorted keys).
#[derive(Serialize)]
struct ErrorJson<'a> {
    error: &'a str,
    id: &'a Value,
}

/// `{"id","text","title"}`, in the order the lines have always had (sorted keys).
#[derive(Serialize)]
struct ArticleJson<'a> {
    id: &'a Value,
    text: &'a str,
    title: &'a str,
}

/// `{"id","summary","title"}`, in the order the lines have always had (sorted keys).
#[derive(Serialize)]
struct DigestJson<'a> {
    id: &'a Value,
    summary: &'a str,
    title: &'a str,
}

/// Streams stdin through `work` and prints the results in input order.
async fn stream(work: impl LineWork, threads: Threads) -> anyhow::Result<()> {
    let runtime = Handle::current();
    let work = Arc::new(work);
    tokio::task::spawn_blocking(move || {
        let input = BufReader::with_capacity(1 << 20, std::io::stdin());
        let output = BufWriter::with_capacity(1 << 16, std::io::stdout());
        ordered::run(input, output, work, threads.options(), runtime)
    })
    .await
    .context("the batch stopped")?
    .context("cannot read stdin or write stdout")
}

/// Extracts each stdin line `{"id","html","url"?}` or `{"id","url"}`, printing
/// `{"id","title","text"}` or `{"id","error"}`.
pub async fn extract(config: &Config, threads: Threads) -> anyhow::Result<()> {
    let work = ExtractLines {
        fetcher: Fetcher::new(config.fetch.clone())?,
        fetches: Arc::new(Semaphore::new(threads.fetches)),
        pdf: config.pdf.clone(),
        pdf_time: config.fetch.timeout,
    };
    stream(work, threads).await
}

/// The work of `extract --jsonl`.
struct ExtractLines {
    fetcher: Fetcher,
    fetches: Arc<Semaphore>,
    /// Limits of a linked PDF, read within `pdf_time` like `extract paper.pdf`.
    pdf: PdfLimits,
    pdf_time: Duration,
}

impl LineWork for ExtractLines {
    fn line(&self, number: usize, raw: Vec<u8>, pool: &Pool) -> Step {
        let line = match parse(number, &raw) {
            Ok(line) => line,
            Err(e) => return Step::Done(e),
        };
        drop(raw);
        let id = line.id;
        if let Some(html) = line.html {
            let url = line.url.as_deref().and_then(|u| Url::parse(u).ok());
            return Step::Done(article_json(id, extract::article(&html, url.as_ref())));
        }
        let Some(url) = line.url else {
            return Step::Done(error(id, "the line has neither \"html\" nor \"url\""));
        };
        let (fetcher, fetches, pool) = (
            self.fetcher.clone(),
            Arc::clone(&self.fetches),
            pool.clone(),
        );
        let pdf = (self.pdf.clone(), self.pdf_time);
        Step::Later(Box::pin(async move {
            match fetch_article(&fetcher, &fetches, &pool, &url, pdf).await {
                Ok(article) => article_json(id, Ok(article)),
                Err(e) => error(id, e),
            }
        }))
    }

    fn failed(&self, number: usize, why: &str) -> String {
        error(Value::Null, format!("line {number} {why}"))
    }
}

/// Fetches `url` (holding one of the fetch permits) and extracts its article (a web page's
/// or a PDF's) on the pool.
async fn fetch_article(
    fetcher: &Fetcher,
    fetches: &Semaphore,
    pool: &Pool,
    url: &str,
    (pdf_limits, pdf_time): (PdfLimits, Duration),
) -> anyhow::Result<Article> {
    let url = NormalizedUrl::parse(url).with_context(|| url.to_owned())?;
    let page = {
        let _permit = fetches.acquire().await?;
        fetcher.get(url.url()).await?
    };
    pool.run(move || match page.kind {
        PageKind::Html => Ok(extract::article(&page.text, Some(&page.url))?),
        PageKind::PlainText => Ok(extract::plain_text(&page.text, None)?),
        PageKind::Pdf => {
            let deadline = Instant::now() + pdf_time;
            Ok(pdf::read(&page.bytes, &pdf_limits, deadline)?.article)
        }
    })
    .await
    .map_err(|_| anyhow::anyhow!("the page could not be processed"))?
}

fn article_json(id: Value, article: Result<Article, ExtractError>) -> String {
    match article {
        Ok(article) => {
            let out = ArticleJson {
                id: &id,
                text: &article.text(),
                title: &article.title,
            };
            serde_json::to_string(&out).unwrap_or_default()
        }
        Err(e) => error(id, e),
    }
}

/// Summarizes each stdin line, printing `{"id","title","summary"}` or `{"id","error"}`.
pub async fn summarize(
    service: Service,
    config: &Config,
    selection: Selection,
    threads: Threads,
) -> anyhow::Result<()> {
    let work = SummarizeLines {
        service: Arc::new(service),
        selection,
        runtime: Handle::current(),
        // An LLM is a network call: its lines wait on the runtime, not on a worker.
        remote_summarizer: config.summarizer != SummarizerKind::Extractive,
    };
    stream(work, threads).await
}

/// The work of `summarize --jsonl`.
struct SummarizeLines {
    service: Arc<Service>,
    selection: Selection,
    runtime: Handle,
    remote_summarizer: bool,
}

impl LineWork for SummarizeLines {
    fn line(&self, number: usize, raw: Vec<u8>, _pool: &Pool) -> Step {
        let line = match parse(number, &raw) {
            Ok(line) => line,
            Err(e) => return Step::Done(e),
        };
        drop(raw);
        let waits = self.remote_summarizer || (line.text.is_none() && line.html.is_none());
        let (service, selection) = (Arc::clone(&self.service), self.selection);
        let id = line.id.clone();
        let digest = async move {
            match digest_line(&service, line).await {
                Ok(digest) => {
                    let out = DigestJson {
                        id: &id,
                        summary: &selection.sentences(&digest).join("\n"),
                        title: &digest.title,
                    };
                    serde_json::to_string(&out).unwrap_or_default()
                }
                Err(e) => error(id, e),
            }
        };
        if waits {
            Step::Later(Box::pin(digest))
        } else {
            // The service parses on tokio's blocking threads while this worker waits, so the
            // pool still bounds the CPU work to one page per worker.
            Step::Done(self.runtime.block_on(digest))
        }
    }

    fn failed(&self, number: usize, why: &str) -> String {
        error(Value::Null, format!("line {number} {why}"))
    }
}

async fn digest_line(service: &Service, line: Line) -> anyhow::Result<Digest> {
    if let Some(text) = line.text {
        return Ok(service.digest_text(text, None).await?);
    }
    if let Some(html) = line.html {
        let url = line.url.as_deref().and_then(|u| Url::parse(u).ok());
        return Ok(service.digest_html(html, url).await?);
    }
    if let Some(url) = line.url {
        let url = NormalizedUrl::parse(&url).with_context(|| url.clone())?;
        return Ok(service
            .get(&url, linkdigest::digest::Requester::local())
            .await?
            .as_ref()
            .clone());
    }
    anyhow::bail!("the line has none of \"text\", \"html\" or \"url\"")
}
