//! The digest renderer on arbitrary titles, sites, URLs and sentences: the message must stay
//! valid Telegram HTML within 4096 UTF-16 units of visible text.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use linkdigest::digest::Digest;
use linkdigest::render::{self, MAX_MESSAGE_UTF16};

#[derive(Arbitrary, Debug)]
struct Input {
    title: String,
    site: String,
    url: Option<String>,
    reading_minutes: u32,
    sentences: Vec<String>,
    preview_only: bool,
}

/// The text Telegram shows, or a description of why the HTML is not what render may emit.
fn visible(html: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut open: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest.find('>').ok_or("unterminated tag")?;
                let tag = &rest[1..end];
                match tag {
                    "b" => open.push("b"),
                    t if t.starts_with("a href=\"") && t.ends_with('"') => {
                        let value = &t[8..t.len() - 1];
                        if value.contains('"') || value.contains('<') {
                            return Err(format!("bad attribute {t:?}"));
                        }
                        check_entities(value)?;
                        open.push("a");
                    }
                    "/b" | "/a" => {
                        if open.pop() != Some(&tag[1..]) {
                            return Err(format!("unbalanced {tag:?}"));
                        }
                    }
                    other => return Err(format!("unexpected tag {other:?}")),
                }
                rest = &rest[end + 1..];
            }
            '>' => return Err("bare >".into()),
            '&' => {
                let end = rest.find(';').ok_or("& without ;")?;
                out.push(match &rest[..=end] {
                    "&amp;" => '&',
                    "&lt;" => '<',
                    "&gt;" => '>',
                    "&quot;" => '"',
                    other => return Err(format!("unknown entity {other:?}")),
                });
                rest = &rest[end + 1..];
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    if !open.is_empty() {
        return Err(format!("unclosed {open:?}"));
    }
    Ok(out)
}

fn check_entities(value: &str) -> Result<(), String> {
    for (i, _) in value.match_indices('&') {
        let tail = &value[i..];
        if !["&amp;", "&lt;", "&gt;", "&quot;"].iter().any(|e| tail.starts_with(e)) {
            return Err(format!("bad entity in attribute {value:?}"));
        }
    }
    Ok(())
}

fuzz_target!(|input: Input| {
    let digest = Digest {
        title: input.title,
        site: input.site,
        url: input.url,
        lang: None,
        reading_minutes: input.reading_minutes,
        sentences: Vec::new(),
        preview_only: input.preview_only,
    };
    let html = render::digest(&digest, &input.sentences);
    let shown = match visible(&html) {
        Ok(shown) => shown,
        Err(why) => panic!("{why}: {html:?}"),
    };
    assert!(!shown.trim().is_empty(), "empty message");
    let units = shown.encode_utf16().count();
    assert!(units <= MAX_MESSAGE_UTF16, "{units} UTF-16 units");
});
