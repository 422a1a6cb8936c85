//! ROUGE of the extractive summarizer against LEAD-k, a saved earlier run and a peer's
//! summaries, on both halves of each reference summary set.
//!
//! `cargo run --release --example summ_eval -- [--sentences N] [--save FILE] [--baseline FILE]
//! [--compare FILE] [--worst N] [file.jsonl]...`
//!
//! Each line of a set is `{"id", "text", "reference"}`. Without files it reads the cnndm and
//! xsum dev sets under `../shared/data/summarization` (relative to the repository; 3 and 1
//! sentences) and skips what is absent. Half A of a set is the ids whose sha256 starts with an
//! even byte, half B the rest. For each half it prints ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 ×100
//! and the paired bootstrap interval (1,000 resamples, 95%) of the per-document ROUGE-1
//! difference of the summarizer against LEAD-k, against `--baseline` and against `--compare`,
//! and the summarizer's documents per CPU-second of its thread (Linux schedstat, so other
//! programs' load barely moves it; wall time where that is missing). An "oracle" row shows the ceiling
//! of any k-sentence extract: the article sentences picked greedily for the best ROUGE-1 against
//! the reference itself.
//!
//! - `--save FILE` writes this run's per-document scores and summaries (JSONL), to be a later
//!   `--baseline`.
//! - `--baseline FILE` reads such a file: the before of a change.
//! - `--compare FILE` reads a peer's summaries, `{"id", "summary"}` per line with one sentence
//!   per line of `summary` (scripts/textrank_baseline.py writes sumy's TextRank), scored with
//!   the same ROUGE.
//! - `--worst N` lists the N documents of half A (the half to tune on) where the compared
//!   summaries, or LEAD-k without `--compare`, beat the summarizer's by the most ROUGE-1, with
//!   the reference and both summaries: where to look for what the ranking misses.
#![allow(
    clippy::too_many_lines,
    reason = "the 80-line limit is for src/; test and example drivers read top-down"
)]

#[path = "eval/mod.rs"]
mod eval;
#[path = "rouge/mod.rs"]
mod rouge;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eval::{Half, Interval, paired_bootstrap};
use linkdigest::extract::{Article, Block, BlockKind};
use linkdigest::summarize::{Extractive, Summarizer, split_sentences};

/// Where the sets live, relative to the repository root.
const DATA_DIR: &str = "../shared/data/summarization";

/// How many characters of a summary or reference a `--worst` entry shows.
const WORST_CHARS: usize = 240;

/// How long the speed measurement repeats the summaries, for a steady figure.
const TIMING: Duration = Duration::from_secs(2);

/// Resamples of the paired bootstrap.
const RESAMPLES: usize = 1000;

/// One document of a set.
#[derive(serde::Deserialize)]
struct Doc {
    id: String,
    text: String,
    reference: String,
}

/// One document's scores in a saved run (`--save`, `--baseline`).
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    set: String,
    id: String,
    r1: f64,
    r2: f64,
    rl: f64,
    /// The set's documents per CPU-second in that run (the same on each of its lines).
    #[serde(default)]
    docs_per_s: f64,
    /// Whether `docs_per_s` counts CPU-seconds of the thread (false: wall seconds, as runs
    /// saved before it was measured on the CPU), so only like figures are compared.
    #[serde(default)]
    cpu_timed: bool,
    /// The summary as scored, one sentence per line, to see what a change changed.
    #[serde(default)]
    summary: String,
}

/// One document's summary by a peer (`--compare`).
#[derive(serde::Deserialize)]
struct Peer {
    id: String,
    summary: String,
}

/// What the command line asked for.
#[derive(Default)]
struct Options {
    sentences: Option<usize>,
    save: Option<PathBuf>,
    baseline: Option<PathBuf>,
    compare: Option<PathBuf>,
    worst: usize,
    files: Vec<PathBuf>,
}

