//! CPU seconds and peak memory per hostile page: each page of the committed generator
//! (`tests/e2e/support/hostile.rs`) goes through extraction and the extractive summarizer
//! under the service's CPU deadline, as a link would.
//!
//! Run with `cargo run --release --example hostile`. The target is < 1 s of CPU per page; the
//! baseline line is an ordinary article measured in the same run.

#[path = "../tests/e2e/support/hostile.rs"]
mod hostile;

use std::time::Duration;

use linkdigest::budget::Deadline;
use linkdigest::extract;
use linkdigest::summarize::Extractive;

const SEED: &str = include_str!("../tests/fixtures/seed.html");

/// User plus system CPU seconds of this process, from `/proc/self/stat` (Linux).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // the fields after the command name, which is in parentheses and may hold spaces
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A field of `/proc/self/status` in MiB (`VmHWM`, `VmRSS`).
fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets the peak-RSS mark so each page reports its own peak (Linux ≥ 4.0).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Extracts and summarizes one page under a fresh deadline; the outcome as a short word.
fn digest(html: &str, deadline: Duration) -> String {
    let summarizer = Extractive::new();
    let outcome = Deadline::after(deadline)
        .run(|| extract::article(html, None).map(|article| summarizer.rank(&article, 12)));
    match outcome {
        Ok(Ok(Ok(summary))) => format!("{} sentences", summary.sentences.len()),
        Ok(Ok(Err(e))) => format!("summary: {e}"),
        Ok(Err(e)) => format!("extract: {e}"),
        Err(e) => e.to_string(),
    }
}

fn measure(name: &str, html: &str, deadline: Duration) {
    reset_peak();
    let before = cpu_seconds().unwrap_or(0.0);
    let started = std::time::Instant::now();
    let outcome = digest(html, deadline);
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().unwrap_or(0.0) - before;
    let peak = status_mib("VmHWM").unwrap_or(0.0);
    println!(
        "{name:<24} {:>8.2} MB {cpu:>7.2} s cpu {wall:>7.2} s wall {peak:>8.1} MiB peak  {outcome}",
        html.len() as f64 / 1e6
    );
}

fn main() {
    let deadline = Duration::from_secs(
        std::env::var("HOSTILE_DEADLINE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    );
    println!(
        "deadline {} s; cpu is user + system time of this process",
        deadline.as_secs()
    );
    measure("baseline (seed article)", SEED, deadline);
    for page in hostile::all() {
        measure(page.name, &page.html, deadline);
    }
    println!(
        "process peak RSS (VmHWM since the last page's reset) {:.1} MiB",
        status_mib("VmHWM").unwrap_or(0.0)
    );
}
