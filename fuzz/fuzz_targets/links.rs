//! Link finding on arbitrary text and arbitrary (often out-of-range) entity offsets.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use linkdigest::links::{self, Entity, EntityKind};

#[derive(Arbitrary, Debug)]
enum Kind {
    Url,
    TextLink(String),
    Other,
}

#[derive(Arbitrary, Debug)]
struct Input {
    text: String,
    entities: Vec<(Kind, u16, u16)>,
}

fuzz_target!(|input: Input| {
    let entities: Vec<Entity> = input
        .entities
        .into_iter()
        .map(|(kind, offset, length)| Entity {
            kind: match kind {
                Kind::Url => EntityKind::Url,
                Kind::TextLink(url) => EntityKind::TextLink(url),
                Kind::Other => EntityKind::Other,
            },
            offset: offset.into(),
            length: length.into(),
        })
        .collect();
    for link in links::find(&input.text, &entities) {
        // A found link is an http(s) URL whose key fits in callback data.
        assert!(matches!(link.url().scheme(), "http" | "https"), "{link}");
        assert!(link.key().len() <= 62, "{}", link.key());
        assert!(link.key().bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    let _ = links::find(&input.text, &[]);
});