fn main() {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            eprintln!(
                "usage: summ_eval [--sentences N] [--save FILE] [--baseline FILE] \
                 [--compare FILE] [--worst N] [file.jsonl]..."
            );
            std::process::exit(2);
        }
    };
    let baseline: HashMap<(String, String), Saved> = match &options.baseline {
        Some(path) => read_jsonl::<Saved>(path)
            .into_iter()
            .map(|s| ((s.set.clone(), s.id.clone()), s))
            .collect(),
        None => HashMap::new(),
    };
    let peers: HashMap<String, String> = match &options.compare {
        Some(path) => read_jsonl::<Peer>(path)
            .into_iter()
            .map(|p| (p.id, p.summary))
            .collect(),
        None => HashMap::new(),
    };
    let peer_name = options.compare.as_deref().map(file_label);

    let mut sets: Vec<(String, PathBuf)> = options
        .files
        .iter()
        .map(|p| (set_name(p), p.clone()))
        .collect();
    if sets.is_empty() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA_DIR);
        for set in ["cnndm", "xsum"] {
            let path = root.join(set).join("dev.jsonl");
            if path.exists() {
                sets.push((set.to_owned(), path));
            } else {
                println!("skipping {set}: no {DATA_DIR}/{set}/dev.jsonl");
            }
        }
    }

    let mut saved = Vec::new();
    for (set, path) in &sets {
        let k = options.sentences.unwrap_or(default_sentences(set));
        let run = Run {
            set,
            path,
            k,
            baseline: &baseline,
            peers: &peers,
            peer_name: peer_name.as_deref(),
            worst: options.worst,
        };
        saved.extend(run.evaluate());
    }

    if let Some(path) = &options.save {
        let written = std::fs::File::create(path).and_then(|mut f| {
            for s in &saved {
                let line = serde_json::to_string(s).map_err(std::io::Error::other)?;
                writeln!(f, "{line}")?;
            }
            Ok(())
        });
        match written {
            Ok(()) => println!(
                "saved {} documents' scores to {}",
                saved.len(),
                path.display()
            ),
            Err(e) => eprintln!("could not save to {}: {e}", path.display()),
        }
    }
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--sentences" => {
                let n = value("--sentences")?;
                options.sentences = Some(
                    n.parse()
                        .map_err(|_| format!("--sentences: {n} is not a number"))?,
                );
            }
            "--save" => options.save = Some(PathBuf::from(value("--save")?)),
            "--baseline" => options.baseline = Some(PathBuf::from(value("--baseline")?)),
            "--compare" => options.compare = Some(PathBuf::from(value("--compare")?)),
            "--worst" => {
                let n = value("--worst")?;
                options.worst = n
                    .parse()
                    .map_err(|_| format!("--worst: {n} is not a number"))?;
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            file => options.files.push(PathBuf::from(file)),
        }
    }
    Ok(options)
}

/// A set's name: its folder (`cnndm/dev.jsonl` is "cnndm") or else the file's stem.
fn set_name(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    match (stem.as_deref(), path.parent().and_then(Path::file_name)) {
        (Some("dev" | "test" | "holdout"), Some(dir)) => dir.to_string_lossy().into_owned(),
        (Some(stem), _) => stem.to_owned(),
        (None, _) => path.display().to_string(),
    }
}

/// A short label for a file in a report.
fn file_label(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// XSum summaries are one sentence; news highlights about three.
fn default_sentences(set: &str) -> usize {
    if set.contains("xsum") { 1 } else { 3 }
}

/// The lines of a JSONL file that parse; bad lines and a missing file are reported.
fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> Vec<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| match serde_json::from_str(l) {
                Ok(item) => Some(item),
                Err(e) => {
                    eprintln!("{}: skipping a bad line: {e}", path.display());
                    None
                }
            })
            .collect(),
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            Vec::new()
        }
    }
}

/// The article the pipeline would hand the summarizer: one paragraph per line, no title.
fn article(text: &str) -> Article {
    Article {
        blocks: text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Block {
                kind: BlockKind::Paragraph,
                text: l.split_whitespace().collect::<Vec<_>>().join(" "),
            })
            .collect(),
        ..Article::default()
    }
}

/// The evaluation of one set.
struct Run<'a> {
    set: &'a str,
    path: &'a Path,
    k: usize,
    baseline: &'a HashMap<(String, String), Saved>,
    peers: &'a HashMap<String, String>,
    peer_name: Option<&'a str>,
    worst: usize,
}

/// The scores of every system on one document.
struct DocScores {
    half: Half,
    lead: rouge::Rouge,
    /// The greedy best k article sentences against the reference: what an extract could reach.
    oracle: rouge::Rouge,
    ours: rouge::Rouge,
    /// ROUGE-1, R2 and Lsum F1 of the saved baseline run, when it has this document.
    baseline: Option<[f64; 3]>,
    peer: Option<rouge::Rouge>,
    /// The summaries as scored, one sentence per line, for `--worst`.
    ours_text: String,
    lead_text: String,
}

