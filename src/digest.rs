//! The pipeline service (fetch → extract → summarize → cache) and the [`Digest`] it produces.
//!
//! A digest keeps every summary sentence ranked, so each chat's length setting, collapsed or
//! expanded, is rendered from one cached entry without summarizing again.

pub mod admission;
pub mod archive;
mod length;
mod service;

pub use crate::truncate::truncate_at_word;
pub use admission::Requester;
pub use archive::{ArchiveError, Archived, DigestArchive};
pub use length::{Length, LengthSpec, UnknownLength};
pub use service::{DEFAULT_CONCURRENT_FETCHES, DigestError, Service, WorkLimits};

use serde::{Deserialize, Serialize};
use url::Url;

use crate::extract::Article;
use crate::summarize::{RankedSentence, Summary};

/// Words a minute used for the reading-time estimate.
const WORDS_PER_MINUTE: usize = 230;

/// Longest summary sentence kept, in characters; a longer one is cut at a word with "…".
pub const MAX_SENTENCE_CHARS: usize = 600;

/// Longest title kept, in characters.
pub const MAX_TITLE_CHARS: usize = 300;

/// Longest site name kept, in characters.
pub const MAX_SITE_CHARS: usize = 100;

/// Longest page URL kept, in bytes; a longer one (a canonical URL a page made up) is dropped.
pub const MAX_URL_BYTES: usize = 2048;

/// Largest digest kept (title, site, URL and sentences, in bytes): later sentences are
/// dropped until it fits, so the cache, SQLite and Redis hold small entries.
pub const MAX_DIGEST_BYTES: usize = 16 * 1024;

/// Everything shown about one article, at any length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    /// The article's headline (may be empty for a plain text without one).
    pub title: String,
    /// The publication's name, or the host when the page does not say.
    pub site: String,
    /// The page the digest was made from, when it came from the web or declares one.
    pub url: Option<String>,
    /// ISO 639-1 language code of the article, when known.
    pub lang: Option<String>,
    /// Estimated minutes to read the whole article (at least 1).
    pub reading_minutes: u32,
    /// Summary sentences ranked by importance, best first.
    pub sentences: Vec<RankedSentence>,
    /// The page shows only a paid article's preview; the digest says so.
    #[serde(default)]
    pub preview_only: bool,
}

