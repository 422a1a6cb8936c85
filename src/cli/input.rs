//! Where a command's page comes from: the web, a file, or stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use linkdigest::fetch::{self, Fetcher, PageKind};
use linkdigest::links::NormalizedUrl;
use url::Url;

/// A page source named on the command line.
pub enum Source {
    /// An http(s) link, fetched with the safe fetcher.
    Web(NormalizedUrl),
    /// A local HTML, text or PDF file.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Source {
    /// Reads `-` as stdin, `http(s)://…` as a link, anything else as a file path.
    pub fn parse(arg: &str) -> anyhow::Result<Self> {
        if arg == "-" {
            return Ok(Source::Stdin);
        }
        let lower = arg.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return NormalizedUrl::parse(arg)
                .map(Source::Web)
                .with_context(|| format!("{arg} is not a link that can be read"));
        }
        let path = Path::new(arg);
        if path.is_file() {
            return Ok(Source::File(path.to_owned()));
        }
        if arg.contains("://") {
            bail!("{arg}: only http and https links can be read");
        }
        bail!("{arg}: no such file (links must start with http:// or https://)");
    }
}

/// A page's decoded text and what it is.
pub struct Document {
    /// The text, decoded to UTF-8 (empty for a PDF).
    pub text: String,
    /// The raw bytes of a PDF (empty otherwise).
    pub bytes: Vec<u8>,
    /// HTML, plain text or PDF.
    pub kind: PageKind,
    /// Where it came from, when it came from the web.
    pub url: Option<Url>,
}

/// Loads the page from its source; links go through the safe fetcher.
pub async fn load(source: Source, fetcher: &Fetcher) -> anyhow::Result<Document> {
    match source {
        Source::Web(url) => {
            let page = fetcher.get(url.url()).await?;
            Ok(Document {
                text: page.text,
                bytes: page.bytes,
                kind: page.kind,
                url: Some(page.url),
            })
        }
        Source::File(path) => read_local(Some(&path)),
        Source::Stdin => read_local(None),
    }
}

/// Reads a local file, or stdin when `path` is `None`.
pub fn read_local(path: Option<&Path>) -> anyhow::Result<Document> {
    let bytes = match path {
        Some(path) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .context("cannot read stdin")?;
            bytes
        }
    };
    decode(&bytes, path)
}

/// Decodes a local document's bytes, telling HTML from text by extension, then by content.
fn decode(bytes: &[u8], path: Option<&Path>) -> anyhow::Result<Document> {
    let ext = path
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let kind = match ext.as_deref() {
        Some("html" | "htm" | "xhtml") => Some(PageKind::Html),
        Some("txt" | "text" | "md") => Some(PageKind::PlainText),
        Some("pdf") => Some(PageKind::Pdf),
        _ => None,
    };
    let (kind, text) = fetch::decode_document(bytes, kind)?;
    Ok(Document {
        text,
        bytes: if kind == PageKind::Pdf {
            bytes.to_vec()
        } else {
            Vec::new()
        },
        kind,
        url: None,
    })
}
