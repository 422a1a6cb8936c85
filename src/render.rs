//! Digest → Telegram HTML text.
//!
//! Nothing here knows teloxide, so the output can be tested and fuzzed alone: every piece of
//! page text is escaped and defused (Telegram would make its URLs, domains, e-mail
//! addresses, `@names`, `/commands`, `#hashtags` and `$CASHTAGS` live), and the visible text
//! stays within Telegram's 4096 UTF-16 units.

use std::fmt::Write as _;

use crate::digest::Digest;
use crate::truncate::truncate_at_word;

/// Telegram's limit on a message's text after entity parsing, in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// Longest title shown, in characters; a longer one is cut at a word.
const MAX_TITLE_CHARS: usize = 200;

/// Longest site name shown, in characters; pages can put anything in `og:site_name`.
const MAX_SITE_CHARS: usize = 100;

/// Escapes text for Telegram's HTML parse mode (also safe inside a quoted attribute).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// An invisible character that keeps words together: put inside a trigger ("@\u{2060}name",
/// "evil.\u{2060}example") it stops Telegram from making the text a link or a mention.
pub const WORD_JOINER: char = '\u{2060}';

/// Page text made inert: a word joiner after every `@`, `#` and `$`, after a `.` or `:`
/// that a link could run through, and after a `/` that could start a command, so that no
/// URL, domain, e-mail address, mention, command, hashtag or cashtag is left for Telegram to
/// detect. The text reads the same.
pub fn defuse(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let next = chars.peek().copied();
        let word_next = next.is_some_and(|n| n.is_alphanumeric() || n == '_');
        let join = match c {
            '@' | '#' | '$' => next.is_some_and(|n| !n.is_whitespace()),
            // Telegram also reads the ideographic and full-width full stops as a domain's dot.
            '.' | '\u{3002}' | '\u{ff0e}' | '\u{ff61}' => next.is_some_and(|n| !n.is_whitespace()),
            ':' => next == Some('/'),
            '/' => word_next && prev.is_none_or(|p| !p.is_alphanumeric()),
            _ => false,
        };
        if join {
            out.push(WORD_JOINER);
        }
        prev = Some(c);
    }
    out
}

/// HTML text that tracks how long it will be once Telegram has parsed it.
#[derive(Default)]
struct Message {
    html: String,
    visible: usize,
}

impl Message {
    fn text(&mut self, text: &str) {
        self.html.push_str(&escape(text));
        self.visible += text.encode_utf16().count();
    }

    /// Text that came from a page or a summarizer: defused, then escaped.
    fn page_text(&mut self, text: &str) {
        self.text(&defuse(text));
    }

    fn tagged(&mut self, open: &str, text: &str, close: &str) {
        self.html.push_str(open);
        self.page_text(text);
        self.html.push_str(close);
    }

    fn room(&self) -> usize {
        MAX_MESSAGE_UTF16.saturating_sub(self.visible)
    }
}

/// The line under the site of a digest made from a paid article's teaser.
pub const PREVIEW_ONLY: &str = "preview only (paywalled)";

