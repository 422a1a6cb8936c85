//! ROUGE of the extractive summarizer against LEAD-k on reference summary sets.
//!
//! `cargo run --release --example summ_eval -- [--sentences N] [file.jsonl]...`
//!
//! Each line of a file is `{"id", "text", "reference"}`. Without files it reads the cnndm and
//! xsum dev sets under ../shared/data/summarization (3 and 1 sentences), and skips what is
//! absent. Prints ROUGE-1, ROUGE-2 and ROUGE-Lsum F1 ×100 for LEAD-k and for the summarizer,
//! and the summarizer's documents per second on one thread.

#[path = "rouge/mod.rs"]
mod rouge;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use linkdigest::extract::{Article, Block, BlockKind};
use linkdigest::summarize::{Extractive, split_sentences};

/// Where the sets live, relative to the repository root and on this machine.
const DATA_DIRS: &[&str] = &[
    "../shared/data/summarization",
    "/work/shared/data/summarization",
];

/// How long the speed measurement repeats the summaries, for a steady figure.
const TIMING: Duration = Duration::from_secs(2);

/// One document of a set.
#[derive(serde::Deserialize)]
struct Doc {
    text: String,
    reference: String,
}

fn main() {
    let mut sentences: Option<usize> = None;
    let mut files: Vec<(PathBuf, usize)> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--sentences" {
            match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => sentences = Some(n),
                None => {
                    eprintln!("--sentences needs a number");
                    std::process::exit(2);
                }
            }
        } else {
            let path = PathBuf::from(&arg);
            let k = default_sentences(&path);
            files.push((path, k));
        }
    }
    if files.is_empty() {
        for set in ["cnndm", "xsum"] {
            let found = DATA_DIRS
                .iter()
                .map(|dir| Path::new(dir).join(set).join("dev.jsonl"))
                .find(|p| p.exists());
            match found {
                Some(path) => {
                    let k = default_sentences(&path);
                    files.push((path, k));
                }
                None => println!(
                    "skipping {set}: no dev.jsonl under {}",
                    DATA_DIRS.join(" or ")
                ),
            }
        }
    }
    for (path, k) in files {
        evaluate(&path, sentences.unwrap_or(k));
    }
}

/// XSum summaries are one sentence; news highlights about three.
fn default_sentences(path: &Path) -> usize {
    if path.to_string_lossy().contains("xsum") {
        1
    } else {
        3
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

fn evaluate(path: &Path, k: usize) {
    let docs: Vec<Doc> = match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|l| match serde_json::from_str(l) {
                Ok(doc) => Some(doc),
                Err(e) => {
                    eprintln!("{}: skipping a bad line: {e}", path.display());
                    None
                }
            })
            .collect(),
        Err(e) => {
            println!("skipping {}: {e}", path.display());
            return;
        }
    };
    if docs.is_empty() {
        println!("skipping {}: no documents", path.display());
        return;
    }
    let articles: Vec<Article> = docs.iter().map(|d| article(&d.text)).collect();
    let summarizer = Extractive::new();

    let mut lead = Totals::default();
    let mut ours = Totals::default();
    for (doc, art) in docs.iter().zip(&articles) {
        let lang = linkdigest::lang::detect(&doc.text);
        let lead_k: Vec<String> = split_sentences(&doc.text, lang.as_deref())
            .into_iter()
            .take(k)
            .collect();
        lead.add(rouge::score(&doc.reference, &lead_k.join("\n")));

        let mut picked = summarizer
            .rank(art, k)
            .map(|s| s.sentences)
            .unwrap_or_default();
        picked.sort_by_key(|s| s.position);
        let text: Vec<&str> = picked.iter().map(|s| s.text.as_str()).collect();
        ours.add(rouge::score(&doc.reference, &text.join("\n")));
    }

    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < TIMING {
        for art in &articles {
            let summary = summarizer.rank(art, k);
            done += usize::from(summary.is_ok());
        }
    }
    let rate = done as f64 / start.elapsed().as_secs_f64();

    println!("{} ({} docs, {k} sentences)", path.display(), docs.len());
    println!(
        "{:<16} {:>6} {:>6} {:>6} {:>9}",
        "", "R1", "R2", "RLsum", "docs/s"
    );
    println!("{:<16} {}", format!("LEAD-{k}"), lead.row());
    println!(
        "{:<16} {} {rate:>9.0}",
        summarizer_id(&summarizer),
        ours.row()
    );
}

fn summarizer_id(s: &Extractive) -> String {
    use linkdigest::summarize::Summarizer;
    s.id()
}

/// Sums of F1 over documents.
#[derive(Default)]
struct Totals {
    r1: f64,
    r2: f64,
    rl: f64,
    n: usize,
}

impl Totals {
    fn add(&mut self, s: rouge::Rouge) {
        self.r1 += s.r1.f1;
        self.r2 += s.r2.f1;
        self.rl += s.rlsum.f1;
        self.n += 1;
    }

    fn row(&self) -> String {
        let mean = |x: f64| 100.0 * x / self.n.max(1) as f64;
        format!(
            "{:>6.2} {:>6.2} {:>6.2}",
            mean(self.r1),
            mean(self.r2),
            mean(self.rl)
        )
    }
}