impl Digest {
    /// Assembles a digest from an extracted article, its summary, and the page it came from.
    pub fn new(article: &Article, summary: Summary, page_url: Option<&Url>) -> Self {
        let url = page_url
            .map(Url::to_string)
            .filter(|u| u.len() <= MAX_URL_BYTES)
            .or_else(|| article.canonical_url.clone())
            .filter(|u| u.len() <= MAX_URL_BYTES)
            .or_else(|| page_url.map(|u| u.origin().ascii_serialization()))
            .filter(|u| u.len() <= MAX_URL_BYTES && u != "null");
        let host = url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches("www.").to_owned())
            });
        let site = article
            .site_name
            .clone()
            .filter(|s| !s.trim().is_empty())
            .or(host)
            .unwrap_or_default();
        let minutes = article.word_count().div_ceil(WORDS_PER_MINUTE).max(1);
        let title = truncate_at_word(&article.title, MAX_TITLE_CHARS);
        let site = truncate_at_word(&site, MAX_SITE_CHARS);
        let mut room = MAX_DIGEST_BYTES
            .saturating_sub(title.len() + site.len() + url.as_deref().map_or(0, str::len));
        let mut sentences = Vec::with_capacity(summary.sentences.len());
        for sentence in summary.sentences {
            let text = truncate_at_word(&sentence.text, MAX_SENTENCE_CHARS);
            if text.len() > room {
                break;
            }
            room -= text.len();
            sentences.push(RankedSentence { text, ..sentence });
        }
        Digest {
            title,
            site,
            url,
            lang: article.lang.clone().filter(|l| l.len() <= 16),
            reading_minutes: u32::try_from(minutes).unwrap_or(u32::MAX),
            sentences,
            preview_only: article.preview_only,
        }
    }

    /// The digest's size in bytes, roughly as stored (text fields only).
    pub fn size_bytes(&self) -> usize {
        self.title.len()
            + self.site.len()
            + self.url.as_deref().map_or(0, str::len)
            + self.lang.as_deref().map_or(0, str::len)
            + self
                .sentences
                .iter()
                .map(|s| s.text.len() + 8)
                .sum::<usize>()
            + 64
    }

    /// The sentences to show for `length`, collapsed or expanded, in article order.
    pub fn view(&self, length: Length, expanded: bool) -> Vec<String> {
        let spec = length.spec();
        if expanded {
            self.top(spec.expanded)
        } else {
            self.collapsed(spec)
        }
    }

    /// The `n` best sentences in article order, without a character bound.
    pub fn top(&self, n: usize) -> Vec<String> {
        let mut picked: Vec<&RankedSentence> = self.sentences.iter().take(n).collect();
        picked.sort_by_key(|s| s.position);
        picked.into_iter().map(|s| s.text.clone()).collect()
    }

    /// The best sentences that fit the preset's count and character budget, in article order.
    fn collapsed(&self, spec: LengthSpec) -> Vec<String> {
        let mut picked: Vec<&RankedSentence> = Vec::new();
        let mut used = 0;
        for sentence in &self.sentences {
            if picked.len() == spec.max_sentences {
                break;
            }
            let len = sentence.text.chars().count();
            if used + len <= spec.max_chars {
                used += len;
                picked.push(sentence);
            }
        }
        if picked.is_empty() {
            // Even the best sentence is over the budget: show it cut at a word.
            return self
                .sentences
                .first()
                .map(|s| vec![truncate_at_word(&s.text, spec.max_chars)])
                .unwrap_or_default();
        }
        picked.sort_by_key(|s| s.position);
        picked.into_iter().map(|s| s.text.clone()).collect()
    }
}