/// Renders a digest with the given sentences (already chosen and in article order): the
/// title in bold, the site (linked to the source) and reading time, then one bullet a sentence.
pub fn digest(digest: &Digest, sentences: &[String]) -> String {
    let mut msg = Message::default();
    let title = truncate_at_word(digest.title.trim(), MAX_TITLE_CHARS);
    if !title.is_empty() {
        msg.tagged("<b>", &title, "</b>");
        msg.text("\n");
    }
    let site = if digest.site.trim().is_empty() {
        "source".to_owned()
    } else {
        truncate_at_word(digest.site.trim(), MAX_SITE_CHARS)
    };
    match &digest.url {
        Some(url) => {
            let _ = write!(msg.html, "<a href=\"{}\">", escape(url));
            msg.page_text(&site);
            msg.html.push_str("</a>");
        }
        None => msg.page_text(&site),
    }
    msg.text(&format!(" · {} min read", digest.reading_minutes));
    if digest.preview_only {
        msg.text("\n");
        msg.text(PREVIEW_ONLY);
    }
    let mut first = true;
    for sentence in sentences {
        let sentence = &defuse(sentence);
        let prefix = if first { "\n\n• " } else { "\n• " };
        let needed = (prefix.to_owned() + sentence).encode_utf16().count();
        if needed > msg.room() {
            let room = msg.room().saturating_sub(prefix.encode_utf16().count());
            if first && room > 0 {
                // Even one sentence is too long: show as much of it as fits.
                msg.text(prefix);
                msg.text(&fit_utf16(sentence, room));
            }
            break;
        }
        msg.text(prefix);
        msg.text(sentence);
        first = false;
    }
    msg.html
}

/// Cuts `text` at a word so that it takes at most `max_units` UTF-16 code units.
fn fit_utf16(text: &str, max_units: usize) -> String {
    let mut chars = max_units;
    loop {
        let cut = truncate_at_word(text, chars);
        let units = cut.encode_utf16().count();
        if units <= max_units || chars == 0 {
            return cut;
        }
        chars = chars.saturating_sub(units - max_units);
    }
}

