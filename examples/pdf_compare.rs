//! Compares two ways of reading the fixtures: lopdf's own `extract_text` (text in content
//! stream order) and our reader on pdf-extract's glyph positions. Prints, per fixture and
//! reader, whether the paper's columns come out in order, whether running headers and
//! line-end hyphens are gone, and the time taken.
//!
//! `cargo run --release --example pdf_compare`

use std::time::{Duration, Instant};

use linkdigest::pdf::{self, PdfLimits};

/// A sentence that runs across two lines of the paper's left column: intact only when the
/// reader follows the column rather than the drawing order.
const COLUMN_SENTENCE: &str =
    "Most songbirds migrate at night, and their numbers are hard to measure from the ground.";

/// A reader: the file's bytes to its text, or why not.
type Reader = fn(&[u8]) -> Result<String, String>;

fn lopdf_text(bytes: &[u8]) -> Result<String, String> {
    let mut doc = lopdf::Document::load_mem(bytes).map_err(|e| e.to_string())?;
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|e| e.to_string())?;
    }
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).map_err(|e| e.to_string())
}

fn ours(bytes: &[u8]) -> Result<String, String> {
    let limits = PdfLimits::default();
    pdf::read(bytes, &limits, Instant::now() + Duration::from_secs(15))
        .map(|p| format!("{}\n{}", p.article.title, p.article.text()))
        .map_err(|e| e.to_string())
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pdf");
    println!(
        "{:<22} {:<22} {:>8} {:>8} {:>8} {:>9}",
        "fixture", "reader", "columns", "header", "hyphens", "ms"
    );
    for name in [
        "paper.pdf",
        "report.pdf",
        "encrypted-empty.pdf",
        "scanned.pdf",
    ] {
        let Ok(bytes) = std::fs::read(format!("{dir}/{name}")) else {
            eprintln!("skipping {name}: not found");
            continue;
        };
        let readers: [(&str, Reader); 2] = [
            ("lopdf extract_text", lopdf_text),
            ("pdf-extract + ours", ours),
        ];
        for (reader, read) in readers {
            let started = Instant::now();
            let mut ms = 0.0;
            let mut result = Ok(String::new());
            for _ in 0..20 {
                result = read(&bytes);
            }
            ms += started.elapsed().as_secs_f64() * 1000.0 / 20.0;
            match result {
                Ok(text) => {
                    let text = flat(&text);
                    let columns = if name == "paper.pdf" {
                        if text.contains(COLUMN_SENTENCE) {
                            "right"
                        } else {
                            "WRONG"
                        }
                    } else {
                        "-"
                    };
                    let header = ["Journal of Imaginary Results", "First quarter"]
                        .iter()
                        .any(|h| text.contains(h));
                    let hyphens = text.contains("- ") || text.contains("-\n");
                    println!(
                        "{name:<22} {reader:<22} {columns:>8} {:>8} {:>8} {ms:>9.2}",
                        if header { "kept" } else { "dropped" },
                        if hyphens { "kept" } else { "joined" },
                    );
                }
                Err(e) => println!("{name:<22} {reader:<22} error: {e}"),
            }
        }
    }
}
