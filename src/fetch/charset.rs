//! Character sets: find a page's encoding (BOM, header, `<meta>`, then sniffing) and decode it.

use std::sync::LazyLock;

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use regex::bytes::Regex;

use super::PageKind;

/// How far into an HTML page a `<meta>` charset declaration is looked for.
const META_PRESCAN_BYTES: usize = 2048;

/// `<meta charset=x>` and `<meta http-equiv=content-type content="...; charset=x">`.
static META_CHARSET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i-u)<meta\s[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.+\-]+)"#)
        .unwrap_or_else(|e| unreachable!("static pattern: {e}"))
});

/// Decodes a body to UTF-8 text; malformed bytes become U+FFFD.
pub(crate) fn decode(
    body: &[u8],
    header_charset: Option<&str>,
    kind: PageKind,
    tld: Option<&str>,
) -> String {
    let encoding = detect(body, header_charset, kind, tld);
    // `decode` strips a BOM, and a BOM (already chosen by `detect`) outranks labels.
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

/// The encoding of a body: a byte-order mark, else the header's charset, else (HTML only) a
/// `<meta>` declaration near the top, else a guess from the bytes.
pub(crate) fn detect(
    body: &[u8],
    header_charset: Option<&str>,
    kind: PageKind,
    tld: Option<&str>,
) -> &'static Encoding {
    if let Some((encoding, _)) = Encoding::for_bom(body) {
        return encoding;
    }
    if let Some(encoding) = header_charset.and_then(|label| Encoding::for_label(label.as_bytes())) {
        return encoding;
    }
    if kind == PageKind::Html
        && let Some(encoding) = meta_charset(body)
    {
        return encoding;
    }
    sniff(body, tld)
}

/// The encoding a `<meta>` tag in the first bytes declares, with the HTML spec's corrections.
fn meta_charset(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(META_PRESCAN_BYTES)];
    let label = META_CHARSET.captures(head)?.get(1)?.as_bytes();
    let encoding = Encoding::for_label(label)?;
    // A page that could be read as ASCII to find the tag is not UTF-16 (HTML spec, prescan).
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return Some(UTF_8);
    }
    if encoding == encoding_rs::X_USER_DEFINED {
        return Some(WINDOWS_1252);
    }
    Some(encoding)
}

/// Valid UTF-8 is UTF-8; otherwise chardetng guesses, helped by the host's top-level domain.
fn sniff(body: &[u8], tld: Option<&str>) -> &'static Encoding {
    if std::str::from_utf8(body).is_ok() {
        return UTF_8;
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(body, true);
    // chardetng panics on a label that is not lowercase ASCII without dots.
    let tld = tld.filter(|t| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    detector.guess(tld.map(str::as_bytes), Utf8Detection::Allow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{KOI8_R, SHIFT_JIS, UTF_16LE, WINDOWS_1251};

    const RUSSIAN: &str =
        "Правительство объявило о новых мерах поддержки малого бизнеса в регионах страны.";

    fn cp1251(text: &str) -> Vec<u8> {
        WINDOWS_1251.encode(text).0.into_owned()
    }

    #[test]
    fn header_charset_decodes_the_page() {
        let body = cp1251(&format!("<html><body><p>{RUSSIAN}</p></body></html>"));
        let text = decode(&body, Some("windows-1251"), PageKind::Html, None);
        assert!(text.contains(RUSSIAN));
    }

    #[test]
    fn meta_charset_is_used_when_the_header_has_none() {
        let forms = [
            r#"<meta charset="windows-1251">"#,
            "<META CHARSET=cp1251>",
            r#"<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">"#,
            r#"<meta content='text/html;charset=windows-1251' http-equiv='content-type'>"#,
        ];
        for meta in forms {
            let body = cp1251(&format!(
                "<html><head>{meta}</head><body>{RUSSIAN}</body></html>"
            ));
            assert_eq!(
                detect(&body, None, PageKind::Html, None),
                WINDOWS_1251,
                "{meta}"
            );
            assert!(
                decode(&body, None, PageKind::Html, None).contains(RUSSIAN),
                "{meta}"
            );
        }
    }

    #[test]
    fn header_outranks_meta_and_bom_outranks_both() {
        let body = KOI8_R
            .encode(&format!("<meta charset=windows-1251>{RUSSIAN}"))
            .0
            .into_owned();
        assert_eq!(detect(&body, Some("koi8-r"), PageKind::Html, None), KOI8_R);
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(format!("<meta charset=windows-1251>{RUSSIAN}").as_bytes());
        assert_eq!(
            detect(&bom, Some("windows-1251"), PageKind::Html, None),
            UTF_8
        );
        let text = decode(&bom, Some("windows-1251"), PageKind::Html, None);
        assert!(text.starts_with("<meta") && text.contains(RUSSIAN));
    }

    #[test]
    fn meta_is_ignored_beyond_the_prescan_and_in_plain_text() {
        let late = format!(
            "<html>{}<meta charset=windows-1251></html>",
            " ".repeat(3000)
        );
        assert_eq!(detect(late.as_bytes(), None, PageKind::Html, None), UTF_8);
        let text = "<meta charset=windows-1251> is how you declare it".as_bytes();
        assert_eq!(detect(text, None, PageKind::PlainText, None), UTF_8);
    }

    #[test]
    fn meta_declaring_utf16_means_utf8() {
        let body = "<meta charset=utf-16><p>café</p>".as_bytes();
        assert_eq!(detect(body, None, PageKind::Html, None), UTF_8);
        assert!(decode(body, None, PageKind::Html, None).contains("café"));
    }

    #[test]
    fn unknown_labels_fall_through_to_the_next_source() {
        let body = cp1251(&format!("<meta charset=windows-1251>{RUSSIAN}"));
        assert_eq!(
            detect(&body, Some("no-such-charset"), PageKind::Html, None),
            WINDOWS_1251
        );
    }

    #[test]
    fn undeclared_pages_are_sniffed() {
        let utf8 = format!("<p>{RUSSIAN}</p>");
        assert_eq!(detect(utf8.as_bytes(), None, PageKind::Html, None), UTF_8);
        let body = cp1251(&format!("<p>{RUSSIAN} {RUSSIAN}</p>"));
        assert_eq!(
            detect(&body, None, PageKind::Html, Some("ru")),
            WINDOWS_1251
        );
        assert!(decode(&body, None, PageKind::Html, Some("ru")).contains(RUSSIAN));
        let japanese = SHIFT_JIS
            .encode("日本語のニュース記事です。政府は新しい政策を発表しました。")
            .0;
        assert_eq!(
            detect(&japanese, None, PageKind::PlainText, None),
            SHIFT_JIS
        );
    }

    #[test]
    fn utf16_with_a_bom_is_decoded() {
        let mut body = vec![0xFF, 0xFE];
        for unit in RUSSIAN.encode_utf16() {
            body.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(detect(&body, None, PageKind::PlainText, None), UTF_16LE);
        assert_eq!(decode(&body, None, PageKind::PlainText, None), RUSSIAN);
    }

    #[test]
    fn odd_top_level_domains_do_not_upset_the_guess() {
        let body = cp1251(RUSSIAN);
        for tld in ["RU", "xn--p1ai", "a.b", "рф", ""] {
            let text = decode(&body, None, PageKind::PlainText, Some(tld));
            assert!(!text.is_empty(), "{tld}");
        }
    }
}
