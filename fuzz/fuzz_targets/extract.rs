//! The extractor on arbitrary bytes read as lossy UTF-8, with and without a base URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let base = Url::parse("https://news.example/a/b").ok();
    if let Ok(article) = linkdigest::extract::article(&html, base.as_ref()) {
        // Whatever is found must be usable downstream.
        let _ = article.text();
        let _ = article.word_count();
    }
});
