//! Summarizers: the [`Summarizer`] trait and the built-in extractive summarizer.
//!
//! - `sentences`: [`split_sentences`], the splitter (abbreviations, numbers, quotes, CJK).
//! - `tokens`: terms per language (stop words, stems, CJK character bigrams).
//! - `extractive`: [`Extractive`], which ranks sentences and drops near-duplicates.
//! - `tidy`: what a picked sentence loses before it is shown (a dateline tag, sharing labels).
//! - `grounding`: checks an LLM's sentences against the article (no links, no invented
//!   numbers or names).

mod extractive;
mod grounding;
pub mod openai;
mod sentences;
mod tidy;
mod tokens;

use async_trait::async_trait;
use thiserror::Error;

use crate::extract::Article;

pub use extractive::Extractive;
pub use sentences::split_sentences;

/// One summary sentence with its place in the article.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RankedSentence {
    /// The sentence as it reads in the article, less what a reader of the summary does not
    /// need (a dateline's source tag, sharing labels).
    pub text: String,
    /// Its index among the article's sentences, so a view can restore article order.
    pub position: usize,
}

/// Summary sentences ranked by importance, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// Best first; a view takes a prefix and shows it in article order.
    pub sentences: Vec<RankedSentence>,
}

/// Why a summarizer produced nothing.
#[derive(Debug, Error)]
pub enum SummarizeError {
    /// The article has no sentences to summarize.
    #[error("the article has no text to summarize")]
    Empty,
    /// The summarizer stopped unexpectedly (the details are logged).
    #[error("the summarizer failed")]
    Failed,
}

/// Turns an article into ranked summary sentences.
#[async_trait]
pub trait Summarizer: Send + Sync {
    /// A stable name for cache keys: it changes whenever the output would change
    /// (summarizer, model, prompt or algorithm version).
    fn id(&self) -> String;

    /// Ranks on the calling thread when no network is needed, so the service can run it on
    /// its CPU pool under the link's deadline; `None` means "ask [`Summarizer::draft`], then
    /// [`Summarizer::finish_now`] on the CPU pool".
    fn rank_now(
        &self,
        _article: &Article,
        _max_sentences: usize,
    ) -> Option<Result<Summary, SummarizeError>> {
        None
    }

    /// Asks a remote service for an unchecked summary, with no CPU-heavy work on the async
    /// worker (checking it is [`Summarizer::finish_now`]'s job); `None` when there is no
    /// remote service or it gave no answer (logged).
    async fn draft(&self, _article: &Article, _max_sentences: usize) -> Option<Summary> {
        None
    }

    /// Turns a [`Summarizer::draft`] into the summary on the calling thread: checks the draft
    /// against the article, or ranks the article itself when there is no usable draft. The
    /// service runs it on its CPU pool under the link's deadline.
    fn finish_now(
        &self,
        article: &Article,
        _draft: Option<Summary>,
        max_sentences: usize,
    ) -> Result<Summary, SummarizeError> {
        self.rank_now(article, max_sentences)
            .unwrap_or(Err(SummarizeError::Failed))
    }

    /// [`Summarizer::finish_now`], with the id of the summarizer that made the result: this
    /// one's, or its fallback's when it fell back (an LLM that failed or was not grounded),
    /// so the fallback is never kept as this summarizer's work.
    fn finish_labelled(
        &self,
        article: &Article,
        draft: Option<Summary>,
        max_sentences: usize,
    ) -> Result<(Summary, String), SummarizeError> {
        self.finish_now(article, draft, max_sentences)
            .map(|summary| (summary, self.id()))
    }

    /// Ranks up to `max_sentences` sentences of `article`, best first.
    async fn summarize(
        &self,
        article: &Article,
        max_sentences: usize,
    ) -> Result<Summary, SummarizeError>;
}
