//! Find article URLs in a message and normalise them for caching.
//!
//! A link written without `http://` or `https://` (say `example.org/story`) counts only when it
//! has a path, so that naming a site ("I read example.org") or a file (`notes.txt`) does not
//! trigger a digest; such links are fetched over https.

use std::collections::HashSet;
use std::fmt;

use linkify::{LinkFinder, LinkKind};
use sha2::{Digest, Sha256};
use url::Url;

/// What a Telegram message entity marks, as far as links are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntityKind {
    /// A URL written in the text itself (Telegram's `url` entity).
    Url,
    /// Text that links elsewhere (Telegram's `text_link` entity), holding the entity's url.
    TextLink(String),
    /// Any other entity (bold, mention, …), ignored here.
    Other,
}

/// A Telegram message entity; offset and length are in UTF-16 code units, as Telegram sends them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// What the entity marks.
    pub kind: EntityKind,
    /// Start of the entity in UTF-16 code units.
    pub offset: usize,
    /// Length of the entity in UTF-16 code units.
    pub length: usize,
}

/// Why a string is not a link we can digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The string does not parse as a URL.
    #[error("not a valid link")]
    Invalid,
    /// The URL uses a scheme other than http or https (mailto:, tg:, ftp:, …).
    #[error("not an http(s) link")]
    NotHttp,
}

/// An http(s) URL normalised for caching: parsed once, valid from then on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NormalizedUrl(Url);

impl NormalizedUrl {
    /// Parses and normalises a link; one without a scheme (`example.org/a`) is taken as https.
    pub fn parse(s: &str) -> Result<Self, LinkError> {
        let s = s.trim();
        let url = match Url::parse(s) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                Url::parse(&format!("https://{s}")).map_err(|_| LinkError::Invalid)?
            }
            Err(_) => return Err(LinkError::Invalid),
        };
        Self::from_url(url)
    }

    /// Normalises an already parsed URL: lowercase scheme and host, no fragment, default port,
    /// trailing host dot or tracking parameters.
    pub fn from_url(mut url: Url) -> Result<Self, LinkError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(LinkError::NotHttp);
        }
        let host = url.host_str().ok_or(LinkError::Invalid)?;
        if host.ends_with('.') {
            // Every trailing dot goes, so normalising a normalised URL changes nothing.
            let trimmed = host.trim_end_matches('.');
            if trimmed.is_empty() {
                return Err(LinkError::Invalid);
            }
            let trimmed = trimmed.to_owned();
            url.set_host(Some(&trimmed))
                .map_err(|_| LinkError::Invalid)?;
        }
        url.set_fragment(None);
        let query = url.query().map(without_tracking_params);
        url.set_query(query.as_deref().filter(|q| !q.is_empty()));
        Ok(Self(url))
    }

    /// The normalised URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The normalised URL.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// A short stable key (16 lowercase hex characters of a SHA-256 of the URL), small enough
    /// for Telegram's 64-byte `callback_data`.
    pub fn key(&self) -> String {
        key_of(self.as_str())
    }
}

