//! The `--jsonl` batch modes: one JSON object per stdin line in, one per line out, in input
//! order, with the CPU work on a pool of all cores (see [`ordered`](super::ordered)).
//!
//! A bad line gets `{"id", "error"}` and the batch goes on. Lines that name only a `"url"` are
//! fetched on the runtime, at most `max_concurrent_fetches` at once.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::BufWriter;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use linkdigest::config::{Config, SummarizerKind};
use linkdigest::digest::{Digest, Service};
use linkdigest::extract::{self, Article, ExtractError, MarkupLimits};
use linkdigest::fetch::{Fetcher, PageKind};
use linkdigest::links::NormalizedUrl;
use linkdigest::pdf::{self, PdfLimits};
use serde::Serialize;
use serde_json::Value;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;
use url::Url;

use super::ordered::{self, LineBytes, LineWork, Options, Pool, Step};
use super::selection::Selection;

/// Longer lines get an error instead of being read into memory (a page is at most a few MiB;
/// JSON escaping can double it).
const MAX_LINE_BYTES: usize = 64 << 20;

/// Stdin is read in blocks of this size, which the lines in them share (a page is some
/// 200 KiB of JSON; a longer line gets a block of its own).
const BLOCK_BYTES: usize = 1 << 20;

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
            block_bytes: BLOCK_BYTES,
        }
    }
}

/// The fields of a batch input line, borrowed from the line where the parser can lend them.
#[derive(Debug, Default, PartialEq, serde::Deserialize)]
struct Line<'a> {
    /// The line's `id`, echoed in its output line (null when absent).
    #[serde(default)]
    id: Value,
    /// Plain text to summarize.
    #[serde(borrow)]
    text: Option<Field<'a>>,
    /// A page's HTML.
    #[serde(borrow)]
    html: Option<Field<'a>>,
    /// The page's address: the base of its links, or the page to fetch.
    #[serde(borrow)]
    url: Option<Field<'a>>,
}

impl Line<'_> {
    /// The line with its strings copied out of the buffer it was read from.
    fn into_owned(self) -> Line<'static> {
        let own = |field: Option<Field<'_>>| field.map(|f| Field(Cow::Owned(f.0.into_owned())));
        Line {
            id: self.id,
            text: own(self.text),
            html: own(self.html),
            url: own(self.url),
        }
    }
}

/// A string field of a line: borrowed when the parser unescaped it in place, owned when it
/// had to build it (serde_json does for a string with escapes).
#[derive(Debug, PartialEq)]
struct Field<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Field<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(input: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Cow<'de, str>;
            // the words of serde's own `String`, so errors read as they always have
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(s))
            }
            fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(s))
            }
        }
        input.deserialize_str(Visit).map(Field)
    }
}

impl std::ops::Deref for Field<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// A worker's buffers for parsing lines, kept from one line to the next so a line costs no
/// allocation: the line's padded copy, which `simd_json` unescapes in place and the fields
/// borrow, and the parser's own buffers.
struct Scratch {
    bytes: Vec<u8>,
    buffers: simd_json::Buffers,
    tape: simd_json::Tape<'static>,
}

/// Buffers grown past this by a long line are given back after it, so an idle worker holds
/// little.
const KEPT_SCRATCH_BYTES: usize = 8 << 20;

impl Scratch {
    fn new() -> Self {
        Scratch {
            bytes: Vec::new(),
            buffers: simd_json::Buffers::default(),
            tape: simd_json::Tape(Vec::new()),
        }
    }

