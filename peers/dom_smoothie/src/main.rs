//! Times dom_smoothie's `Readability::parse` over HTML files on one thread, in process.
//!
//! `dom-smoothie-speed REPEAT FILE...` reads every file first, then parses each one REPEAT
//! times and prints `pages seconds pages_per_second` (one line) for scripts/peers.sh.

use std::process::ExitCode;
use std::time::Instant;

use dom_smoothie::{Config, Readability, TextMode};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(repeat) = args.next().and_then(|r| r.parse::<usize>().ok()) else {
        eprintln!("usage: dom-smoothie-speed REPEAT FILE...");
        return ExitCode::FAILURE;
    };
    let mut pages = Vec::new();
    for path in args {
        match std::fs::read(&path) {
            Ok(bytes) => pages.push(String::from_utf8_lossy(&bytes).into_owned()),
            Err(e) => {
                eprintln!("dom-smoothie-speed: {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    // Plain text out, as ours and trafilatura's are.
    let config = Config {
        text_mode: TextMode::Formatted,
        ..Config::default()
    };
    let started = Instant::now();
    let (mut done, mut failed, mut chars) = (0usize, 0usize, 0usize);
    for _ in 0..repeat {
        for html in &pages {
            let parsed = Readability::new(html.as_str(), None, Some(config.clone()))
                .and_then(|mut r| r.parse());
            match parsed {
                Ok(article) => chars += article.text_content.len(),
                Err(_) => failed += 1,
            }
            done += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("dom_smoothie: {done} pages, {failed} without an article, {chars} chars of text");
    println!("{done} {seconds:.3} {:.1}", done as f64 / seconds);
    ExitCode::SUCCESS
}
