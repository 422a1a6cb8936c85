//! Extraction quality and speed over the dev sets, by halves, against a saved baseline.
//!
//! `cargo run --release --example extract_eval -- [--worst N] [--rounds N] [--save FILE]
//! [--baseline FILE] [<dataset-dir>...]`
//!
//! Without directories it reads every set under `../shared/data/extraction` (relative to the
//! repository: scrapinghub-aeb, readability-test-pages, dragnet) and skips what is absent.
//! Each directory holds `ground-truth.json` (`{"<id>": {"articleBody", "url"}}`) and
//! `html/<id>.html`. Pages are read as UTF-8 when they are valid UTF-8, else decoded as the
//! product decodes a file (BOM, `<meta>` charset, else a guess).
//!
//! Three dragnet gold texts are stored as UTF-16 read as UTF-8; their NULs are dropped.
//!
//! Scores are the article-extraction-benchmark's evaluate.py: multisets of 4-token shingles
//! over `\w+` tokens, per-page TP/FP/FN normalised to sum 1, precision and recall averaged
//! over pages, F1 of those averages. Each set is reported whole and by halves (A: ids whose
//! sha256 starts with an even byte, the half to tune on; B: the rest), with the N worst pages
//! by F1 (trafilatura-style), the title match rate where `expected-metadata/<id>.json` exists,
//! and pages per second against scraper's parse-only rate. `--save FILE` writes every page's
//! scores as JSON; `--baseline FILE` compares with such a file: the baseline's figures beside
//! the current ones and the paired bootstrap (1,000 resamples) of the per-page F1 difference
//! on each half.
#![allow(
    clippy::too_many_lines,
    reason = "the 80-line limit is for src/; test and example drivers read top-down"
)]

#[path = "eval/mod.rs"]
mod eval;

use eval::{Half, paired_bootstrap};
use linkdigest::extract;
use linkdigest::fetch::{PageKind, decode_document};
use regex::Regex;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The dev sets, relative to the repository root.
const DATA_DIR: &str = "../shared/data/extraction";
/// The sets in report order (others found there come after, by name).
const SETS: &[&str] = &["scrapinghub-aeb", "readability-test-pages", "dragnet"];
const RESAMPLES: usize = 1000;

/// Per-page scores of every set: set name → page id → (TP, FP, FN), normalised.
type Scores = BTreeMap<String, BTreeMap<String, [f64; 3]>>;

struct Options {
    worst: usize,
    rounds: usize,
    save: Option<PathBuf>,
    baseline: Option<PathBuf>,
    dirs: Vec<PathBuf>,
}

fn main() {
    let opts = match options() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("extract_eval: {e}");
            std::process::exit(2);
        }
    };
    let baseline: Option<Scores> = match &opts.baseline {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Scores>(&t).map_err(|e| e.to_string()))
        {
            Ok(mut b) => {
                // JSON's decimal floats come back within an ulp: round as the scores are
                for page in b
                    .values_mut()
                    .flat_map(|set: &mut BTreeMap<_, _>| set.values_mut())
                {
                    *page = rounded(*page);
                }
                Some(b)
            }
            Err(e) => {
                eprintln!("extract_eval: {}: {e}", path.display());
                std::process::exit(2);
            }
        },
        None => None,
    };
    let dirs = if opts.dirs.is_empty() {
        default_dirs()
    } else {
        opts.dirs.clone()
    };
    if dirs.is_empty() {
        println!("no datasets found under {DATA_DIR} (relative to the repository); skipping");
        return;
    }
    let token = Regex::new(r"\w+").expect("constant regex");
    let mut all: Scores = BTreeMap::new();
    let mut summary = Vec::new();
    let (mut pages_total, mut extract_secs_total) = (0usize, 0.0f64);
    for dir in dirs {
        match run(&dir, &token, &opts, baseline.as_ref()) {
            Ok(set) => {
                pages_total += set.scores.len();
                extract_secs_total += set.extract_secs;
                summary.push((set.name.clone(), set.scores.clone()));
                all.insert(set.name, set.scores);
            }
            Err(e) => println!("{}: skipped ({e})", dir.display()),
        }
    }
    print_summary(&summary, baseline.as_ref());
    if extract_secs_total > 0.0 {
        println!(
            "speed over all sets, one thread: {:.0} pages/s",
            pages_total as f64 / extract_secs_total
        );
    }
    if let Some(path) = &opts.save {
        let json = serde_json::to_string(&all).expect("scores serialise");
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("extract_eval: {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("per-page scores saved to {}", path.display());
    }
}