/// The [`NormalizedUrl::key`] of a link already normalized (as stored).
pub fn key_of(normalized: &str) -> String {
    let hash = Sha256::digest(normalized.as_bytes());
    hash[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl fmt::Display for NormalizedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Query parameters that only track the reader and never change the page.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "yclid",
    "msclkid",
    "twclid",
    "ttclid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "_ga",
    "_gl",
    "ref_src",
    "ref_url",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wickedid",
];

fn is_tracking_param(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// Drops tracking parameters and empty pairs, keeping the others raw and in order.
fn without_tracking_params(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| {
            let mut decoded = url::form_urlencoded::parse(pair.as_bytes());
            match decoded.next() {
                Some((name, _)) => !is_tracking_param(&name),
                None => false,
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Path extensions of files that are not web pages (PDF is kept: the fetcher explains it).
const MEDIA_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "svg", "ico", "tif", "tiff", "heic", "avif", "mp4",
    "m4v", "mov", "avi", "mkv", "webm", "wmv", "flv", "mp3", "m4a", "wav", "ogg", "oga", "opus",
    "flac", "aac", "zip", "rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "exe", "msi", "dmg", "apk",
    "iso", "deb", "rpm",
];

/// Telegram's own domains: their links are chats and channels, not articles.
const TELEGRAM_DOMAINS: &[&str] = &["t.me", "telegram.me", "telegram.org", "telegram.dog"];

/// Whether a link plausibly leads to an article rather than Telegram itself or a media file.
fn is_article_link(link: &NormalizedUrl) -> bool {
    let host = link.url().host_str().unwrap_or_default();
    let telegram = TELEGRAM_DOMAINS
        .iter()
        .any(|d| host == *d || host.strip_suffix(d).is_some_and(|sub| sub.ends_with('.')));
    if telegram {
        return false;
    }
    let last_segment = link
        .url()
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or_default();
    let media = last_segment
        .rsplit_once('.')
        .is_some_and(|(_, ext)| MEDIA_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()));
    !media
}

/// Parses a link as written in a message; a scheme-less one needs a path to count.
fn parse_written(s: &str) -> Option<NormalizedUrl> {
    let has_scheme = Url::parse(s).is_ok();
    let link = NormalizedUrl::parse(s).ok()?;
    if !has_scheme && link.url().path() == "/" {
        return None;
    }
    Some(link)
}

/// The part of `text` covering UTF-16 units `offset..offset + length`, or `None` when the
/// range is out of bounds or splits a character.
pub fn utf16_slice(text: &str, offset: usize, length: usize) -> Option<&str> {
    let end = offset.checked_add(length)?;
    let (mut start_byte, mut end_byte) = (None, None);
    let mut units = 0;
    for (byte, ch) in text.char_indices().chain([(text.len(), '\0')]) {
        if units == offset {
            start_byte = Some(byte);
        }
        if units == end {
            end_byte = Some(byte);
            break;
        }
        if units > end {
            break;
        }
        units += ch.len_utf16();
    }
    text.get(start_byte?..end_byte?)
}

/// Links written in plain text, found by scanning it.
fn scan(text: &str) -> Vec<NormalizedUrl> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
    finder
        .links(text)
        .filter_map(|link| parse_written(trim_closing_marks(link.as_str())))
        .collect()
}

/// Strips closing quotes and punctuation that linkify can take for part of an IRI.
fn trim_closing_marks(s: &str) -> &str {
    s.trim_end_matches([
        '»', '”', '’', '“', '…', '。', '，', '、', '）', '」', '』', '】',
    ])
}

/// Article links in `text`, in message order and without duplicates (after normalisation).
///
/// With entities, only `url` and `text_link` entities count (Telegram already found the links);
/// with none (the CLI, or a message without entities) the text is scanned. Non-http(s) links,
/// Telegram's own links and media files are skipped.
pub fn find(text: &str, entities: &[Entity]) -> Vec<NormalizedUrl> {
    let candidates = if entities.is_empty() {
        scan(text)
    } else {
        entities
            .iter()
            .filter_map(|entity| match &entity.kind {
                EntityKind::Url => {
                    let written = utf16_slice(text, entity.offset, entity.length)?;
                    parse_written(written)
                }
                EntityKind::TextLink(url) => NormalizedUrl::parse(url).ok(),
                EntityKind::Other => None,
            })
            .collect()
    };
    let mut seen = HashSet::new();
    candidates
        .into_iter()
        .filter(|link| is_article_link(link) && seen.insert(link.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<String> {
        find(text, &[]).iter().map(|l| l.to_string()).collect()
    }

    fn normalized(s: &str) -> String {
        match NormalizedUrl::parse(s) {
            Ok(link) => link.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    fn url_entity(text: &str, link: &str) -> Entity {
        let start = text.find(link).expect("test link is in the text");
        Entity {
            kind: EntityKind::Url,
            offset: text[..start].encode_utf16().count(),
            length: link.encode_utf16().count(),
        }
    }

    #[test]
    fn hosts_of_only_dots_are_invalid_and_every_trailing_dot_goes() {
        // Found by the property test: `http://../` normalised to `http://./`, which no
        // longer parsed, and `a..` kept one dot, so one page had two cache keys.
        assert_eq!(normalized("http://../"), "error: not a valid link");
        assert_eq!(normalized("http://./"), "error: not a valid link");
        assert_eq!(
            normalized("https://news.example../a"),
            "https://news.example/a"
        );
        let literal = NormalizedUrl::parse("http://127.0.0.1../x").unwrap();
        assert_eq!(literal.as_str(), "http://127.0.0.1/x");
        assert!(
            matches!(literal.url().host(), Some(url::Host::Ipv4(_))),
            "the guard sees an IP"
        );
    }

    #[test]
    fn normalises_case_port_fragment_and_host_dot() {
        assert_eq!(
            normalized("HTTPS://News.Example.ORG.:443/Story/One?id=7#comments"),
            "https://news.example.org/Story/One?id=7"
        );
        assert_eq!(normalized("http://example.org:80/"), "http://example.org/");
        assert_eq!(
            normalized("http://example.org:8080/a"),
            "http://example.org:8080/a"
        );
    }

    #[test]
    fn drops_tracking_params_and_keeps_the_rest_in_order() {
        assert_eq!(
            normalized(
                "https://example.org/a?utm_source=tg&b=2&fbclid=x&a=1&UTM_Medium=y&gclid=z&q=a+b%20c"
            ),
            "https://example.org/a?b=2&a=1&q=a+b%20c"
        );
        assert_eq!(
            normalized("https://example.org/a?utm_campaign=x&mc_cid=1&mc_eid=2&igshid=3&_ga=4"),
            "https://example.org/a"
        );
        assert_eq!(
            normalized("https://example.org/a?"),
            "https://example.org/a"
        );
        assert_eq!(
            normalized("https://example.org/a?&&"),
            "https://example.org/a"
        );
    }

    #[test]
    fn refuses_what_is_not_http() {
        for link in [
            "mailto:a@example.org",
            "tg://resolve?domain=x",
            "ftp://example.org/f",
        ] {
            assert_eq!(
                NormalizedUrl::parse(link),
                Err(LinkError::NotHttp),
                "{link}"
            );
        }
        assert_eq!(
            NormalizedUrl::parse("javascript:alert(1)"),
            Err(LinkError::NotHttp)
        );
        assert_eq!(NormalizedUrl::parse("http://"), Err(LinkError::Invalid));
        assert_eq!(
            NormalizedUrl::parse("https://exa mple.org/"),
            Err(LinkError::Invalid)
        );
        assert_eq!(LinkError::NotHttp.to_string(), "not an http(s) link");
    }

    #[test]
    fn parse_takes_a_scheme_less_link_as_https() {
        assert_eq!(
            normalized(" example.org/story "),
            "https://example.org/story"
        );
    }

    #[test]
    fn from_url_normalises_too() {
        let url = Url::parse("https://Example.org/a?utm_source=x#top").expect("valid test url");
        let link = NormalizedUrl::from_url(url).expect("http link");
        assert_eq!(link.url().as_str(), "https://example.org/a");
    }

    #[test]
    fn key_is_16_hex_chars_and_stable_across_spellings() {
        let a = NormalizedUrl::parse("https://example.org/a?utm_source=x").expect("valid");
        let b = NormalizedUrl::parse("HTTPS://EXAMPLE.org/a#frag").expect("valid");
        let c = NormalizedUrl::parse("https://example.org/b").expect("valid");
        assert_eq!(a.key().len(), 16);
        assert!(
            a.key()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(a.key(), b.key());
        assert_ne!(a.key(), c.key());
        // The key ends up in callback data, so it must not change between releases.
        assert_eq!(
            NormalizedUrl::parse("https://example.org/")
                .expect("valid")
                .key(),
            "8198d1bac40a1033" // printf https://example.org/ | sha256sum
        );
    }

    #[test]
    fn scans_text_and_trims_surrounding_punctuation() {
        assert_eq!(
            found(
                "Read this (https://example.org/a), and https://example.org/b. Also «https://example.org/c»!"
            ),
            [
                "https://example.org/a",
                "https://example.org/b",
                "https://example.org/c"
            ]
        );
        assert_eq!(
            found("See https://en.wikipedia.org/wiki/Rust_(programming_language)."),
            ["https://en.wikipedia.org/wiki/Rust_(programming_language)"]
        );
        assert_eq!(
            found("\"https://example.org/q?x=1\"..."),
            ["https://example.org/q?x=1"]
        );
    }

    #[test]
    fn scheme_less_links_count_only_with_a_path() {
        assert_eq!(
            found("I like example.org and notes.txt, but read example.org/news/today"),
            ["https://example.org/news/today"]
        );
        assert_eq!(
            found("www.example.org/story"),
            ["https://www.example.org/story"]
        );
    }

    #[test]
    fn skips_telegram_media_and_other_schemes_but_keeps_pdf() {
        let text = "https://t.me/channel/5 https://core.telegram.org/bots http://telegram.me/x \
                    https://example.org/cat.JPG https://example.org/v.mp4?x=1 \
                    https://example.org/a.zip mailto:me@example.org ftp://example.org/f \
                    https://example.org/report.pdf https://meet.example/art.html";
        assert_eq!(
            found(text),
            [
                "https://example.org/report.pdf",
                "https://meet.example/art.html"
            ]
        );
    }

    #[test]
    fn deduplicates_after_normalisation_in_message_order() {
        assert_eq!(
            found(
                "https://example.org/b https://Example.org/a?utm_source=tg https://example.org/a#x \
                 https://example.org/b"
            ),
            ["https://example.org/b", "https://example.org/a"]
        );
    }

    #[test]
    fn non_latin_links_are_found_and_encoded_for_fetching() {
        assert_eq!(
            found("Статья: https://lenta.example/новости/сегодня, читайте."),
            [
                "https://lenta.example/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/%D1%81%D0%B5%D0%B3%D0%BE%D0%B4%D0%BD%D1%8F"
            ]
        );
        // linkify misses non-ASCII top-level domains in plain text; Telegram's entities do not.
        let text = "Статья: https://пример.рф/новости";
        let links = find(text, &[url_entity(text, "https://пример.рф/новости")]);
        assert_eq!(
            links.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            ["https://xn--e1afmkfd.xn--p1ai/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8"]
        );
    }

    #[test]
    fn a_url_entity_naming_a_bare_site_is_skipped() {
        let text = "I read example.org daily";
        let links = find(text, &[url_entity(text, "example.org")]);
        assert!(links.is_empty(), "{links:?}");
    }

    #[test]
    fn finds_ten_links_in_one_message() {
        let text: String = (0..10)
            .map(|i| format!("link {i}: https://example.org/article/{i}\n"))
            .collect();
        let links = found(&text);
        assert_eq!(links.len(), 10);
        assert_eq!(links[9], "https://example.org/article/9");
    }

    #[test]
    fn entities_use_utf16_offsets_after_emoji() {
        let text = "🔥🔥 новость: example.org/story и ещё 👉 https://example.org/two";
        let entities = [
            url_entity(text, "example.org/story"),
            Entity {
                kind: EntityKind::Other,
                offset: 0,
                length: 2,
            },
            url_entity(text, "https://example.org/two"),
        ];
        let links: Vec<String> = find(text, &entities)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(
            links,
            ["https://example.org/story", "https://example.org/two"]
        );
    }

    #[test]
    fn text_links_take_the_entity_url_and_skip_scanning() {
        let text = "read this, not https://example.org/ignored";
        let entities = [Entity {
            kind: EntityKind::TextLink("https://example.org/hidden?utm_source=x".into()),
            offset: 0,
            length: 9,
        }];
        let links: Vec<String> = find(text, &entities)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(links, ["https://example.org/hidden"]);
    }

    #[test]
    fn bad_entity_offsets_are_skipped_without_panicking() {
        let text = "😀 https://example.org/a";
        let good = url_entity(text, "https://example.org/a");
        let entities = [
            // Starts inside the emoji's surrogate pair.
            Entity {
                kind: EntityKind::Url,
                offset: 1,
                length: 5,
            },
            // Ends inside the emoji's surrogate pair.
            Entity {
                kind: EntityKind::Url,
                offset: 0,
                length: 1,
            },
            Entity {
                kind: EntityKind::Url,
                offset: 3,
                length: 500,
            },
            Entity {
                kind: EntityKind::Url,
                offset: 500,
                length: 3,
            },
            Entity {
                kind: EntityKind::Url,
                offset: usize::MAX,
                length: usize::MAX,
            },
            good,
        ];
        let links: Vec<String> = find(text, &entities)
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(links, ["https://example.org/a"]);
    }

    #[test]
    fn utf16_slice_handles_edges() {
        assert_eq!(utf16_slice("a😀b", 0, 1), Some("a"));
        assert_eq!(utf16_slice("a😀b", 1, 2), Some("😀"));
        assert_eq!(utf16_slice("a😀b", 3, 1), Some("b"));
        assert_eq!(utf16_slice("a😀b", 4, 0), Some(""));
        assert_eq!(utf16_slice("a😀b", 2, 2), None);
        assert_eq!(utf16_slice("a😀b", 1, 1), None);
        assert_eq!(utf16_slice("a😀b", 4, 1), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Message text: links, near-links and the characters that break offset arithmetic.
    fn message_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("https://example.org/story".to_owned()),
            Just("example.org/a/b?utm_source=x#frag".to_owned()),
            Just("http://[::1]/".to_owned()),
            Just("https://t.me/channel".to_owned()),
            Just("mailto:a@b.c".to_owned()),
            Just("«https://пример.рф/статья»".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            "[😀𝕏👩‍💻é\u{301}\u{202e}。，）]{1,3}",
            "[a-z0-9./:?#&=%-]{1,12}",
            any::<String>(),
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    fn entity(max: usize) -> impl Strategy<Value = Entity> {
        let kind = prop_oneof![
            Just(EntityKind::Url),
            Just(EntityKind::Other),
            any::<String>().prop_map(EntityKind::TextLink),
            "https?://[a-z.]{1,20}/[a-z/]{0,10}".prop_map(EntityKind::TextLink),
        ];
        let near = 0..max + 4;
        let offset = prop_oneof![near.clone(), any::<usize>()];
        let length = prop_oneof![near, any::<usize>()];
        (kind, offset, length).prop_map(|(kind, offset, length)| Entity {
            kind,
            offset,
            length,
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn find_never_panics_and_returns_distinct_http_links(
            (text, entities) in message_text().prop_flat_map(|text| {
                let units = text.encode_utf16().count();
                (Just(text), prop::collection::vec(entity(units), 0..6))
            })
        ) {
            for entities in [&entities[..], &[]] {
                let found = find(&text, entities);
                let mut keys = HashSet::new();
                for link in &found {
                    prop_assert!(matches!(link.url().scheme(), "http" | "https"), "{}", link);
                    prop_assert!(keys.insert(link.key()), "duplicate {}", link);
                    let again = NormalizedUrl::parse(link.as_str());
                    prop_assert_eq!(again.as_ref(), Ok(link));
                }
            }
        }
    }
}
