//! The hostile-page generator's shapes at fuzzer-chosen sizes, with fuzzer bytes appended,
//! through the markup bound and the extractor under a CPU deadline: it must return.
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/e2e/support/hostile.rs"]
mod hostile;

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use linkdigest::budget::Deadline;

fuzz_target!(|input: (u8, u16, &[u8])| {
    let (shape, size, tail) = input;
    let n = usize::from(size);
    let mut html = match shape % 10 {
        0 => hostile::attributes(n),
        1 => hostile::nested(n),
        2 => hostile::text_node(n * 16),
        3 => hostile::attribute_values(2, n * 8),
        4 => hostile::breaks(n),
        5 => hostile::nested_tables(n / 4),
        6 => hostile::select(n / 8),
        7 => hostile::entities(n),
        8 => hostile::endless_sentences(12, n * 16),
        _ => hostile::formatting(n),
    };
    html.push_str(&String::from_utf8_lossy(tail));
    let _ = Deadline::after(Duration::from_secs(2)).run(|| {
        if let Ok(article) = linkdigest::extract::article(&html, None) {
            let _ = article.text();
        }
    });
});