fn options() -> Result<Options, String> {
    let mut opts = Options {
        worst: 10,
        rounds: 1,
        save: None,
        baseline: None,
        dirs: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--worst" => {
                opts.worst = value("--worst")?
                    .parse()
                    .map_err(|_| "--worst needs a number")?
            }
            "--rounds" => {
                opts.rounds = value("--rounds")?
                    .parse::<usize>()
                    .map_err(|_| "--rounds needs a number")?
                    .max(1)
            }
            "--save" => opts.save = Some(value("--save")?.into()),
            "--baseline" => opts.baseline = Some(value("--baseline")?.into()),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => opts.dirs.push(arg.into()),
        }
    }
    Ok(opts)
}

fn default_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA_DIR);
    let Ok(entries) = std::fs::read_dir(&root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("ground-truth.json").is_file())
        .collect();
    let rank = |p: &PathBuf| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        let at = SETS.iter().position(|s| Some(*s) == name.as_deref());
        (at.unwrap_or(SETS.len()), name)
    };
    dirs.sort_by_key(rank);
    dirs
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
        // the sets store UTF-8 (some pages still declare their original charset); the rest
        // (older dragnet pages) are decoded as the product decodes a file
        let html = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => match decode_document(e.as_bytes(), Some(PageKind::Html)) {
                Ok((_, text)) => text,
                Err(_) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            },
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
            truth: repair_utf16(
                entry
                    .get("articleBody")
                    .and_then(|b| b.as_str())
                    .unwrap_or_default(),
            ),
            html,
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

/// One set's outcome, for the summary and `--save`.
struct SetResult {
    name: String,
    scores: BTreeMap<String, [f64; 3]>,
    extract_secs: f64,
}

