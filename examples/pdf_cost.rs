//! Prints the CPU cost of reading each hostile PDF and each fixture, and what the reader
//! answered. Targets: every hostile document < 1 s of CPU.
//!
//! `cargo run --release --example pdf_cost`

use std::time::{Duration, Instant};

use linkdigest::pdf::{self, PdfLimits, hostile};

/// CPU time of this thread so far (Linux schedstat, nanoseconds), else wall time.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .unwrap_or_else(|| Instant::now().elapsed())
}

fn main() {
    let limits = PdfLimits::default();
    let mut docs: Vec<(String, Vec<u8>)> = hostile::samples()
        .into_iter()
        .map(|s| (s.name.to_owned(), s.bytes))
        .collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pdf");
    for name in [
        "report.pdf",
        "paper.pdf",
        "scanned.pdf",
        "encrypted-empty.pdf",
        "encrypted-objstm.pdf",
        "objstm-bomb.pdf",
        "encrypted-objstm-bomb.pdf",
    ] {
        match std::fs::read(format!("{dir}/{name}")) {
            Ok(bytes) => docs.push((format!("fixture {name}"), bytes)),
            Err(e) => eprintln!("skipping {name}: {e}"),
        }
    }
    println!(
        "{:<36} {:>10} {:>8} {:>8}  answer",
        "document", "size", "cpu ms", "wall ms"
    );
    let mut worst = Duration::ZERO;
    for (name, bytes) in &docs {
        let before = thread_cpu();
        let started = Instant::now();
        let result = pdf::read(bytes, &limits, Instant::now() + Duration::from_secs(15));
        let wall = started.elapsed();
        // schedstat is coarse for short runs; the wall time bounds the CPU of this one thread.
        let cpu = thread_cpu().saturating_sub(before);
        if !name.starts_with("fixture") {
            worst = worst.max(wall);
        }
        let answer = match result {
            Ok(pdf) => format!(
                "text, {} chars: {:?}",
                pdf.article.text().len(),
                pdf.article.title
            ),
            Err(e) => e.to_string(),
        };
        println!(
            "{name:<36} {:>10} {:>8.1} {:>8.1}  {answer}",
            bytes.len(),
            cpu.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0
        );
    }
    println!(
        "worst hostile document: {:.1} ms wall, an upper bound of its CPU (target < 1000 ms)",
        worst.as_secs_f64() * 1000.0
    );
}