impl Run<'_> {
    fn evaluate(&self) -> Vec<Saved> {
        let docs: Vec<Doc> = read_jsonl(self.path);
        if docs.is_empty() {
            println!("skipping {}: no documents", self.path.display());
            return Vec::new();
        }
        let k = self.k;
        let articles: Vec<Article> = docs.iter().map(|d| article(&d.text)).collect();
        let summarizer = Extractive::new();

        let mut scores = Vec::with_capacity(docs.len());
        let mut missing_peer = 0usize;
        let mut missing_baseline = 0usize;
        for (doc, art) in docs.iter().zip(&articles) {
            let lang = linkdigest::lang::detect(&doc.text);
            let all = split_sentences(&doc.text, lang.as_deref());
            let lead_k = &all[..all.len().min(k)];
            let mut picked = summarizer
                .rank(art, k)
                .map(|s| s.sentences)
                .unwrap_or_default();
            picked.sort_by_key(|s| s.position);
            let text: Vec<&str> = picked.iter().map(|s| s.text.as_str()).collect();
            let baseline = self
                .baseline
                .get(&(self.set.to_owned(), doc.id.clone()))
                .map(|s| [s.r1, s.r2, s.rl]);
            missing_baseline += usize::from(!self.baseline.is_empty() && baseline.is_none());
            let peer = self
                .peers
                .get(&doc.id)
                .map(|summary| rouge::score(&doc.reference, summary));
            missing_peer += usize::from(!self.peers.is_empty() && peer.is_none());
            scores.push(DocScores {
                half: Half::of(&doc.id),
                lead: rouge::score(&doc.reference, &lead_k.join("\n")),
                oracle: oracle(&doc.reference, &all, k),
                ours: rouge::score(&doc.reference, &text.join("\n")),
                baseline,
                peer,
                ours_text: text.join("\n"),
                lead_text: lead_k.join("\n"),
            });
        }

        let start = Instant::now();
        let start_cpu = thread_cpu();
        let mut done = 0usize;
        while start.elapsed() < TIMING {
            for art in &articles {
                let summary = summarizer.rank(art, k);
                done += usize::from(summary.is_ok());
            }
        }
        let (spent, cpu_timed) = match (start_cpu, thread_cpu()) {
            (Some(from), Some(to)) if to > from => (to - from, true),
            _ => (start.elapsed(), false),
        };
        let rate = done as f64 / spent.as_secs_f64();
        let base_rate = self
            .baseline
            .iter()
            .find(|((set, _), _)| set == self.set)
            .filter(|(_, s)| s.cpu_timed == cpu_timed)
            .map(|(_, s)| s.docs_per_s)
            .filter(|&r| r > 0.0);

        self.report(&docs, &scores, &summarizer.id(), rate, base_rate);
        if cpu_timed {
            println!("  (docs/s: documents per CPU-second of the ranking thread)");
        } else {
            println!("  (docs/s: documents per wall-clock second; no schedstat to read)");
        }
        if missing_baseline > 0 {
            println!("  ({missing_baseline} documents missing from the baseline run)");
        }
        if missing_peer > 0 {
            println!("  ({missing_peer} documents missing from the compared summaries)");
        }
        println!();
        self.show_worst(&docs, &scores);

        docs.iter()
            .zip(&scores)
            .map(|(doc, s)| Saved {
                set: self.set.to_owned(),
                id: doc.id.clone(),
                r1: s.ours.r1.f1,
                r2: s.ours.r2.f1,
                rl: s.ours.rlsum.f1,
                docs_per_s: rate,
                cpu_timed,
                summary: s.ours_text.clone(),
            })
            .collect()
    }

    fn report(
        &self,
        docs: &[Doc],
        scores: &[DocScores],
        id: &str,
        rate: f64,
        base_rate: Option<f64>,
    ) {
        let k = self.k;
        let in_half = |h: Half| scores.iter().filter(move |s| s.half == h);
        let count = |h: Half| in_half(h).count();
        println!(
            "{} ({} docs: A {}, B {}; {k} sentences)",
            self.set,
            docs.len(),
            count(Half::A),
            count(Half::B)
        );
        println!(
            "{:<20} {:>6} {:>6} {:>6} {:>6} {:>6} {:>9}",
            "ROUGE F1 x100", "R1 A", "R1 B", "R1", "R2", "RLsum", "docs/s"
        );
        let row = |name: &str, pick: &dyn Fn(&DocScores) -> Option<[f64; 3]>, extra: String| {
            let mean = |items: Vec<[f64; 3]>, m: usize| {
                if items.is_empty() {
                    f64::NAN
                } else {
                    100.0 * items.iter().map(|x| x[m]).sum::<f64>() / items.len() as f64
                }
            };
            let of = |h: Option<Half>| -> Vec<[f64; 3]> {
                scores
                    .iter()
                    .filter(|s| h.is_none_or(|h| s.half == h))
                    .filter_map(pick)
                    .collect()
            };
            let all = of(None);
            if all.is_empty() {
                return;
            }
            println!(
                "{name:<20} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {:>6.2} {extra:>9}",
                mean(of(Some(Half::A)), 0),
                mean(of(Some(Half::B)), 0),
                mean(all.clone(), 0),
                mean(all.clone(), 1),
                mean(all, 2),
            );
        };
        let triple = |r: &rouge::Rouge| [r.r1.f1, r.r2.f1, r.rlsum.f1];
        row(
            &format!("LEAD-{k}"),
            &|s| Some(triple(&s.lead)),
            String::new(),
        );
        row(
            &format!("oracle-{k}"),
            &|s| Some(triple(&s.oracle)),
            String::new(),
        );
        if let Some(name) = self.peer_name {
            row(name, &|s| s.peer.as_ref().map(triple), String::new());
        }
        row(
            "baseline run",
            &|s| s.baseline,
            base_rate.map(|r| format!("{r:.0}")).unwrap_or_default(),
        );
        row(id, &|s| Some(triple(&s.ours)), format!("{rate:.0}"));
        if let Some(base) = base_rate {
            println!("speed against the baseline run: {:.2}x", rate / base);
        }

        println!("{id} R1 minus, paired bootstrap ({RESAMPLES} resamples, 95%):");
        let interval = |h: Half, other: &dyn Fn(&DocScores) -> Option<f64>| {
            let (before, after): (Vec<f64>, Vec<f64>) = scores
                .iter()
                .filter(|s| s.half == h)
                .filter_map(|s| other(s).map(|o| (100.0 * o, 100.0 * s.ours.r1.f1)))
                .unzip();
            paired_bootstrap(&before, &after, RESAMPLES)
        };
        let line = |name: &str, other: &dyn Fn(&DocScores) -> Option<f64>| {
            let (a, b) = (interval(Half::A, other), interval(Half::B, other));
            if a.is_none() && b.is_none() {
                return;
            }
            println!(
                "  {name:<18} {} {}   {} {}",
                Half::A.name(),
                show(a),
                Half::B.name(),
                show(b)
            );
        };
        line(&format!("LEAD-{k}"), &|s| Some(s.lead.r1.f1));
        if let Some(name) = self.peer_name {
            line(name, &|s| s.peer.as_ref().map(|p| p.r1.f1));
        }
        line("baseline run", &|s| s.baseline.map(|b| b[0]));
    }
}