impl crate::cache::Weight for Digest {
    fn weight(&self) -> usize {
        self.size_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(text: &str, position: usize) -> RankedSentence {
        RankedSentence {
            text: text.to_owned(),
            position,
        }
    }

    fn digest(sentences: Vec<RankedSentence>) -> Digest {
        Digest {
            title: "T".into(),
            site: "example.org".into(),
            url: None,
            lang: Some("en".into()),
            reading_minutes: 1,
            sentences,
            preview_only: false,
        }
    }

    /// Twelve 60-character sentences ranked in reverse article order.
    fn twelve() -> Digest {
        digest(
            (0..12)
                .rev()
                .map(|i| sentence(&format!("Sentence {i:02} {}.", "x".repeat(47)), i))
                .collect(),
        )
    }

    #[test]
    fn collapsed_views_show_the_best_sentences_in_article_order() {
        let d = twelve();
        let short = d.view(Length::Short, false);
        assert_eq!(short.len(), 2);
        assert!(short[0].starts_with("Sentence 10"));
        assert!(short[1].starts_with("Sentence 11"));
        assert_eq!(d.view(Length::Medium, false).len(), 3);
        assert_eq!(d.view(Length::Long, false).len(), 5);
    }

    #[test]
    fn expanded_views_grow_with_the_length() {
        let d = twelve();
        assert_eq!(d.view(Length::Short, true).len(), 5);
        assert_eq!(d.view(Length::Medium, true).len(), 8);
        assert_eq!(d.view(Length::Long, true).len(), 12);
        let long = d.view(Length::Long, true);
        assert!(long[0].starts_with("Sentence 00") && long[11].starts_with("Sentence 11"));
    }

    #[test]
    fn collapsed_views_keep_to_the_character_budget() {
        let long = "word ".repeat(40); // 200 characters
        let d = digest(vec![
            sentence(long.trim(), 0),
            sentence(long.trim(), 1),
            sentence("A short one.", 2),
        ]);
        let short = d.view(Length::Short, false);
        let chars: usize = short.iter().map(|s| s.chars().count()).sum();
        assert!(chars <= 250, "{chars} characters");
        assert_eq!(short.len(), 2, "the short sentence still fits: {short:?}");
    }

    #[test]
    fn a_sentence_over_the_budget_is_cut_at_a_word() {
        let d = digest(vec![sentence(&"lengthy ".repeat(60), 0)]);
        let short = d.view(Length::Short, false);
        assert_eq!(short.len(), 1);
        assert!(short[0].ends_with("lengthy…"), "{}", short[0]);
        assert!(short[0].chars().count() <= 250);
    }

    #[test]
    fn a_short_text_comes_back_whole() {
        let d = digest(vec![sentence("Only one.", 0)]);
        assert_eq!(d.view(Length::Long, false), vec!["Only one."]);
        assert_eq!(d.view(Length::Long, true), vec!["Only one."]);
        assert!(digest(vec![]).view(Length::Short, false).is_empty());
    }

    #[test]
    fn truncation_handles_text_without_spaces() {
        let cjk = "这是一个很长的句子".repeat(40);
        let cut = truncate_at_word(&cjk, 50);
        assert_eq!(cut.chars().count(), 50);
        assert!(cut.ends_with('…'));
        assert_eq!(truncate_at_word("short", 50), "short");
    }

    #[test]
    fn a_page_url_too_long_to_store_still_leaves_a_source_link() {
        let long =
            Url::parse(&format!("https://news.example.org/a?{}", "q".repeat(3000))).expect("url");
        let article = Article {
            canonical_url: Some("https://news.example.org/story".into()),
            ..Article::default()
        };
        let summary = Summary {
            sentences: vec![sentence("One.", 0)],
        };
        let d = Digest::new(&article, summary.clone(), Some(&long));
        assert_eq!(d.url.as_deref(), Some("https://news.example.org/story"));
        let d = Digest::new(&Article::default(), summary, Some(&long));
        assert_eq!(d.url.as_deref(), Some("https://news.example.org"));
    }

    #[test]
    fn a_digest_of_endless_text_stays_small() {
        let article = Article {
            title: "Title ".repeat(100_000),
            site_name: Some("Site ".repeat(1000)),
            canonical_url: Some(format!("https://example.org/{}", "a".repeat(100_000))),
            ..Article::default()
        };
        let summary = Summary {
            sentences: (0..12)
                .map(|i| sentence(&"word after word ".repeat(20_000), i))
                .collect(),
        };
        let d = Digest::new(&article, summary, None);
        assert!(d.title.chars().count() <= MAX_TITLE_CHARS && d.title.ends_with('…'));
        assert!(d.site.chars().count() <= MAX_SITE_CHARS);
        assert_eq!(d.url, None);
        assert!(
            d.sentences
                .iter()
                .all(|s| s.text.chars().count() <= MAX_SENTENCE_CHARS)
        );
        assert!(
            d.sentences.len() >= 5,
            "{} sentences kept",
            d.sentences.len()
        );
        let json = serde_json::to_string(&d).unwrap();
        assert!(
            json.len() <= MAX_DIGEST_BYTES + 1024,
            "{} bytes",
            json.len()
        );
    }

    #[test]
    fn digest_takes_site_and_reading_time_from_the_article() {
        let article = Article {
            title: "Headline".into(),
            blocks: vec![crate::extract::Block {
                kind: crate::extract::BlockKind::Paragraph,
                text: "word ".repeat(500),
            }],
            ..Article::default()
        };
        let url = Url::parse("https://www.example.org/a").unwrap();
        let d = Digest::new(&article, Summary::default(), Some(&url));
        assert_eq!(d.site, "example.org");
        assert_eq!(d.reading_minutes, 3);
        assert_eq!(d.url.as_deref(), Some("https://www.example.org/a"));
    }
}