/// A short notice, e.g. why a link could not be summarized, escaped for HTML.
pub fn notice(text: &str) -> String {
    escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summarize::RankedSentence;

    fn sample(title: &str, url: Option<&str>) -> Digest {
        Digest {
            title: title.into(),
            site: "Example <News>".into(),
            url: url.map(Into::into),
            lang: Some("en".into()),
            reading_minutes: 4,
            sentences: vec![RankedSentence {
                text: "unused".into(),
                position: 0,
            }],
            preview_only: false,
        }
    }

    /// The text Telegram shows: tags dropped, entities decoded.
    fn visible(html: &str) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    }

    #[test]
    fn digest_shows_title_site_time_and_bullets() {
        let html = digest(
            &sample(
                "Rates rise & fall",
                Some("https://example.org/a?b=1&c=\"2\""),
            ),
            &["First point.".into(), "Second <point>.".into()],
        );
        assert_eq!(
            html,
            "<b>Rates rise &amp; fall</b>\n<a href=\"https://example.org/a?b=1&amp;c=&quot;2&quot;\">\
             Example &lt;News&gt;</a> · 4 min read\n\n• First point.\n• Second &lt;point&gt;."
        );
    }

    #[test]
    fn a_paid_articles_teaser_is_marked_as_a_preview() {
        let mut page = sample("Rates", None);
        page.preview_only = true;
        let html = digest(&page, &["What the teaser says.".into()]);
        assert_eq!(
            html,
            "<b>Rates</b>\nExample &lt;News&gt; · 4 min read\npreview only (paywalled)\n\n\
             • What the teaser says."
        );
    }

    #[test]
    fn page_text_cannot_become_a_link_or_a_mention() {
        let html = digest(
            &sample(
                "Log in at evil.example/login",
                Some("https://example.org/a"),
            ),
            &["Write to a@b.com or @admin, see https://x.org, /start #tag $USD.".into()],
        );
        let shown = visible(&html);
        for live in [
            "evil.example",
            "a@b.com",
            "@admin",
            "https://x.org",
            "/start",
            "#tag",
            "$USD",
        ] {
            assert!(!shown.contains(live), "{live} is live in {shown}");
        }
        let plain = shown.replace(WORD_JOINER, "");
        assert!(plain.contains("Write to a@b.com or @admin, see https://x.org, /start #tag $USD."));
        assert!(
            html.contains("<a href=\"https://example.org/a\">"),
            "the bot's own link stays"
        );
    }

    #[test]
    fn full_width_and_ideographic_dots_are_defused_like_dots() {
        for dot in ['\u{3002}', '\u{ff0e}', '\u{ff61}'] {
            let text = format!("log in at evil{dot}com/login");
            assert_eq!(
                defuse(&text),
                format!("log in at evil{dot}{WORD_JOINER}com/login")
            );
        }
    }

    #[test]
    fn defusing_leaves_ordinary_text_alone() {
        let text = "Prices rose 3 % in May, and/or fell (a lot). Done.";
        assert_eq!(defuse(text), text);
        assert_eq!(
            defuse("e.g. now"),
            "e.g. now".replacen("e.g", "e.\u{2060}g", 1)
        );
    }

    #[test]
    fn digest_without_title_or_url_still_reads() {
        let html = digest(&sample("", None), &["Only this.".into()]);
        assert_eq!(html, "Example &lt;News&gt; · 4 min read\n\n• Only this.");
    }

    #[test]
    fn long_digests_stop_at_a_sentence_within_the_limit() {
        let sentence = format!("{} end.", "word ".repeat(100));
        let sentences = vec![sentence; 20];
        let html = digest(&sample("T", Some("https://e.org")), &sentences);
        let shown = visible(&html);
        assert!(shown.encode_utf16().count() <= MAX_MESSAGE_UTF16);
        assert!(shown.ends_with("end."), "cut at a sentence");
        assert!(shown.matches('•').count() < 20);
    }

    #[test]
    fn one_huge_sentence_is_cut_to_fit() {
        let huge = "слово ".repeat(2000);
        let html = digest(&sample("T", None), &[huge]);
        let shown = visible(&html);
        assert!(shown.encode_utf16().count() <= MAX_MESSAGE_UTF16);
        assert!(shown.ends_with('…'));
    }

    #[test]
    fn a_huge_site_name_is_cut_so_the_digest_still_fits() {
        // Found by the property test: og:site_name is page text and had no bound.
        let mut page = sample("T", None);
        page.site = "<😀<".repeat(700);
        let html = digest(&page, &["<".into()]);
        let shown = visible(&html);
        assert!(shown.encode_utf16().count() <= MAX_MESSAGE_UTF16);
        assert!(shown.ends_with("min read\n\n• <"), "{shown}");
        let site_line = shown.lines().nth(1).unwrap();
        assert!(site_line.chars().count() <= MAX_SITE_CHARS + " · 4 min read".len());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Characters that stress escaping and length counting: markup, quotes, emoji and
        /// other astral characters, right-to-left text and controls, combining marks, newlines.
        fn tricky_char() -> impl Strategy<Value = char> {
            prop_oneof![
                prop::sample::select(vec![
                    '<',
                    '>',
                    '&',
                    '"',
                    '\'',
                    ';',
                    '#',
                    '/',
                    '=',
                    ' ',
                    '\n',
                    '\t',
                    '\u{a0}',
                    '😀',
                    '👩',
                    '\u{200d}',
                    '💻',
                    '🇺',
                    '🇦',
                    '𝕏',
                    '𠜎',
                    '\u{10ffff}',
                    'ש',
                    'ל',
                    'ו',
                    'م',
                    'ر',
                    'ح',
                    'ب',
                    '\u{202e}',
                    '\u{200f}',
                    '\u{2066}',
                    'é',
                    '\u{301}',
                    '\u{fe0f}',
                    '…',
                    '•',
                    '\u{feff}',
                    '\0',
                ]),
                any::<char>(),
                prop::char::range('a', 'z'),
            ]
        }

        /// Page text: short or, now and then, huge (a repeated piece past Telegram's limit).
        fn page_text() -> impl Strategy<Value = String> {
            let short = prop::collection::vec(tricky_char(), 0..80).prop_map(String::from_iter);
            let huge = (
                prop::collection::vec(tricky_char(), 1..12).prop_map(String::from_iter),
                300usize..3000,
            )
                .prop_map(|(piece, times)| piece.repeat(times));
            prop_oneof![4 => short, 1 => huge]
        }

        fn url_text() -> impl Strategy<Value = Option<String>> {
            prop::option::of(prop_oneof![
                page_text().prop_map(|t| format!("https://example.org/{t}")),
                Just("https://example.org/a?b=1&c=\"2\"&lt;".to_owned()),
                page_text(),
            ])
        }

        fn any_digest() -> impl Strategy<Value = Digest> {
            (
                page_text(),
                page_text(),
                url_text(),
                any::<u32>(),
                any::<bool>(),
            )
                .prop_map(|(title, site, url, reading_minutes, preview_only)| Digest {
                    title,
                    site,
                    url,
                    lang: None,
                    reading_minutes,
                    sentences: Vec::new(),
                    preview_only,
                })
        }

        /// The visible text of `html`, or why it is not the HTML render may send: only
        /// `<b>` and `<a href="…">` tags, balanced, quoted attribute, known entities only.
        fn parse_telegram_html(html: &str) -> Result<String, String> {
            fn entity(rest: &str) -> Result<(char, usize), String> {
                for (name, c) in [
                    ("&amp;", '&'),
                    ("&lt;", '<'),
                    ("&gt;", '>'),
                    ("&quot;", '"'),
                ] {
                    if rest.starts_with(name) {
                        return Ok((c, name.len()));
                    }
                }
                Err(format!("bad entity at {:?}", &rest[..rest.len().min(12)]))
            }
            let mut shown = String::new();
            let mut open: Vec<&str> = Vec::new();
            let mut rest = html;
            while let Some(c) = rest.chars().next() {
                match c {
                    '<' => {
                        let end = rest.find('>').ok_or("unterminated tag")?;
                        let tag = &rest[1..end];
                        if tag == "b" {
                            open.push("b");
                        } else if let Some(value) = tag
                            .strip_prefix("a href=\"")
                            .and_then(|t| t.strip_suffix('"'))
                        {
                            if value.contains(['"', '<']) {
                                return Err(format!("unquoted attribute {tag:?}"));
                            }
                            let mut at = value;
                            while let Some(i) = at.find('&') {
                                let (_, len) = entity(&at[i..])?;
                                at = &at[i + len..];
                            }
                            if !open.is_empty() {
                                return Err("nested tags".into());
                            }
                            open.push("a");
                        } else if let Some(name) = tag.strip_prefix('/') {
                            if open.pop() != Some(name) {
                                return Err(format!("unbalanced </{name}>"));
                            }
                        } else {
                            return Err(format!("unexpected tag <{tag}>"));
                        }
                        rest = &rest[end + 1..];
                    }
                    '>' => return Err("bare >".into()),
                    '&' => {
                        let (decoded, len) = entity(rest)?;
                        shown.push(decoded);
                        rest = &rest[len..];
                    }
                    c => {
                        shown.push(c);
                        rest = &rest[c.len_utf8()..];
                    }
                }
            }
            match open.is_empty() {
                true => Ok(shown),
                false => Err(format!("unclosed {open:?}")),
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn every_digest_is_valid_telegram_html_within_the_limit(
                digest in any_digest(),
                sentences in prop::collection::vec(page_text(), 0..14),
            ) {
                let html = super::digest(&digest, &sentences);
                let shown = parse_telegram_html(&html).map_err(TestCaseError::fail)?;
                prop_assert!(!shown.trim().is_empty(), "empty message: {:?}", html);
                let units = shown.encode_utf16().count();
                prop_assert!(units <= MAX_MESSAGE_UTF16, "{} UTF-16 units", units);
                // The title and site are the page's words, never its markup.
                prop_assert_eq!(visible(&html), shown);
            }

            #[test]
            fn notices_are_escaped_text(text in page_text()) {
                let html = notice(&text);
                prop_assert_eq!(parse_telegram_html(&html), Ok(text));
            }
        }
    }
}
