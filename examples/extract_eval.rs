//! Extraction quality and speed benchmark over Scrapinghub-format datasets.
//!
//! `cargo run --release --example extract_eval -- <dataset-dir>...` where each directory holds
//! `ground-truth.json` and `html/<id>.html`. Prints precision, recall and F1 computed as the
//! article-extraction-benchmark's evaluate.py does (multisets of 4-token shingles over `\w+`
//! tokens, per-page TP/FP/FN normalised to sum 1, page averages), the 10 worst pages, the title
//! match rate where `expected-metadata/<id>.json` exists, and pages per second against
//! scraper's parse-only rate on the same pages.

use linkdigest::extract;
use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

const DEFAULT_ROOTS: &[&str] = &["../shared/data/extraction", "/work/shared/data/extraction"];
const TIMING_ROUNDS: usize = 3;

fn main() {
    let args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let dirs = if args.is_empty() {
        default_dirs()
    } else {
        args
    };
    if dirs.is_empty() {
        println!("no datasets found (looked in {DEFAULT_ROOTS:?}); skipping");
        return;
    }
    let token = Regex::new(r"\w+").expect("constant regex");
    for dir in dirs {
        if let Err(e) = run(&dir, &token) {
            println!("{}: skipped ({e})", dir.display());
        }
    }
}

fn default_dirs() -> Vec<PathBuf> {
    for root in DEFAULT_ROOTS {
        let Ok(entries) = std::fs::read_dir(root) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("ground-truth.json").is_file())
            .collect();
        dirs.sort();
        if !dirs.is_empty() {
            return dirs;
        }
    }
    Vec::new()
}

struct Page {
    id: String,
    url: Option<url::Url>,
    html: String,
    truth: String,
    title: Option<String>,
}

fn load(dir: &Path) -> Result<Vec<Page>, String> {
    let gt_text = std::fs::read_to_string(dir.join("ground-truth.json"))
        .map_err(|e| format!("ground-truth.json: {e}"))?;
    let gt: HashMap<String, serde_json::Value> =
        serde_json::from_str(&gt_text).map_err(|e| format!("ground-truth.json: {e}"))?;
    let mut pages = Vec::new();
    for (id, entry) in gt {
        let Ok(bytes) = std::fs::read(dir.join("html").join(format!("{id}.html"))) else {
            continue;
        };
        let title =
            std::fs::read_to_string(dir.join("expected-metadata").join(format!("{id}.json")))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v.get("title").and_then(|t| t.as_str()).map(str::to_string));
        pages.push(Page {
            url: entry
                .get("url")
                .and_then(|u| u.as_str())
                .and_then(|u| url::Url::parse(u).ok()),
            truth: entry
                .get("articleBody")
                .and_then(|b| b.as_str())
                .unwrap_or_default()
                .to_string(),
            html: String::from_utf8_lossy(&bytes).into_owned(),
            id,
            title,
        });
    }
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    if pages.is_empty() {
        return Err("no pages".into());
    }
    Ok(pages)
}