fn run(
    dir: &Path,
    token: &Regex,
    opts: &Options,
    baseline: Option<&Scores>,
) -> Result<SetResult, String> {
    let pages = load(dir)?;
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );

    let mut outputs: Vec<Option<extract::Article>> = Vec::new();
    let mut extract_secs = f64::MAX;
    for _ in 0..opts.rounds {
        let start = Instant::now();
        outputs = pages
            .iter()
            .map(|p| extract::article(&p.html, p.url.as_ref()).ok())
            .collect();
        extract_secs = extract_secs.min(start.elapsed().as_secs_f64());
    }
    let mut parse_secs = f64::MAX;
    for _ in 0..opts.rounds {
        let start = Instant::now();
        for p in &pages {
            std::hint::black_box(scraper::Html::parse_document(&p.html));
        }
        parse_secs = parse_secs.min(start.elapsed().as_secs_f64());
    }

    // EXTRACT_EVAL_DUMP=<dir> writes each page's extracted text there, to read the misses
    if let Some(dump) = std::env::var_os("EXTRACT_EVAL_DUMP").map(PathBuf::from) {
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
    let mut scores = BTreeMap::new();
    let mut failures = 0;
    let (mut titled, mut title_hits) = (0, 0);
    for (page, out) in pages.iter().zip(&outputs) {
        let pred = out.as_ref().map(|a| a.text()).unwrap_or_default();
        if out.is_none() {
            failures += 1;
        }
        scores.insert(page.id.clone(), shingle_match(token, &page.truth, &pred));
        if let Some(expected) = &page.title {
            titled += 1;
            let got = out.as_ref().map(|a| a.title.as_str()).unwrap_or_default();
            if norm(got) == norm(expected) {
                title_hits += 1;
            }
        }
    }
    let base = baseline.and_then(|b| b.get(&name));
    let (a, b) = halves(&scores);
    println!(
        "== {name} ({} pages: A {}, B {}; no article: {failures})",
        pages.len(),
        a.len(),
        b.len()
    );
    println!("            precision recall  F1     mean page F1");
    let all: Vec<&[f64; 3]> = scores.values().collect();
    print_row("all", &all, base.map(|base| pick(base, &scores, None)));
    for (half, items) in [(Half::A, &a), (Half::B, &b)] {
        let vals: Vec<&[f64; 3]> = items.iter().map(|(_, s)| *s).collect();
        print_row(
            &format!("half {}", half.name()),
            &vals,
            base.map(|base| pick(base, &scores, Some(half))),
        );
    }
    if let Some(base) = base {
        for (half, items) in [(Half::A, &a), (Half::B, &b)] {
            let paired: Vec<(f64, f64)> = items
                .iter()
                .filter_map(|(id, s)| base.get(*id).map(|b| (page_f1(b), page_f1(s))))
                .collect();
            let (before, after): (Vec<f64>, Vec<f64>) = paired.into_iter().unzip();
            if let Some(iv) = paired_bootstrap(&before, &after, RESAMPLES) {
                println!(
                    "  page F1 change on {} ({} pages): {}",
                    half.name(),
                    before.len(),
                    iv.show()
                );
            }
        }
        let changed: Vec<(&String, f64, f64)> = scores
            .iter()
            .filter_map(|(id, s)| base.get(id).map(|b| (id, page_f1(b), page_f1(s))))
            .filter(|(_, b, a)| (a - b).abs() > 1e-9)
            .collect();
        let better = changed.iter().filter(|(_, b, a)| a > b).count();
        println!(
            "  pages changed: {} ({better} better, {} worse)",
            changed.len(),
            changed.len() - better
        );
    }
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
    let mut per_page: Vec<(&String, &[f64; 3])> = scores.iter().collect();
    per_page.sort_by(|x, y| page_f1(x.1).total_cmp(&page_f1(y.1)).then(x.0.cmp(y.0)));
    if opts.worst > 0 {
        println!("{} worst pages (F1 precision recall half id):", opts.worst);
        for (id, s) in per_page.iter().take(opts.worst) {
            let [tp, fp, fn_] = **s;
            println!(
                "  {:.3} {:.3} {:.3} {} {id}",
                page_f1(s),
                precision(tp, fp, fn_),
                recall(tp, fp, fn_),
                Half::of(id).name()
            );
        }
    }
    println!();
    Ok(SetResult {
        name,
        scores,
        extract_secs,
    })
}

/// The pages of each half, in id order.
type HalfPages<'a> = Vec<(&'a String, &'a [f64; 3])>;

fn halves(scores: &BTreeMap<String, [f64; 3]>) -> (HalfPages<'_>, HalfPages<'_>) {
    scores.iter().partition(|(id, _)| Half::of(id) == Half::A)
}

/// The baseline's scores of the pages scored now (in `half`, or all).
fn pick<'a>(
    base: &'a BTreeMap<String, [f64; 3]>,
    now: &BTreeMap<String, [f64; 3]>,
    half: Option<Half>,
) -> Vec<&'a [f64; 3]> {
    now.keys()
        .filter(|id| half.is_none_or(|h| Half::of(id) == h))
        .filter_map(|id| base.get(id))
        .collect()
}

fn print_row(label: &str, now: &[&[f64; 3]], before: Option<Vec<&[f64; 3]>>) {
    let (p, r, f) = set_scores(now);
    let mean_f = mean(&now.iter().map(|s| page_f1(s)).collect::<Vec<_>>());
    print!("  {label:<8}  {p:.3}     {r:.3}   {f:.3}  {mean_f:.3}");
    if let Some(before) = before {
        let (_, _, bf) = set_scores(&before);
        print!("   (baseline F1 {bf:.3}, {:+.3})", f - bf);
    }
    println!();
}

/// Precision, recall and F1 of a set as evaluate.py computes them.
fn set_scores(pages: &[&[f64; 3]]) -> (f64, f64, f64) {
    let precisions: Vec<f64> = pages
        .iter()
        .filter(|[tp, fp, _]| tp + fp > 0.0)
        .map(|[tp, fp, fn_]| precision(*tp, *fp, *fn_))
        .collect();
    let recalls: Vec<f64> = pages
        .iter()
        .filter(|[tp, _, fn_]| tp + fn_ > 0.0)
        .map(|[tp, fp, fn_]| recall(*tp, *fp, *fn_))
        .collect();
    let p = mean(&precisions);
    let r = mean(&recalls);
    (p, r, f1(p, r))
}

