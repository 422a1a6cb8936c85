//! The built-in extractive summarizer: ranks the article's own sentences by centrality,
//! position (trusted as much as the opening is central), overlap with the title and length,
//! drops near-duplicates, puts first whichever of the best few covers the most, and tidies
//! the picks (no dateline tag, no sharing labels glued to a sentence).

use std::collections::HashMap;

use async_trait::async_trait;

use super::sentences::sentence_spans;
use super::tidy::tidy;
use super::tokens::{Analyzer, Piece};
use super::{RankedSentence, SummarizeError, Summarizer, Summary};
use crate::extract::{Article, BlockKind};

/// The version in [`Extractive::id`]; bump it whenever the output changes.
const VERSION: u32 = 8;

/// How many blocks language detection reads: enough to tell the language.
const DETECT_SAMPLE_BLOCKS: usize = 8;

/// How much of each of those blocks detection reads.
const DETECT_SAMPLE_CHARS: usize = 600;

/// How many sentences from the top are ranked at most.
const MAX_CANDIDATES: usize = 400;

/// Share of shared terms above which two sentences say the same thing.
const DUPLICATE_JACCARD: f32 = 0.4;

/// Sentences at the top that all get the full position prior (a lead, not one sentence).
const LEAD_SENTENCES: f32 = 3.0;

/// Weight of the position prior for a text whose first sentence is its most central one; a
/// text that opens off topic (a scene, a quote) gets less, in proportion.
const LEAD_WEIGHT: f32 = 1.25;

/// How many of the best sentences compete for first place on how much of the text they cover.
const OPENER_POOL: usize = 3;

/// How much a sentence's coverage is discounted for its number of terms (0 none, 1 average).
const COVERAGE_LENGTH_DISCOUNT: f32 = 0.3;

/// How fast the position prior decays after the lead, in sentences.
const POSITION_DECAY: f32 = 4.0;

/// Sentences shorter than this many words lose weight in proportion (fragments, captions).
const SHORT_WORDS: f32 = 12.0;

/// Sentences longer than this many words lose weight in proportion (run-ons, lists).
const LONG_WORDS: f32 = 35.0;

/// Weight of the share of the title's terms a sentence holds.
const TITLE_WEIGHT: f32 = 0.5;

/// Weight of the share of the subheadings' terms a sentence holds.
const HEADING_WEIGHT: f32 = 0.1;

/// Factor for a sentence that opens with a quotation: speech colours a story more than it
/// sums it up.
const QUOTE_FACTOR: f32 = 0.7;

/// The extractive summarizer: no key, no network, any language.
#[derive(Debug, Clone, Default)]
pub struct Extractive {}

impl Extractive {
    /// A summarizer with the default weights.
    pub fn new() -> Self {
        Self {}
    }

    /// Ranks up to `max_sentences` of the article's body sentences, best first, without
    /// near-duplicates; an article with no more sentences than that comes back whole.
    pub fn rank(&self, article: &Article, max_sentences: usize) -> Result<Summary, SummarizeError> {
        let lang = article.lang.clone().or_else(|| detect_language(article));
        let lang = lang.as_deref();
        let analyzer = Analyzer::new(lang);

        let mut sentences: Vec<&str> = Vec::new();
        let mut heading_text = String::new();
        for block in &article.blocks {
            match block.kind {
                BlockKind::Paragraph => sentences.extend(sentence_spans(&block.text, lang)),
                BlockKind::Heading => {
                    heading_text.push_str(&block.text);
                    heading_text.push('\n');
                }
            }
        }
        if sentences.is_empty() {
            return Err(SummarizeError::Empty);
        }
        tracing::debug!(
            lang = lang.unwrap_or("unknown"),
            sentences = sentences.len(),
            "ranking sentences"
        );
        // Dropping near-duplicates is quadratic; a book-length page is ranked on its opening part.
        let candidates = &sentences[..sentences.len().min(MAX_CANDIDATES)];

        let mut vocab = Vocabulary::default();
        let bags: Vec<Vec<(u32, f32)>> =
            candidates.iter().map(|s| vocab.bag(&analyzer, s)).collect();
        let title = vocab.set(&analyzer, &article.title);
        let headings = vocab.set(&analyzer, &heading_text);
        let vectors = tf_idf(&bags, vocab.len());
        let mut order = select(candidates, &bags, &vectors, &title, &headings);

        let take = if sentences.len() <= max_sentences {
            // The whole text was asked for: the sentences beyond the candidates go last.
            order.ranked.extend(candidates.len()..sentences.len());
            sentences.len()
        } else {
            max_sentences.min(order.kept)
        };
        let ranked = order
            .ranked
            .iter()
            .take(take)
            .map(|&i| RankedSentence {
                text: tidy(sentences[i], i == 0).into_owned(),
                position: i,
            })
            .collect();
        Ok(Summary { sentences: ranked })
    }
}

