//! ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 as Google's rouge-score computes them with stemming:
//! lowercase, tokens of `[a-z0-9]+`, the Porter stemmer on tokens longer than 3 characters,
//! and for Lsum summaries split into sentences on newlines with union LCS.

mod porter;

use std::collections::HashMap;

/// Precision, recall and F1 of one measure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Score {
    /// Share of the candidate found in the reference.
    pub precision: f64,
    /// Share of the reference found in the candidate.
    pub recall: f64,
    /// The harmonic mean of both.
    pub f1: f64,
}

impl Score {
    fn new(hits: usize, candidate: usize, reference: usize) -> Self {
        if candidate == 0 || reference == 0 {
            return Self::default();
        }
        let precision = hits as f64 / candidate as f64;
        let recall = hits as f64 / reference as f64;
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        Self {
            precision,
            recall,
            f1,
        }
    }
}

/// The three scores of one candidate against one reference.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rouge {
    /// Unigram overlap.
    pub r1: Score,
    /// Bigram overlap.
    pub r2: Score,
    /// Summary-level longest common subsequence over newline-separated sentences.
    pub rlsum: Score,
}

/// Tokens as rouge-score makes them: lowercase, `[a-z0-9]+`, long tokens stemmed.
pub fn tokenize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(|t| {
            if t.len() > 3 {
                porter::stem(t)
            } else {
                t.to_owned()
            }
        })
        .collect()
}

/// Scores `candidate` against `reference`; both hold one sentence per line.
pub fn score(reference: &str, candidate: &str) -> Rouge {
    let ref_tokens = tokenize(reference);
    let cand_tokens = tokenize(candidate);
    Rouge {
        r1: ngram_score(&ref_tokens, &cand_tokens, 1),
        r2: ngram_score(&ref_tokens, &cand_tokens, 2),
        rlsum: lsum(&sentences(reference), &sentences(candidate)),
    }
}

fn sentences(text: &str) -> Vec<Vec<String>> {
    text.split('\n')
        .filter(|s| !s.is_empty())
        .map(tokenize)
        .collect()
}

fn ngrams(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    for gram in tokens.windows(n) {
        *counts.entry(gram).or_insert(0) += 1;
    }
    counts
}

fn ngram_score(reference: &[String], candidate: &[String], n: usize) -> Score {
    let r = ngrams(reference, n);
    let c = ngrams(candidate, n);
    let hits = r
        .iter()
        .map(|(gram, &count)| count.min(c.get(gram).copied().unwrap_or(0)))
        .sum();
    Score::new(hits, c.values().sum::<usize>(), r.values().sum::<usize>())
}

/// Indices into `a` of one longest common subsequence of `a` and `b`, backtracked the way
/// rouge-score does it.
fn lcs_indices(a: &[String], b: &[String]) -> Vec<usize> {
    let cols = b.len() + 1;
    let mut t = vec![0u32; (a.len() + 1) * cols];
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            t[i * cols + j] = if a[i - 1] == b[j - 1] {
                t[(i - 1) * cols + j - 1] + 1
            } else {
                t[(i - 1) * cols + j].max(t[i * cols + j - 1])
            };
        }
    }
    let (mut i, mut j) = (a.len(), b.len());
    let mut out = Vec::new();
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            out.push(i - 1);
            i -= 1;
            j -= 1;
        } else if t[i * cols + j - 1] > t[(i - 1) * cols + j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    out
}

fn lsum(reference: &[Vec<String>], candidate: &[Vec<String>]) -> Score {
    let m: usize = reference.iter().map(Vec::len).sum();
    let n: usize = candidate.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return Score::default();
    }
    let mut ref_counts: HashMap<&str, usize> = HashMap::new();
    let mut cand_counts: HashMap<&str, usize> = HashMap::new();
    for t in reference.iter().flatten() {
        *ref_counts.entry(t).or_insert(0) += 1;
    }
    for t in candidate.iter().flatten() {
        *cand_counts.entry(t).or_insert(0) += 1;
    }
    let mut hits = 0;
    for r in reference {
        let mut union: Vec<usize> = candidate.iter().flat_map(|c| lcs_indices(r, c)).collect();
        union.sort_unstable();
        union.dedup();
        for i in union {
            let t = r[i].as_str();
            let (Some(rc), Some(cc)) = (ref_counts.get_mut(t), cand_counts.get_mut(t)) else {
                continue;
            };
            if *rc > 0 && *cc > 0 {
                hits += 1;
                *rc -= 1;
                *cc -= 1;
            }
        }
    }
    Score::new(hits, n, m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_lowercase_alphanumeric_and_stemmed() {
        assert_eq!(
            tokenize("The cats' Running-shoes cost $3.50!"),
            ["the", "cat", "run", "shoe", "cost", "3", "50"]
        );
    }

    #[test]
    fn identical_texts_score_one_and_disjoint_zero() {
        let s = score("a cat sat\non the mat", "a cat sat\non the mat");
        assert!((s.r1.f1 - 1.0).abs() < 1e-9 && (s.r2.f1 - 1.0).abs() < 1e-9);
        assert!((s.rlsum.f1 - 1.0).abs() < 1e-9);
        assert_eq!(score("a cat", "dogs bark").r1.f1, 0.0);
    }

    #[test]
    fn lsum_unions_lcs_over_candidate_sentences() {
        // The rouge-score paper example: reference w1..w5, candidates "w1 w2 w6 w7 w8" and
        // "w1 w3 w8 w9 w5" give union LCS "w1 w2 w3 w5": recall 4/5.
        let s = score("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5");
        assert!((s.rlsum.recall - 0.8).abs() < 1e-9, "{s:?}");
        assert!((s.rlsum.precision - 0.4).abs() < 1e-9, "{s:?}");
    }
}
