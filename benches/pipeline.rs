//! Pages per second, one thread: scraper's parse alone (the baseline), extraction, and
//! extraction plus summarization, over the seed page and the scrapinghub benchmark pages.
//!
//! The benchmark pages are read from `../shared/data` (relative to the repository) at run time
//! and skipped when absent.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use linkdigest::extract;
use linkdigest::summarize::Extractive;

const SEED: &str = include_str!("../tests/fixtures/seed.html");
const AEB_DIR: &str = "../shared/data/extraction/scrapinghub-aeb/html";

/// Every `.html` file in `dir`, or `None` (with a message) when the folder is absent.
fn pages(dir: &Path) -> Option<Vec<String>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        eprintln!("skipping {}: folder not found", dir.display());
        return None;
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    paths.sort();
    Some(
        paths
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect(),
    )
}

fn bench_set(c: &mut Criterion, name: &str, pages: &[String]) {
    let summarizer = Extractive::new();
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.throughput(Throughput::Elements(pages.len() as u64));
    group.bench_function("parse_only", |b| {
        b.iter(|| {
            for page in pages {
                black_box(scraper::Html::parse_document(page));
            }
        })
    });
    group.bench_function("extract", |b| {
        b.iter(|| {
            for page in pages {
                let _ = black_box(extract::article(page, None));
            }
        })
    });
    group.bench_function("extract_summarize", |b| {
        b.iter(|| {
            for page in pages {
                if let Ok(article) = extract::article(page, None) {
                    let _ = black_box(summarizer.rank(&article, 12));
                }
            }
        })
    });
    group.finish();
}

fn pipeline(c: &mut Criterion) {
    bench_set(c, "seed", &[SEED.to_owned()]);
    if let Some(pages) = pages(&Path::new(env!("CARGO_MANIFEST_DIR")).join(AEB_DIR)) {
        bench_set(c, "scrapinghub_aeb", &pages);
    }
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