#[async_trait]
impl Summarizer for Extractive {
    fn id(&self) -> String {
        format!("extractive-v{VERSION}")
    }

    fn rank_now(
        &self,
        article: &Article,
        max_sentences: usize,
    ) -> Option<Result<Summary, SummarizeError>> {
        Some(self.rank(article, max_sentences))
    }

    async fn summarize(
        &self,
        article: &Article,
        max_sentences: usize,
    ) -> Result<Summary, SummarizeError> {
        // Ranking is CPU work: off the async workers, and a panic in it stays contained.
        let (ranker, article) = (self.clone(), article.clone());
        tokio::task::spawn_blocking(move || ranker.rank(&article, max_sentences))
            .await
            .map_err(|_| SummarizeError::Failed)?
    }
}

/// Detects the language from the title and the opening of the first blocks.
fn detect_language(article: &Article) -> Option<String> {
    let mut sample = article.title.clone();
    for block in article.blocks.iter().take(DETECT_SAMPLE_BLOCKS) {
        sample.push('\n');
        sample.extend(block.text.chars().take(DETECT_SAMPLE_CHARS));
    }
    crate::lang::detect(&sample)
}

/// Term ids for one article.
#[derive(Default)]
struct Vocabulary {
    ids: HashMap<String, u32>,
    /// Each word's term id (`None` for stop words), so a repeated word is stemmed once.
    words: HashMap<String, Option<u32>>,
}

impl Vocabulary {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn id(&mut self, term: &str) -> u32 {
        if let Some(&id) = self.ids.get(term) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(term.to_owned(), id);
        id
    }

    /// The terms of `text` with their counts, sorted by id.
    fn bag(&mut self, analyzer: &Analyzer, text: &str) -> Vec<(u32, f32)> {
        let mut ids = Vec::new();
        analyzer.pieces(text, |piece| {
            let id = match piece {
                Piece::Gram(g) => Some(self.id(g)),
                Piece::Word(w) => match self.words.get(w) {
                    Some(&id) => id,
                    None => {
                        let id = analyzer.word_term(w).map(|t| self.id(&t));
                        self.words.insert(w.to_owned(), id);
                        id
                    }
                },
            };
            ids.extend(id);
        });
        ids.sort_unstable();
        let mut bag: Vec<(u32, f32)> = Vec::with_capacity(ids.len());
        for id in ids {
            match bag.last_mut() {
                Some((last, count)) if *last == id => *count += 1.0,
                _ => bag.push((id, 1.0)),
            }
        }
        bag
    }

    /// The distinct terms of `text`, sorted.
    fn set(&mut self, analyzer: &Analyzer, text: &str) -> Vec<u32> {
        self.bag(analyzer, text)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }
}

/// Unit-length tf-idf vectors, idf counted over the article's sentences.
fn tf_idf(bags: &[Vec<(u32, f32)>], vocab: usize) -> Vec<Vec<(u32, f32)>> {
    let mut df = vec![0u32; vocab];
    for bag in bags {
        for &(id, _) in bag {
            df[id as usize] += 1;
        }
    }
    let n = bags.len() as f32;
    bags.iter()
        .map(|bag| {
            let mut v: Vec<(u32, f32)> = bag
                .iter()
                .map(|&(id, tf)| {
                    (
                        id,
                        (1.0 + tf.ln()) * (1.0 + n / df[id as usize] as f32).ln(),
                    )
                })
                .collect();
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
            if norm > 0.0 {
                v.iter_mut().for_each(|(_, w)| *w /= norm);
            }
            v
        })
        .collect()
}