    /// `raw` parsed by `simd_json` in this scratch space; `None` when it refuses the line.
    fn read(&mut self, raw: &[u8]) -> Option<Line<'_>> {
        let len = raw.len();
        self.bytes.clear();
        self.bytes.reserve(len + simd_json::INPUT_PADDING);
        self.bytes.extend_from_slice(raw);
        // what simd_json's own copy pads a line with
        self.bytes.resize(len + simd_json::INPUT_PADDING, b' ');
        let mut tape = std::mem::replace(&mut self.tape, simd_json::Tape(Vec::new())).reset();
        simd_json::fill_tape_padded(&mut self.bytes, len, &mut self.buffers, &mut tape).ok()?;
        let mut parsed = simd_json::Deserializer::from_tape(tape);
        let line = serde::Deserialize::deserialize(&mut parsed).ok();
        self.tape = parsed.into_tape().reset();
        line
    }

    /// Gives back what a long line grew: its bytes, or its tape (a line of many small values,
    /// `"id": [0, 0, ...]`, grows the tape and the structural indexes, not the bytes).
    fn trim(&mut self) {
        let tape_bytes = self.tape.0.capacity() * std::mem::size_of::<simd_json::Node<'_>>();
        if self.bytes.capacity() > KEPT_SCRATCH_BYTES || tape_bytes > KEPT_SCRATCH_BYTES {
            *self = Scratch::new();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

/// Parses line `number` and gives it to `then`, or gives the line's error object.
/// `simd_json` reads it in this thread's scratch space (a page's HTML has an escape every 15
/// to 20 bytes, which `serde_json` unescapes one at a time), so `raw` is let go before `then`
/// runs; a line it refuses is read again by `serde_json`, whose answer and error text are the
/// ones given.
fn with_line<R>(
    number: usize,
    raw: impl std::ops::Deref<Target = [u8]>,
    then: impl FnOnce(Line<'_>) -> R,
) -> Result<R, String> {
    SCRATCH.with_borrow_mut(|scratch| {
        let out = match scratch.read(&raw) {
            Some(line) => {
                drop(raw);
                Ok(then(line))
            }
            None => parse_slowly(number, &raw).map(then),
        };
        scratch.trim();
        out
    })
}

/// `serde_json`'s reading of a line, with its error text.
fn parse_slowly(number: usize, raw: &[u8]) -> Result<Line<'_>, String> {
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
        let input = std::io::stdin();
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
        markup: config.markup,
        fetches: Arc::new(Semaphore::new(threads.fetches)),
        pdf: config.pdf.clone(),
        pdf_time: config.fetch.timeout,
    };
    stream(work, threads).await
}

/// The work of `extract --jsonl`.
struct ExtractLines {
    fetcher: Fetcher,
    /// How much of a page's markup the parser sees, as in `extract FILE`.
    markup: MarkupLimits,
    fetches: Arc<Semaphore>,
    /// Limits of a linked PDF, read within `pdf_time` like `extract paper.pdf`.
    pdf: PdfLimits,
    pdf_time: Duration,
}

impl ExtractLines {
    /// A line's article, extracted from the HTML where the parser left it (no copy of its
    /// own), or its page fetched on the runtime.
    fn step(&self, line: Line<'_>, pool: &Pool) -> Step {
        let id = line.id;
        if let Some(html) = line.html {
            let url = line.url.as_deref().and_then(|u| Url::parse(u).ok());
            let article = extract::article_within(&html, url.as_ref(), &self.markup);
            return Step::Done(article_json(id, article));
        }
        let Some(url) = line.url else {
            return Step::Done(error(id, "the line has neither \"html\" nor \"url\""));
        };
        let url = url.0.into_owned();
        let (fetcher, fetches, pool, markup) = (
            self.fetcher.clone(),
            Arc::clone(&self.fetches),
            pool.clone(),
            self.markup,
        );
        let pdf = (self.pdf.clone(), self.pdf_time);
        Step::Later(Box::pin(async move {
            match fetch_article(&fetcher, &fetches, &pool, &url, markup, pdf).await {
                Ok(article) => article_json(id, Ok(article)),
                Err(e) => error(id, e),
            }
        }))
    }
}

impl LineWork for ExtractLines {
    fn line(&self, number: usize, raw: LineBytes, pool: &Pool) -> Step {
        with_line(number, raw, |line| self.step(line, pool)).unwrap_or_else(Step::Done)
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
    markup: MarkupLimits,
    (pdf_limits, pdf_time): (PdfLimits, Duration),
) -> anyhow::Result<Article> {
    let url = NormalizedUrl::parse(url).with_context(|| url.to_owned())?;
    let page = {
        let _permit = fetches.acquire().await?;
        fetcher.get(url.url()).await?
    };
    pool.run(move || match page.kind {
        PageKind::Html => Ok(extract::article_within(
            &page.text,
            Some(&page.url),
            &markup,
        )?),
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
    fn line(&self, number: usize, raw: LineBytes, _pool: &Pool) -> Step {
        let line = match with_line(number, raw, |line| line.into_owned()) {
            Ok(line) => line,
            Err(e) => return Step::Done(e),
        };
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

async fn digest_line(service: &Service, line: Line<'static>) -> anyhow::Result<Digest> {
    if let Some(text) = line.text {
        return Ok(service.digest_text(text.0.into_owned(), None).await?);
    }
    if let Some(html) = line.html {
        let url = line.url.as_deref().and_then(|u| Url::parse(u).ok());
        return Ok(service.digest_html(html.0.into_owned(), url).await?);
    }
    if let Some(url) = line.url {
        let url = NormalizedUrl::parse(&url).with_context(|| url.to_string())?;
        return Ok(service
            .get(&url, linkdigest::digest::Requester::local())
            .await?
            .as_ref()
            .clone());
    }
    anyhow::bail!("the line has none of \"text\", \"html\" or \"url\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What serde_json alone makes of the line.
    fn slow(line: &[u8]) -> Option<Line<'_>> {
        serde_json::from_slice(line).ok()
    }

    #[test]
    fn a_line_of_many_small_values_does_not_leave_its_tape_behind() {
        let zeros = vec!["0"; 2_000_000].join(",");
        let line = format!("{{\"html\":\"<p>x</p>\",\"id\":[{zeros}]}}\n");
        assert!(parse(1, line.as_bytes()).is_ok());
        let kept = SCRATCH.with_borrow(|s| {
            s.tape.0.capacity() * std::mem::size_of::<simd_json::Node<'_>>() + s.bytes.capacity()
        });
        assert!(kept <= 2 * KEPT_SCRATCH_BYTES, "{kept} bytes kept");
    }

    /// The batch's reading of line `number`, as an owned line or the error line.
    fn parse(number: usize, raw: &[u8]) -> Result<Line<'static>, String> {
        with_line(number, raw, |line| line.into_owned())
    }

    #[test]
    fn lines_read_as_serde_json_reads_them() {
        let lines = [
            json!({"id": "a", "html": "<p class=\"x\">Caf\u{e9}\n\t\\ / \u{1F600}</p>", "url": "https://example.com/a"}).to_string(),
            json!({"id": 7, "text": "One.\r\nTwo."}).to_string(),
            json!({"id": -1.5e3, "url": "https://example.com/"}).to_string(),
            json!({"id": null, "html": null, "text": "x"}).to_string(),
            json!({"id": true, "html": ""}).to_string(),
            json!({"id": [1, {"a": "b"}], "html": "x"}).to_string(),
            json!({}).to_string(),
            // escapes serde_json writes differently, and white space everywhere
            " { \"id\" : \"\\u00e9\\ud83d\\ude00\\/\\b\\f\" , \"html\" : \"a\\u0000b\" } \r\n".to_owned(),
            format!("{{\"html\": \"{}\\\"{}\"}}", "x".repeat(40), "y".repeat(33)),
            "{\"id\": 12345678901234567890}".to_owned(),
            "{\"id\": 0.1, \"text\": \"x\"}".to_owned(),
            "{\"other\": 1, \"html\": \"x\"}".to_owned(),
            "{\"ht\\u006dl\": \"x\"}".to_owned(),
        ];
        // one scratch space for all, as a worker reads its lines: a short line after a long
        // one sees nothing of it
        let mut scratch = Scratch::new();
        for line in lines.iter().chain(lines.iter().rev()) {
            // read by simd_json itself, not by the fallback
            let fast = scratch.read(line.as_bytes()).map(|line| line.into_owned());
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, slow(line.as_bytes()), "{line}");
            let read = parse(1, line.as_bytes()).ok();
            assert!(read.is_some(), "{line}");
            assert_eq!(read, slow(line.as_bytes()), "{line}");
        }
        // a number beyond 64 bits: simd_json refuses it, serde_json reads it as a float
        let line = b"{\"id\": 123456789012345678901234567890}";
        assert_eq!(parse(1, line).ok(), slow(line));
        assert!(slow(line).is_some_and(|l| l.id.is_f64()));
        // ... after a string simd_json has already unescaped in its copy of the line: the
        // fallback reads the line as it came
        let line =
            b"{\"html\": \"<p class=\\\"x\\\">\\u00e9\", \"id\": 123456789012345678901234567890}";
        assert!(Scratch::new().read(line).is_none());
        let read = parse(1, line).ok();
        assert_eq!(read, slow(line));
        assert_eq!(
            read.and_then(|l| l.html).as_deref(),
            Some("<p class=\"x\">\u{e9}")
        );
    }

    #[test]
    fn a_line_serde_json_refuses_gets_its_error() {
        let lines = [
            "",
            "[1]",
            "{\"id\": \"a\", \"html\": ",
            "{\"id\": \"a\" \"html\": \"x\"}",
            "{\"id\": \"a\",}",
            "{\"id\": \"a\"} x",
            "{\"html\": \"tab\tinside\"}",
            "{\"html\": \"bad \\x escape\"}",
            "{\"html\": \"lone \\ud800 surrogate\"}",
            "{\"html\": \"lone \\udc00 surrogate\"}",
            "{\"html\": \"short \\u12\"}",
            "{\"html\": 5}",
            "{\"id\": 1, \"id\": 2}",
            "{\"id\": 01}",
            "{\"id\": nul}",
            "{\"id\": NaN}",
        ];
        for line in lines {
            assert_eq!(slow(line.as_bytes()), None, "{line}");
            let e = parse(3, line.as_bytes()).expect_err(line);
            let e: Value = serde_json::from_str(&e).expect("an error line");
            let text = e["error"].as_str().unwrap_or_default();
            assert!(
                text.starts_with("line 3 is not a JSON object: "),
                "{line}: {text}"
            );
        }
    }

    #[test]
    fn a_line_that_is_not_utf8_says_so() {
        for line in [
            &b"{\"html\": \"caf\xe9\"}"[..],
            b"{\"id\": \"\xff\"}",
            b"\xef\xbb",
        ] {
            let e = parse(2, line).expect_err("not UTF-8");
            assert_eq!(e, r#"{"error":"line 2 is not UTF-8","id":null}"#);
        }
    }
}
