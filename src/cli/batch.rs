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
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use url::Url;

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

/// One input line.
#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    id: Value,
    text: Option<String>,
    html: Option<String>,
    url: Option<String>,
}

/// Parses a line, or says why line `number` is not one.
fn parse(number: usize, raw: &str) -> Result<Line, String> {
    serde_json::from_str(raw).map_err(|e| format!("line {number} is not a JSON object: {e}"))
}

/// The error object of a line.
fn error(id: Value, e: impl std::fmt::Display) -> String {
    json!({"id": id, "error": format!("{e:#}")}).to_string()
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
    fn line(&self, number: usize, raw: String, pool: &Pool) -> Step {
        let line = match parse(number, &raw) {
            Ok(line) => line,
            Err(e) => return Step::Done(error(Value::Null, e)),
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
            json!({"id": id, "title": article.title, "text": article.text()}).to_string()
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
    fn line(&self, number: usize, raw: String, _pool: &Pool) -> Step {
        let line = match parse(number, &raw) {
            Ok(line) => line,
            Err(e) => return Step::Done(error(Value::Null, e)),
        };
        drop(raw);
        let waits = self.remote_summarizer || (line.text.is_none() && line.html.is_none());
        let (service, selection) = (Arc::clone(&self.service), self.selection);
        let id = line.id.clone();
        let digest = async move {
            match digest_line(&service, line).await {
                Ok(digest) => json!({
                    "id": id,
                    "title": digest.title,
                    "summary": selection.sentences(&digest).join("\n"),
                })
                .to_string(),
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