/// Each sentence's summed cosine with every later sentence, in one pass from the end that
/// keeps the sum of the later vectors: linear in the number of terms, not quadratic in the
/// number of sentences.
fn forward_centrality(vectors: &[Vec<(u32, f32)>]) -> Vec<f32> {
    let vocab = vectors
        .iter()
        .flat_map(|v| v.iter().map(|&(id, _)| id as usize + 1))
        .max()
        .unwrap_or(0);
    let mut later = vec![0.0f32; vocab];
    let mut centrality = vec![0.0f32; vectors.len()];
    for (i, v) in vectors.iter().enumerate().rev() {
        centrality[i] = v.iter().map(|&(id, w)| w * later[id as usize]).sum();
        for &(id, w) in v {
            later[id as usize] += w;
        }
    }
    centrality
}

/// Shared terms over all terms of two bags sorted by id.
fn jaccard(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f32 / union as f32
    }
}

/// The share of `set` (sorted term ids) found in `bag`.
fn overlap(set: &[u32], bag: &[(u32, f32)]) -> f32 {
    if set.is_empty() {
        return 0.0;
    }
    let found = set
        .iter()
        .filter(|&&id| bag.binary_search_by_key(&id, |&(t, _)| t).is_ok())
        .count();
    found as f32 / set.len() as f32
}

/// Sentence indices best first; the first `kept` are not near-duplicates of a better one.
struct Ranking {
    ranked: Vec<usize>,
    kept: usize,
}

/// Scores every sentence and orders them greedily, deferring near-duplicates to the end; the
/// first place goes to whichever of the best few covers the most of the text.
fn select(
    sentences: &[&str],
    bags: &[Vec<(u32, f32)>],
    vectors: &[Vec<(u32, f32)>],
    title: &[u32],
    headings: &[u32],
) -> Ranking {
    let n = sentences.len();
    // Forward centrality: how much the rest of the text takes up what this sentence says.
    let centrality = forward_centrality(vectors);
    let max_c = centrality.iter().copied().fold(0.0f32, f32::max);
    let centrality: Vec<f32> = centrality
        .iter()
        .map(|&c| if max_c > 0.0 { c / max_c } else { 0.0 })
        .collect();
    // A text written lead-first opens with its most central sentence: trust position as much.
    let lead_weight = LEAD_WEIGHT * centrality.first().copied().unwrap_or(0.0);
    let factors: Vec<f32> = sentences.iter().map(|s| form_factor(s)).collect();
    let scores: Vec<f32> = (0..n)
        .map(|i| {
            let after_lead = (i as f32 + 1.0 - LEAD_SENTENCES).max(0.0);
            let position = 1.0 / (1.0 + after_lead / POSITION_DECAY);
            let t = overlap(title, &bags[i]);
            let h = overlap(headings, &bags[i]);
            (centrality[i] + lead_weight * position + TITLE_WEIGHT * t + HEADING_WEIGHT * h)
                * factors[i]
        })
        .collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let mut ranked = Vec::with_capacity(n);
    let mut duplicates = Vec::new();
    for i in order {
        let duplicate = ranked
            .iter()
            .any(|&k: &usize| jaccard(&bags[i], &bags[k]) > DUPLICATE_JACCARD)
            || (bags[i].is_empty() && ranked.iter().any(|&k| sentences[k] == sentences[i]));
        if duplicate {
            duplicates.push(i);
        } else {
            ranked.push(i);
        }
    }
    let kept = ranked.len();
    let pool = kept.min(OPENER_POOL);
    let coverage = coverage(bags);
    let max_cov = ranked[..pool]
        .iter()
        .map(|&i| coverage[i])
        .fold(0.0f32, f32::max);
    let opener_score = |i: usize| {
        let cov = if max_cov > 0.0 {
            coverage[i] / max_cov
        } else {
            0.0
        };
        (cov + TITLE_WEIGHT * overlap(title, &bags[i])) * factors[i]
    };
    // Best first, earliest on ties; the others keep their order, so every prefix holds the same
    // sentences as before from the pool's size on.
    if let Some(best) = (0..pool).max_by(|&a, &b| {
        opener_score(ranked[a])
            .total_cmp(&opener_score(ranked[b]))
            .then(ranked[b].cmp(&ranked[a]))
    }) {
        let opener = ranked.remove(best);
        ranked.insert(0, opener);
    }
    ranked.extend(duplicates);
    Ranking { ranked, kept }
}