fn run(dir: &Path, token: &Regex) -> Result<(), String> {
    let pages = load(dir)?;
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );

    let mut outputs: Vec<Option<extract::Article>> = Vec::new();
    let mut extract_secs = f64::MAX;
    for _ in 0..TIMING_ROUNDS {
        let start = Instant::now();
        outputs = pages
            .iter()
            .map(|p| extract::article(&p.html, p.url.as_ref()).ok())
            .collect();
        extract_secs = extract_secs.min(start.elapsed().as_secs_f64());
    }
    let mut parse_secs = f64::MAX;
    for _ in 0..TIMING_ROUNDS {
        let start = Instant::now();
        for p in &pages {
            std::hint::black_box(scraper::Html::parse_document(&p.html));
        }
        parse_secs = parse_secs.min(start.elapsed().as_secs_f64());
    }

    // EXTRACT_EVAL_DUMP=<dir> writes each page's extracted text there, to read the misses
    let dump = std::env::var_os("EXTRACT_EVAL_DUMP").map(PathBuf::from);
    if let Some(dump) = &dump {
        let dir = dump.join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (page, out) in pages.iter().zip(&outputs) {
            let text = out
                .as_ref()
                .map(|a| format!("{}\n\n{}", a.title, a.text()))
                .unwrap_or_default();
            std::fs::write(dir.join(format!("{}.txt", page.id)), text)
                .map_err(|e| e.to_string())?;
        }
    }
    let mut scores = Vec::new();
    let mut failures = 0;
    let (mut titled, mut title_hits) = (0, 0);
    for (page, out) in pages.iter().zip(&outputs) {
        let pred = out.as_ref().map(|a| a.text()).unwrap_or_default();
        if out.is_none() {
            failures += 1;
        }
        scores.push((page.id.as_str(), shingle_match(token, &page.truth, &pred)));
        if let Some(expected) = &page.title {
            titled += 1;
            let got = out.as_ref().map(|a| a.title.as_str()).unwrap_or_default();
            if norm(got) == norm(expected) {
                title_hits += 1;
            }
        }
    }
    let precisions: Vec<f64> = scores
        .iter()
        .filter(|(_, (tp, fp, _))| tp + fp > 0.0)
        .map(|(_, (tp, fp, fn_))| precision(*tp, *fp, *fn_))
        .collect();
    let recalls: Vec<f64> = scores
        .iter()
        .filter(|(_, (tp, _, fn_))| tp + fn_ > 0.0)
        .map(|(_, (tp, fp, fn_))| recall(*tp, *fp, *fn_))
        .collect();
    let p = mean(&precisions);
    let r = mean(&recalls);
    let f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    println!("== {name} ({} pages)", pages.len());
    println!("precision={p:.3} recall={r:.3} F1={f1:.3}  (no article: {failures})");
    let n = pages.len() as f64;
    let extract_rate = n / extract_secs;
    let parse_rate = n / parse_secs;
    println!(
        "speed, one thread: extract {extract_rate:.0} pages/s, parse-only {parse_rate:.0} pages/s ({:.0}% of parse-only)",
        100.0 * extract_rate / parse_rate
    );
    if titled > 0 {
        println!(
            "title matches reference: {title_hits}/{titled} ({:.1}%)",
            100.0 * title_hits as f64 / titled as f64
        );
    }
    let mut per_page: Vec<(&str, f64, f64, f64)> = scores
        .iter()
        .map(|(id, (tp, fp, fn_))| {
            if tp + fp + fn_ == 0.0 {
                return (*id, 1.0, 1.0, 1.0);
            }
            let (pp, rr) = (precision(*tp, *fp, *fn_), recall(*tp, *fp, *fn_));
            let f = if pp + rr > 0.0 {
                2.0 * pp * rr / (pp + rr)
            } else {
                0.0
            };
            (*id, f, pp, rr)
        })
        .collect();
    per_page.sort_by(|a, b| a.1.total_cmp(&b.1));
    println!("worst pages (F1 precision recall id):");
    for (id, f, pp, rr) in per_page.iter().take(10) {
        println!("  {f:.3} {pp:.3} {rr:.3} {id}");
    }
    Ok(())
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn precision(tp: f64, fp: f64, fn_: f64) -> f64 {
    if fp == 0.0 && fn_ == 0.0 {
        1.0
    } else if tp == 0.0 && fp == 0.0 {
        0.0
    } else {
        tp / (tp + fp)
    }
}

fn recall(tp: f64, fp: f64, fn_: f64) -> f64 {
    if fp == 0.0 && fn_ == 0.0 {
        1.0
    } else if tp == 0.0 && fn_ == 0.0 {
        0.0
    } else {
        tp / (tp + fn_)
    }
}

/// Multisets of 4-token shingles (a shorter text is one shorter shingle, none when empty).
fn shingles<'a>(token: &Regex, text: &'a str) -> HashMap<Vec<&'a str>, usize> {
    let tokens: Vec<&str> = token.find_iter(text).map(|m| m.as_str()).collect();
    let mut out = HashMap::new();
    let n = 4;
    for i in 0..tokens.len().saturating_sub(n - 1).max(1) {
        let shingle: Vec<&str> = tokens[i..(i + n).min(tokens.len())].to_vec();
        if !shingle.is_empty() {
            *out.entry(shingle).or_insert(0) += 1;
        }
    }
    out
}

/// TP, FP, FN of one page, normalised to sum 1 (all zero when both texts are empty).
fn shingle_match(token: &Regex, truth: &str, pred: &str) -> (f64, f64, f64) {
    let t = shingles(token, truth);
    let p = shingles(token, pred);
    let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
    for (k, &tc) in &t {
        let pc = p.get(k).copied().unwrap_or(0);
        tp += tc.min(pc) as f64;
        fn_ += tc.saturating_sub(pc) as f64;
    }
    for (k, &pc) in &p {
        let tc = t.get(k).copied().unwrap_or(0);
        fp += pc.saturating_sub(tc) as f64;
    }
    let s = tp + fp + fn_;
    if s > 0.0 {
        (tp / s, fp / s, fn_ / s)
    } else {
        (0.0, 0.0, 0.0)
    }
}
