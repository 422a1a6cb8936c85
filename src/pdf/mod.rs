//! PDF documents as articles: papers and reports read page by page within a deadline.
//!
//! [`read`] is a pure function of the bytes, the [`PdfLimits`] and a deadline, so it can run on
//! any blocking thread. lopdf parses the file and pdf-extract draws each page into a glyph
//! collector; a panic in either becomes [`PdfError::Broken`].
//!
//! - `guard`: object streams checked before loading, every stream capped after, loops cut.
//! - `glyphs`: the collector that keeps each glyph's position and size.
//! - `layout`: glyphs to lines in reading order, two columns read one after the other.
//! - `text`: running headers and page numbers dropped, hyphens joined, paragraphs, headings,
//!   title, abstract; references and appendices left out.

mod glyphs;
mod guard;
mod layout;
mod text;

pub mod hostile;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use lopdf::{Document, Object};
use thiserror::Error;

use crate::extract::{Article, BlockKind};

pub use crate::config::PdfLimits;

impl PdfLimits {
    /// Decoded bytes allowed across all streams of one document.
    fn max_total_stream_bytes(&self) -> usize {
        self.max_stream_bytes.saturating_mul(8)
    }
}

/// Why a PDF gave no article; the message is the short reason a user reads.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PdfError {
    /// No readable text: a scan, or pages of images.
    #[error("that PDF has no text layer")]
    NoTextLayer,
    /// The document needs a password to open.
    #[error("that PDF is encrypted")]
    Encrypted,
    /// The file is not a PDF that can be parsed.
    #[error("that PDF could not be read")]
    Broken,
    /// The document's streams decode to more than the reader allows.
    #[error("that PDF is too complex to read")]
    TooComplex,
    /// The deadline passed before any page was read.
    #[error("that PDF took too long to read")]
    TimedOut,
}

impl PdfError {
    /// A short stable label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            PdfError::NoTextLayer => "pdf_no_text",
            PdfError::Encrypted => "pdf_encrypted",
            PdfError::Broken => "pdf_broken",
            PdfError::TooComplex => "pdf_too_complex",
            PdfError::TimedOut => "pdf_timeout",
        }
    }
}

/// The article of a PDF and its abstract, which the digest ranks first.
#[derive(Debug, Clone, PartialEq)]
pub struct PdfArticle {
    /// Title, language and the body as headings and paragraphs (no references, no appendices).
    pub article: Article,
    /// The abstract's text, when the document has one.
    pub abstract_text: Option<String>,
}

/// Fewer visible characters than this is no text layer (a scan with a stray caption).
const MIN_TEXT_CHARS: usize = 40;

/// Reads the text of a PDF: at most `limits.max_pages` pages, one at a time until `deadline`
/// (pages read by then are kept). Never panics.
pub fn read(bytes: &[u8], limits: &PdfLimits, deadline: Instant) -> Result<PdfArticle, PdfError> {
    match catch_unwind(AssertUnwindSafe(|| read_unguarded(bytes, limits, deadline))) {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!("the PDF parser panicked");
            Err(PdfError::Broken)
        }
    }
}

/// Why lopdf could not load a file.
fn load_error(e: lopdf::Error) -> PdfError {
    match e {
        lopdf::Error::Decryption(_) => PdfError::Encrypted,
        e => {
            tracing::debug!(error = %e, "lopdf could not load the PDF");
            PdfError::Broken
        }
    }
}

/// Whether the bytes start like a PDF (the `%PDF-` signature within the first kilobyte).
pub fn is_pdf(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    head.windows(5).any(|w| w == b"%PDF-")
}

fn read_unguarded(
    bytes: &[u8],
    limits: &PdfLimits,
    deadline: Instant,
) -> Result<PdfArticle, PdfError> {
    if !is_pdf(bytes) {
        return Err(PdfError::Broken);
    }
    guard::prescan(bytes, limits, deadline)?;
    let mut doc = Document::load_mem(bytes).map_err(load_error)?;
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(PdfError::Encrypted);
    }
    guard::sanitize(&mut doc, limits, deadline)?;
    let info_title = info_title(&doc);

    let mut collector = glyphs::Collector::new(limits.max_glyphs_per_page);
    let mut pages = Vec::new();
    let mut out_of_time = false;
    for (&number, &id) in doc.get_pages().iter().take(limits.max_pages) {
        if Instant::now() >= deadline {
            out_of_time = true;
            break;
        }
        if !guard::page_is_sound(&doc, id) {
            continue;
        }
        let drawn = catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut collector, number)
        }));
        match drawn {
            Ok(Ok(())) => {}
            // What the page drew before it failed is kept.
            Ok(Err(e)) => tracing::debug!(page = number, error = %e, "PDF page stopped early"),
            Err(_) => tracing::debug!(page = number, "PDF page panicked"),
        }
        pages.push(layout::lines(std::mem::take(&mut collector.glyphs)));
    }
    if out_of_time && pages.iter().all(Vec::is_empty) {
        return Err(PdfError::TimedOut);
    }
    let body = text::body(pages, info_title.as_deref());
    let chars: usize = body
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Paragraph)
        .map(|b| b.text.chars().filter(|c| c.is_alphanumeric()).count())
        .sum();
    if chars < MIN_TEXT_CHARS {
        return Err(PdfError::NoTextLayer);
    }
    let title = info_title
        .or(body.title_on_page)
        .or_else(|| {
            body.blocks
                .iter()
                .find(|b| b.kind == BlockKind::Heading)
                .map(|b| b.text.clone())
        })
        .unwrap_or_default();
    let mut sample = String::new();
    for block in &body.blocks {
        if sample.len() > 4096 {
            break;
        }
        sample.push_str(&block.text);
        sample.push('\n');
    }
    let article = Article {
        title,
        lang: crate::lang::detect(&sample),
        blocks: body.blocks,
        ..Article::default()
    };
    Ok(PdfArticle {
        article,
        abstract_text: body.abstract_text,
    })
}

/// The document info's title, unless it is a file name or a placeholder.
fn info_title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let (_, info) = doc.dereference(info).ok()?;
    let title = info.as_dict().ok()?.get(b"Title").ok()?;
    let (_, title) = doc.dereference(title).ok()?;
    let Object::String(bytes, _) = title else {
        return None;
    };
    let title = decode_text_string(bytes);
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    let lower = title.to_lowercase();
    let placeholder = title.chars().filter(|c| c.is_alphabetic()).count() < 3
        || ["untitled", "title", "document", "slide 1"].contains(&lower.as_str())
        || lower.starts_with("microsoft word")
        || [
            ".doc", ".docx", ".pdf", ".tex", ".dvi", ".indd", ".odt", ".ps",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext));
    (!placeholder).then_some(title)
}

/// A PDF text string: UTF-16BE after a byte-order mark, UTF-8 after its mark, else
/// PDFDocEncoding (read as Latin-1, which it matches for letters).
fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(utf8) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(utf8).into_owned();
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests;
