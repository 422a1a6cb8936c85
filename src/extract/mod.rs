//! Main-content extraction: the article's text and metadata without the page around it.

mod clean;
mod content;
mod depth;
mod jsonld;
mod metadata;
mod text;

use std::collections::HashSet;
use thiserror::Error;
use url::Url;

pub use crate::config::MarkupLimits;

/// The cleaned article: metadata plus the body as paragraphs and headings in page order.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Article {
    /// The headline (og:title, JSON-LD headline, h1, or `<title>` without the site suffix).
    pub title: String,
    /// The publication's name (og:site_name, JSON-LD publisher), if the page says.
    pub site_name: Option<String>,
    /// The author line, if the page says.
    pub byline: Option<String>,
    /// The publication time as the page gives it (usually ISO 8601).
    pub published: Option<String>,
    /// ISO 639-1 language code from `<html lang>`, else detected from the text.
    pub lang: Option<String>,
    /// The canonical URL (`<link rel=canonical>` or og:url), absolute.
    pub canonical_url: Option<String>,
    /// The article body in page order.
    pub blocks: Vec<Block>,
    /// The page marks the article as paid and shows only this preview of it (a teaser).
    #[serde(default)]
    pub preview_only: bool,
}

/// One paragraph or heading of the article body.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Block {
    /// Whether this is a heading or body text.
    pub kind: BlockKind,
    /// The text with whitespace collapsed.
    pub text: String,
}

/// The kind of an article block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockKind {
    /// A subheading inside the article.
    Heading,
    /// A paragraph, list item or quote of body text.
    Paragraph,
}

/// Why no article could be extracted.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ExtractError {
    /// The page has too little readable text to be an article (a menu, a consent wall…).
    #[error("no article text found on that page")]
    NoArticleText,
    /// The page marks its article as paid and shows no text of it at all.
    #[error("that article is behind a paywall")]
    Paywalled,
}

/// Fewer visible characters than this is not an article (a menu, a consent wall, a teaser).
const MIN_ARTICLE_CHARS: usize = 40;

/// A page marked paywalled with less text than this shows a teaser (read as a preview), not
/// the article.
const PAYWALL_TEASER_CHARS: usize = 1500;

impl Article {
    /// The body as plain text: blocks joined by blank lines.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for block in &self.blocks {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&block.text);
        }
        out
    }

    /// Words in the body, for reading time (Chinese and Japanese count two characters a word).
    pub fn word_count(&self) -> usize {
        self.blocks.iter().map(|b| text::word_count(&b.text)).sum()
    }
}

/// Extracts the article from an HTML document; `base` resolves relative URLs.
pub fn article(html: &str, base: Option<&Url>) -> Result<Article, ExtractError> {
    article_within(html, base, &MarkupLimits::default())
}

/// [`article`] with the parser seeing only as much markup as `limits` allow.
pub fn article_within(
    html: &str,
    base: Option<&Url>,
    limits: &MarkupLimits,
) -> Result<Article, ExtractError> {
    let bounded = depth::bound(html, limits);
    let doc = scraper::Html::parse_document(&bounded);
    let mut walk = content::walk(&doc);
    drop(doc);
    let ld = jsonld::parse(&walk.meta.json_ld);
    let selected = content::select(&mut walk);
    let h1 = walk.meta.h1s.first().map(String::as_str);
    let meta = metadata::resolve(&walk.meta, &ld, h1, base);
    let mut body_started = false;
    let title_words = metadata::Words::of(&meta.title);
    let mut blocks: Vec<Block> = selected
        .iter()
        .map(|&i| &walk.segs[i])
        // the headline repeated above the body is the title, not a subheading
        .filter(|seg| {
            let repeats_title =
                !body_started && repeats_title(&meta.title, &title_words, &seg.text, seg.heading);
            body_started |= !seg.heading && !repeats_title;
            !repeats_title
        })
        .map(|seg| Block {
            kind: if seg.heading {
                BlockKind::Heading
            } else {
                BlockKind::Paragraph
            },
            text: seg.text.clone(),
        })
        .collect();
    if let Some(body) = ld.body.as_deref() {
        let dom_chars: usize = blocks.iter().map(|b| text::visible_chars(&b.text)).sum();
        let body_chars = text::visible_chars(body);
        if body_chars > dom_chars + dom_chars / 3 {
            let visible: HashSet<&str> = walk
                .segs
                .iter()
                .flat_map(|s| s.text.split(|c: char| !c.is_alphanumeric()))
                .filter(|w| !w.is_empty())
                .collect();
            if jsonld::body_is_sound(body, &visible) {
                tracing::debug!(dom_chars, body_chars, "using JSON-LD articleBody");
                blocks = text::paragraphs(body)
                    .into_iter()
                    .map(|text| Block {
                        kind: BlockKind::Paragraph,
                        text,
                    })
                    .collect();
            }
        }
    }
    let chars: usize = blocks.iter().map(|b| text::visible_chars(&b.text)).sum();
    if chars < MIN_ARTICLE_CHARS {
        // nothing to read: a paid article says why
        return Err(if ld.paywalled {
            ExtractError::Paywalled
        } else {
            ExtractError::NoArticleText
        });
    }
    // a paid article's teaser is a short article of its own, marked as a preview
    let preview_only = ld.paywalled && chars < PAYWALL_TEASER_CHARS;
    let mut article = Article {
        title: meta.title,
        site_name: meta.site_name,
        byline: meta.byline,
        published: meta.published,
        lang: meta.lang,
        canonical_url: meta.canonical_url,
        blocks,
        preview_only,
    };
    if article.lang.is_none() {
        article.lang = detect_lang(&article);
    }
    Ok(article)
}

/// Builds an article from plain text: paragraphs are separated by blank lines (or by single
/// newlines when there are no blank lines); the title is `title`, else empty.
pub fn plain_text(text: &str, title: Option<&str>) -> Result<Article, ExtractError> {
    let blocks: Vec<Block> = text::paragraphs(text)
        .into_iter()
        .map(|text| Block {
            kind: BlockKind::Paragraph,
            text,
        })
        .collect();
    if blocks.is_empty() {
        return Err(ExtractError::NoArticleText);
    }
    let mut article = Article {
        title: title.map(text::collapse).unwrap_or_default(),
        blocks,
        ..Article::default()
    };
    article.lang = detect_lang(&article);
    Ok(article)
}

/// Whether a block before the body repeats the title: any heading like it, or a short
/// paragraph that says the same words.
/// `title_words` are the title's words, split once for every block.
fn repeats_title(title: &str, title_words: &metadata::Words, block: &str, heading: bool) -> bool {
    if heading {
        return title_words.share_of(block) > 0.75;
    }
    block.len() <= title.len() * 2
        && title_words.share_of(block) > 0.75
        && title_words.share_in(block) > 0.75
}

/// Detects the language from the first few kilobytes of the body: enough to tell, and a
/// 5 MB page costs no more than a short one.
fn detect_lang(article: &Article) -> Option<String> {
    const SAMPLE_BYTES: usize = 4096;
    let mut sample = String::new();
    for block in &article.blocks {
        if sample.len() >= SAMPLE_BYTES {
            break;
        }
        let room = SAMPLE_BYTES - sample.len();
        let cut = (0..=room.min(block.text.len()))
            .rev()
            .find(|&i| block.text.is_char_boundary(i))
            .unwrap_or(0);
        sample.push_str(&block.text[..cut]);
        sample.push('\n');
    }
    crate::lang::detect(&sample)
}

#[cfg(test)]
mod tests;