impl Run<'_> {
    /// Lists the `--worst` documents of half A where the compared summaries (or LEAD-k) beat
    /// ours by the most ROUGE-1.
    fn show_worst(&self, docs: &[Doc], scores: &[DocScores]) {
        if self.worst == 0 {
            return;
        }
        let lead = format!("LEAD-{}", self.k);
        let name = self.peer_name.unwrap_or(&lead);
        let other: Vec<Option<(f64, &str)>> = docs
            .iter()
            .zip(scores)
            .map(|(doc, s)| match (self.peer_name, &s.peer) {
                (Some(_), Some(p)) => self.peers.get(&doc.id).map(|text| (p.r1.f1, text.as_str())),
                (Some(_), None) => None,
                (None, _) => Some((s.lead.r1.f1, s.lead_text.as_str())),
            })
            .collect();
        let gaps: Vec<Option<f64>> = scores
            .iter()
            .zip(&other)
            .map(|(s, o)| {
                o.filter(|_| s.half == Half::A)
                    .map(|(r1, _)| 100.0 * (r1 - s.ours.r1.f1))
            })
            .collect();
        println!(
            "half A: the {} documents where {name} beats ours by the most ROUGE-1",
            self.worst
        );
        for i in worst(&gaps, self.worst) {
            let (doc, s) = (&docs[i], &scores[i]);
            let (r1, text) = other[i].unwrap_or_default();
            println!(
                "  {} {name} {:.1} ours {:.1} ({:+.1})",
                doc.id,
                100.0 * r1,
                100.0 * s.ours.r1.f1,
                gaps[i].unwrap_or_default()
            );
            println!("    reference: {}", clip(&doc.reference));
            println!("    {name}: {}", clip(text));
            println!("    ours: {}", clip(&s.ours_text));
        }
        println!();
    }
}

