//! Page text never speaks in the bot's name: whatever a page (or an LLM answer) says, the
//! only link or mention Telegram finds in a rendered digest is the bot's own source link.
//!
//! The rendered HTML is turned into Telegram's plain text and `text_link` entities by the fake
//! Bot API's own HTML parser (`support::tg_html`); the autolinks are found by
//! `support::autolink`, as Telegram detects them.

use linkdigest::digest::Digest;
use linkdigest::render;
use linkdigest::summarize::RankedSentence;
use proptest::prelude::*;

use crate::support::{autolink, tg_html};

/// Plain text and the char ranges of `text_link` entities, as the fake Bot API's HTML
/// parser (Telegram's rules) reads the rendered digest.
fn parse_html(html: &str) -> (String, Vec<(usize, usize, String)>) {
    let parsed = tg_html::parse(html).unwrap_or_else(|e| panic!("Telegram refuses {html:?}: {e}"));
    // Entity offsets count UTF-16 units; the autolink detector counts chars.
    let mut char_at_unit = Vec::new();
    for (index, c) in parsed.text.chars().enumerate() {
        char_at_unit.extend(std::iter::repeat_n(index, c.len_utf16()));
    }
    let chars = parsed.text.chars().count();
    char_at_unit.push(chars);
    let at = |unit: usize| char_at_unit.get(unit).copied().unwrap_or(chars);
    let links = parsed
        .entities
        .iter()
        .filter(|e| e.kind == "text_link")
        .map(|e| {
            let url = e.url.clone().unwrap_or_default();
            (at(e.offset), at(e.offset + e.length), url)
        })
        .collect();
    (parsed.text, links)
}

/// Pieces of hostile page text: links, addresses, mentions, commands, tags, and prose.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https://evil.example.com/login".to_owned()),
        Just("http://1.2.3.4:8080/x".to_owned()),
        Just("evil.com/login".to_owned()),
        Just("t.me/joinchat/abc".to_owned()),
        Just("www.bank.co.uk".to_owned()),
        Just("support@bank.com".to_owned()),
        Just("@everyone_here".to_owned()),
        Just("/start".to_owned()),
        Just("/ban@some_bot".to_owned()),
        Just("#breaking".to_owned()),
        Just("$BTC".to_owned()),
        Just("пример.рф".to_owned()),
        "[a-z]{1,8}\\.(com|org|net|io|ru|de)".prop_map(String::from),
        "[a-zA-Z]{1,10}".prop_map(String::from),
        "[ .,:;/@#$!?()<>&\"'-]{1,3}".prop_map(String::from),
        Just("Log in".to_owned()),
    ]
}

fn page_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (piece(), prop_oneof![Just(""), Just(" "), Just("\n")]),
        1..12,
    )
    .prop_map(|parts| parts.into_iter().map(|(p, sep)| p + sep).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_only_link_in_a_digest_is_the_bots_own(
        title in page_text(),
        site in page_text(),
        sentences in prop::collection::vec(page_text(), 1..5),
    ) {
        let digest = Digest {
            title,
            site,
            url: Some("https://news.example.org/story?id=1".to_owned()),
            lang: Some("en".to_owned()),
            reading_minutes: 3,
            sentences: sentences
                .iter()
                .enumerate()
                .map(|(position, text)| RankedSentence { text: text.clone(), position })
                .collect(),
            preview_only: false,
        };
        let html = render::digest(&digest, &sentences);
        let (text, links) = parse_html(&html);
        prop_assert_eq!(links.len(), 1, "one link, the bot's: {}", html);
        prop_assert_eq!(&links[0].2, "https://news.example.org/story?id=1");
        for found in autolink::detect(&text) {
            // inside the bot's own link Telegram detects nothing: the link wins
            let inside = links.iter().any(|(s, e, _)| found.start >= *s && found.end <= *e);
            prop_assert!(inside, "{:?} is live in {:?}", found, text);
        }
    }
}

#[test]
fn the_bots_own_link_survives_and_page_text_reads_the_same() {
    let digest = Digest {
        title: "Log in at evil.com/login".to_owned(),
        site: "@news".to_owned(),
        url: Some("https://news.example.org/a".to_owned()),
        lang: None,
        reading_minutes: 1,
        sentences: vec![],
        preview_only: false,
    };
    let sentences = vec!["Mail support@bank.com or ping @admin with /start.".to_owned()];
    let (text, links) = parse_html(&render::digest(&digest, &sentences));
    assert_eq!(links.len(), 1);
    assert!(
        autolink::detect(&text)
            .iter()
            .all(|a| links.iter().any(|(s, e, _)| a.start >= *s && a.end <= *e))
    );
    let shown = text.replace(render::WORD_JOINER, "");
    assert!(shown.contains("Log in at evil.com/login"));
    assert!(shown.contains("Mail support@bank.com or ping @admin with /start."));
}