/// Length and form weight of a sentence: fragments and run-ons lose in proportion, and an
/// opening quotation loses a share (speech colours a story more than it sums it up).
fn form_factor(sentence: &str) -> f32 {
    let words = sentence.split_whitespace().count().max(1) as f32;
    let length = (words / SHORT_WORDS).min(1.0) * (LONG_WORDS / words).min(1.0);
    let quote = if sentence.starts_with(['"', '\'', '‘', '“', '«', '„', '「']) {
        QUOTE_FACTOR
    } else {
        1.0
    };
    length * quote
}

/// How much of the text each sentence covers: the share of the other sentences holding each
/// of its terms, summed, and mildly discounted for long term lists.
fn coverage(bags: &[Vec<(u32, f32)>]) -> Vec<f32> {
    let vocab = bags
        .iter()
        .flat_map(|b| b.iter().map(|&(id, _)| id as usize + 1))
        .max()
        .unwrap_or(0);
    let mut df = vec![0u32; vocab];
    for bag in bags {
        for &(id, _) in bag {
            df[id as usize] += 1;
        }
    }
    let others = (bags.len().max(2) - 1) as f32;
    bags.iter()
        .map(|bag| {
            let shared: u32 = bag.iter().map(|&(id, _)| df[id as usize] - 1).sum();
            shared as f32 / others / (bag.len().max(1) as f32).powf(COVERAGE_LENGTH_DISCOUNT)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Block;

    fn article(title: &str, lang: Option<&str>, paragraphs: &[&str]) -> Article {
        Article {
            title: title.to_owned(),
            lang: lang.map(str::to_owned),
            blocks: paragraphs
                .iter()
                .map(|p| Block {
                    kind: BlockKind::Paragraph,
                    text: (*p).to_owned(),
                })
                .collect(),
            ..Article::default()
        }
    }

    const NEWS: &[&str] = &[
        "The city council approved a new budget for public libraries on Tuesday, adding late \
         opening hours in every district.",
        "Council members voted eleven to two after a long debate about the cost of the plan.",
        "The mayor said the library budget would be paid for by savings in road maintenance.",
        "Weather on Tuesday was mild, with some rain expected in the evening across the region.",
        "Library staff welcomed the council decision and said the new budget would help families.",
        "A local bakery also celebrated its tenth anniversary with free cakes for children.",
        "Critics argued that the budget for libraries ignored the needs of smaller districts.",
    ];

    fn rank(a: &Article, n: usize) -> Vec<RankedSentence> {
        Extractive::new()
            .rank(a, n)
            .map(|s| s.sentences)
            .unwrap_or_default()
    }

    #[test]
    fn lead_sentence_that_matches_the_title_ranks_first() {
        let a = article("Council approves new library budget", Some("en"), NEWS);
        let top = rank(&a, 3);
        assert_eq!(top.len(), 3);
        assert_eq!(top[0].position, 0);
        assert!(
            top.iter().all(|s| s.position != 5),
            "the bakery is off topic: {top:?}"
        );
    }

    #[test]
    fn output_sentences_are_article_sentences_with_positions() {
        let a = article(
            "Council approves new library budget",
            None,
            &[NEWS[..3].join(" ").as_str(), &NEWS[3..].join(" ")],
        );
        let all = split_all(&a);
        for s in rank(&a, 4) {
            assert_eq!(all[s.position], s.text);
        }
    }

    fn split_all(a: &Article) -> Vec<String> {
        a.blocks
            .iter()
            .flat_map(|b| crate::summarize::split_sentences(&b.text, a.lang.as_deref()))
            .collect()
    }

    #[test]
    fn the_first_pick_loses_its_dateline_tag() {
        let mut paragraphs = NEWS.to_vec();
        paragraphs[0] = "(CNN)The city council approved a new budget for public libraries on \
                         Tuesday, adding late opening hours in every district.";
        let a = article(
            "Council approves new library budget",
            Some("en"),
            &paragraphs,
        );
        let top = rank(&a, 7);
        let text = |position: usize| top.iter().find(|s| s.position == position).map(|s| &s.text);
        assert_eq!(
            text(0).map(String::as_str),
            Some(
                "The city council approved a new budget for public libraries on Tuesday, \
                 adding late opening hours in every district."
            )
        );
    }

    #[test]
    fn near_duplicates_are_dropped() {
        let mut paragraphs = NEWS.to_vec();
        paragraphs.insert(
            1,
            "The city council approved a new budget for public libraries on Tuesday, adding \
             late opening hours in every district!",
        );
        let a = article(
            "Council approves new library budget",
            Some("en"),
            &paragraphs,
        );
        let top = rank(&a, 4);
        assert_eq!(top.len(), 4);
        let copies = top.iter().filter(|s| s.position <= 1).count();
        assert_eq!(copies, 1, "{top:?}");
    }

    #[test]
    fn short_text_comes_back_whole() {
        let a = article(
            "Short",
            Some("en"),
            &[
                "One short note. The same short note.",
                "The same short note.",
            ],
        );
        let mut got: Vec<usize> = rank(&a, 5).iter().map(|s| s.position).collect();
        got.sort_unstable();
        assert_eq!(got, [0, 1, 2]);
    }

    #[test]
    fn headings_are_not_summary_sentences() {
        let mut a = article("Council approves new library budget", Some("en"), NEWS);
        a.blocks.insert(
            0,
            Block {
                kind: BlockKind::Heading,
                text: "Library budget approved.".to_owned(),
            },
        );
        let top = rank(&a, 10);
        assert_eq!(top.len(), NEWS.len());
        assert!(top.iter().all(|s| s.text != "Library budget approved."));
    }

    #[test]
    fn long_article_gets_a_full_summary_of_its_own_sentences() {
        // Every sentence gets its own made-up words, so none is a duplicate of another.
        let word = |i: usize, salt: u8| -> String {
            let mut w = String::from("q");
            let mut k = i;
            loop {
                w.push(char::from(b'a' + ((k + usize::from(salt)) % 26) as u8));
                k /= 26;
                if k == 0 {
                    break w;
                }
            }
        };
        let paragraphs: Vec<String> = (0..2000)
            .map(|i| {
                format!(
                    "The {} met the {} near the {}.",
                    word(i, 0),
                    word(i, 3),
                    word(i, 9)
                )
            })
            .collect();
        let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
        let a = article("Topics", Some("en"), &refs);
        let top = rank(&a, 5);
        assert_eq!(top.len(), 5);
        assert!(top.iter().all(|s| paragraphs[s.position] == s.text));
    }

    #[test]
    fn asking_for_more_than_there_is_returns_every_sentence_of_a_long_article() {
        let paragraphs: Vec<String> = (0..MAX_CANDIDATES + 50)
            .map(|i| format!("Sentence {i} is here."))
            .collect();
        let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
        let a = article("Many", Some("en"), &refs);
        let mut got: Vec<usize> = rank(&a, 10_000).iter().map(|s| s.position).collect();
        got.sort_unstable();
        assert_eq!(got, (0..MAX_CANDIDATES + 50).collect::<Vec<_>>());
    }

    #[test]
    fn a_text_that_opens_off_topic_leads_with_its_topic() {
        let mut paragraphs = vec![
            "The morning fog lifted slowly over the quiet harbour while gulls circled the boats.",
        ];
        paragraphs.extend_from_slice(NEWS);
        let a = article("", Some("en"), &paragraphs);
        let top = rank(&a, 1);
        assert_eq!(top.len(), 1);
        assert_ne!(top[0].position, 0, "{top:?}");
    }

    #[test]
    fn every_length_is_a_prefix_of_the_same_ranking() {
        let a = article("", Some("en"), NEWS);
        let full = rank(&a, 5);
        assert_eq!(full.len(), 5);
        for n in 1..5 {
            assert_eq!(rank(&a, n), full[..n], "length {n}");
        }
    }

    #[test]
    fn a_sentence_whose_terms_recur_covers_more_of_the_text() {
        let a = Analyzer::new(Some("en"));
        let mut vocab = Vocabulary::default();
        let bags: Vec<_> = [
            "Libraries get a new budget from the council.",
            "A bakery sells cakes.",
            "The council debated the budget.",
            "Library staff welcomed the budget.",
        ]
        .iter()
        .map(|s| vocab.bag(&a, s))
        .collect();
        let c = coverage(&bags);
        assert!(c[0] > c[1], "{c:?}");
        assert!(c[0] > c[2], "{c:?}");
    }

    #[test]
    fn forward_centrality_sums_the_cosines_with_later_sentences() {
        let vectors = vec![
            vec![(0, 0.6), (1, 0.8)],
            vec![(1, 1.0)],
            vec![(0, 0.8), (2, 0.6)],
        ];
        let c = forward_centrality(&vectors);
        let expected = [0.8 + 0.48, 0.0, 0.0];
        for (got, want) in c.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{c:?}");
        }
    }

    #[test]
    fn empty_article_is_an_error() {
        let a = article("Nothing", Some("en"), &[]);
        assert!(matches!(
            Extractive::new().rank(&a, 3),
            Err(SummarizeError::Empty)
        ));
    }

    #[test]
    fn stop_words_come_from_the_detected_language() {
        // The first two sentences share only German function words: with German stop words
        // they are different sentences, with English ones they look like near-duplicates.
        let paragraphs = [
            "Der Hund und die Katze sind in dem Haus mit der Frau.",
            "Der Vogel und die Maus sind in dem Garten mit dem Mann.",
            "Am Abend regnet es in der Stadt.",
        ];
        let positions = |lang: Option<&str>| -> Vec<usize> {
            let mut p: Vec<usize> = rank(&article("", lang, &paragraphs), 2)
                .iter()
                .map(|s| s.position)
                .collect();
            p.sort_unstable();
            p
        };
        assert_eq!(positions(None), [0, 1]);
        assert_eq!(positions(Some("de")), [0, 1]);
        assert_eq!(positions(Some("en")), [0, 2]);
    }

    #[test]
    fn chinese_sentences_compare_by_character_bigrams() {
        let paragraphs = [
            "市政府周二批准了图书馆的新预算。市议会经过长时间讨论后投票通过了图书馆预算。\
                           一家面包店庆祝了十周年。市政府周二批准了图书馆的新预算！天气很好。",
        ];
        let a = article("市政府批准图书馆预算", None, &paragraphs);
        let top = rank(&a, 2);
        assert_eq!(top.len(), 2);
        assert_eq!(top[0].text, "市政府周二批准了图书馆的新预算。");
        assert_eq!(top[1].text, "市议会经过长时间讨论后投票通过了图书馆预算。");
    }

    #[test]
    fn thai_sentences_compare_by_character_bigrams() {
        // Thai writes no spaces between words: the first two paragraphs say the same thing
        // (new budget for every public library) in another order, the third is about a bakery.
        let paragraphs = [
            "รัฐบาลอนุมัติงบประมาณใหม่สำหรับห้องสมุดประชาชนทุกแห่ง",
            "ห้องสมุดประชาชนทุกแห่งจะได้รับงบประมาณใหม่จากรัฐบาล",
            "ร้านขนมในเมืองฉลองครบรอบสิบปีด้วยการแจกขนมฟรี",
        ];
        let a = article("", Some("th"), &paragraphs);
        let mut got: Vec<usize> = rank(&a, 2).iter().map(|s| s.position).collect();
        got.sort_unstable();
        assert_eq!(got, [0, 2]);
    }

    #[tokio::test]
    async fn summarizer_trait_matches_rank() {
        let a = article("Council approves new library budget", Some("en"), NEWS);
        let s = Extractive::new();
        assert!(s.id().starts_with("extractive-v"));
        assert_eq!(s.summarize(&a, 2).await.ok(), s.rank(&a, 2).ok());
    }
}