/// The summary table: each set's F1 (all, A, B) and the mean over the sets.
fn print_summary(sets: &[(String, BTreeMap<String, [f64; 3]>)], baseline: Option<&Scores>) {
    if sets.is_empty() {
        return;
    }
    println!("== summary (F1 as evaluate.py; baseline in parentheses)");
    println!(
        "  {:<24} {:>15} {:>15} {:>15}",
        "set", "all", "half A", "half B"
    );
    let mut cols = [Vec::new(), Vec::new(), Vec::new()];
    let mut base_cols = [Vec::new(), Vec::new(), Vec::new()];
    for (name, scores) in sets {
        let base = baseline.and_then(|b| b.get(name));
        let mut cells = Vec::new();
        for (k, half) in [None, Some(Half::A), Some(Half::B)].into_iter().enumerate() {
            let now: Vec<&[f64; 3]> = scores
                .iter()
                .filter(|(id, _)| half.is_none_or(|h| Half::of(id) == h))
                .map(|(_, s)| s)
                .collect();
            let f = set_scores(&now).2;
            cols[k].push(f);
            let cell = match base {
                Some(base) => {
                    let bf = set_scores(&pick(base, scores, half)).2;
                    base_cols[k].push(bf);
                    format!("{f:.3} ({bf:.3})")
                }
                None => format!("{f:.3}"),
            };
            cells.push(cell);
        }
        println!(
            "  {name:<24} {:>15} {:>15} {:>15}",
            cells[0], cells[1], cells[2]
        );
    }
    let cell = |k: usize| {
        if base_cols[k].len() == cols[k].len() {
            format!("{:.3} ({:.3})", mean(&cols[k]), mean(&base_cols[k]))
        } else {
            format!("{:.3}", mean(&cols[k]))
        }
    };
    println!(
        "  {:<24} {:>15} {:>15} {:>15}",
        "mean of the sets",
        cell(0),
        cell(1),
        cell(2)
    );
}

/// A few dragnet gold texts are UTF-16 read as UTF-8 (a NUL after every ASCII character,
/// the byte-order mark turned into U+FFFD): dropping those gives back their ASCII text, so
/// the page is scored against words rather than single letters.
fn repair_utf16(truth: &str) -> String {
    let nuls = truth.bytes().filter(|&b| b == 0).count();
    if nuls * 3 < truth.len() {
        return truth.to_string();
    }
    truth
        .chars()
        .filter(|&c| c != '\0' && c != char::REPLACEMENT_CHARACTER)
        .collect()
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

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// One page's F1 (1 when both texts are empty).
fn page_f1(s: &[f64; 3]) -> f64 {
    let [tp, fp, fn_] = *s;
    if tp + fp + fn_ == 0.0 {
        return 1.0;
    }
    f1(precision(tp, fp, fn_), recall(tp, fp, fn_))
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

/// Scores to nine decimals, so a saved baseline reads back exactly equal.
fn rounded(s: [f64; 3]) -> [f64; 3] {
    s.map(|x| (x * 1e9).round() / 1e9)
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
fn shingle_match(token: &Regex, truth: &str, pred: &str) -> [f64; 3] {
    let t = shingles(token, truth);
    let p = shingles(token, pred);
    // whole counts, so the figures do not depend on the maps' iteration order
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (k, &tc) in &t {
        let pc = p.get(k).copied().unwrap_or(0);
        tp += tc.min(pc);
        fn_ += tc.saturating_sub(pc);
    }
    for (k, &pc) in &p {
        let tc = t.get(k).copied().unwrap_or(0);
        fp += pc.saturating_sub(tc);
    }
    let s = (tp + fp + fn_) as f64;
    if s > 0.0 {
        rounded([tp as f64 / s, fp as f64 / s, fn_ as f64 / s])
    } else {
        [0.0, 0.0, 0.0]
    }
}