/// CPU time of this thread so far (Linux schedstat), `None` where it cannot be read.
fn thread_cpu() -> Option<Duration> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
}

/// The indices of the `n` largest positive gaps, largest first (earliest on ties).
fn worst(gaps: &[Option<f64>], n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..gaps.len())
        .filter(|&i| gaps[i].is_some_and(|g| g > 0.0))
        .collect();
    order.sort_by(|&a, &b| {
        let gap = |i: usize| gaps[i].unwrap_or_default();
        gap(b).total_cmp(&gap(a)).then(a.cmp(&b))
    });
    order.truncate(n);
    order
}

/// `text` on one line, cut to [`WORST_CHARS`] characters.
fn clip(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(WORST_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

/// The ROUGE of the best extract of up to `k` of `sentences`, built greedily: each step adds the
/// sentence that raises ROUGE-1 F1 the most (in article order), and stops when none does.
fn oracle(reference: &str, sentences: &[String], k: usize) -> rouge::Rouge {
    let mut picked: Vec<usize> = Vec::new();
    let mut best = rouge::score(reference, "");
    let text = |picked: &[usize]| {
        let mut in_order = picked.to_vec();
        in_order.sort_unstable();
        in_order
            .iter()
            .map(|&i| sentences[i].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    while picked.len() < k {
        let mut step: Option<(usize, rouge::Rouge)> = None;
        for i in (0..sentences.len()).filter(|i| !picked.contains(i)) {
            let mut trial = picked.clone();
            trial.push(i);
            let r = rouge::score(reference, &text(&trial));
            if r.r1.f1 > step.as_ref().map_or(best.r1.f1, |(_, s)| s.r1.f1) {
                step = Some((i, r));
            }
        }
        match step {
            Some((i, r)) => {
                picked.push(i);
                best = r;
            }
            None => break,
        }
    }
    best
}

/// An interval in ROUGE points, marked when it lies above or below zero.
fn show(interval: Option<Interval>) -> String {
    match interval {
        Some(i) => {
            let mark = if i.low > 0.0 {
                "above 0"
            } else if i.high < 0.0 {
                "BELOW 0"
            } else {
                ""
            };
            format!("{} {mark:<7}", i.show())
        }
        None => format!("{:<35}", "-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn worst_lists_the_largest_positive_gaps_first() {
        let gaps = [Some(2.0), None, Some(-5.0), Some(7.5), Some(2.0), Some(0.0)];
        assert_eq!(worst(&gaps, 10), [3, 0, 4]);
        assert_eq!(worst(&gaps, 2), [3, 0]);
        assert_eq!(worst(&gaps, 0), Vec::<usize>::new());
    }

    #[test]
    fn clip_keeps_short_text_and_cuts_long_text_on_a_character() {
        assert_eq!(clip("one\ntwo  three"), "one two three");
        let long = "é".repeat(WORST_CHARS + 5);
        let cut = clip(&long);
        assert_eq!(cut.chars().count(), WORST_CHARS + 3);
        assert!(cut.ends_with("..."));
    }

    #[test]
    fn worst_takes_a_count() {
        let args = ["--worst", "5", "x.jsonl"].map(String::from);
        let options = parse_args(args.into_iter()).unwrap_or_default();
        assert_eq!(options.worst, 5);
        let bad = ["--worst", "five"].map(String::from);
        assert!(parse_args(bad.into_iter()).is_err());
    }

    #[test]
    fn oracle_picks_the_sentence_closest_to_the_reference() {
        let all = sentences(&[
            "The weather was mild all week.",
            "The council approved the library budget on Tuesday.",
            "A bakery sold cakes.",
        ]);
        let reference = "council approves library budget";
        let got = oracle(reference, &all, 1);
        assert_eq!(got.r1.f1, rouge::score(reference, &all[1]).r1.f1, "{got:?}");
    }

    #[test]
    fn oracle_stops_when_another_sentence_would_lower_the_score() {
        let all = sentences(&["Council approves library budget.", "A bakery sold cakes."]);
        let got = oracle("council approves library budget", &all, 2);
        assert_eq!(got.r1.f1, 1.0, "{got:?}");
    }

    #[test]
    fn oracle_of_several_sentences_beats_any_single_one() {
        let all = sentences(&[
            "The council approved the budget.",
            "Libraries will open late.",
            "A bakery sold cakes.",
        ]);
        let reference = "council approved budget libraries open late";
        let two = oracle(reference, &all, 2).r1.f1;
        let one = oracle(reference, &all, 1).r1.f1;
        assert!(two > one, "two {two}, one {one}");
    }
}
