//! The PDF reader on arbitrary bytes. Panics inside the parser are contained by design
//! (`catch_unwind` turns them into a reason), so the hook is silenced: what this target looks
//! for is what containment cannot catch (stack overflows, hangs, runaway memory).
#![no_main]

use std::sync::Once;
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use linkdigest::pdf::{self, PdfLimits};

static QUIET: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let limits = PdfLimits {
        max_pages: 8,
        max_stream_bytes: 1 << 20,
        ..PdfLimits::default()
    };
    if let Ok(pdf) = pdf::read(data, &limits, Instant::now() + Duration::from_secs(5)) {
        // Whatever is found must be usable downstream.
        let _ = pdf.article.text();
        let _ = pdf.article.word_count();
    }
});
