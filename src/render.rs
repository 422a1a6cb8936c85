//! Digest → Telegram HTML text, and the short callback data behind its buttons.
//!
//! Nothing here knows teloxide, so the output can be tested and fuzzed alone: every piece of
//! page text is escaped, and the visible text stays within Telegram's 4096 UTF-16 units.

use std::fmt::Write as _;

use crate::digest::{Digest, Length, truncate_at_word};
use crate::settings::Mode;

/// Telegram's limit on a message's text after entity parsing, in UTF-16 code units.
pub const MAX_MESSAGE_UTF16: usize = 4096;

/// Longest title shown, in characters; a longer one is cut at a word.
const MAX_TITLE_CHARS: usize = 200;

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

    fn tagged(&mut self, open: &str, text: &str, close: &str) {
        self.html.push_str(open);
        self.text(text);
        self.html.push_str(close);
    }

    fn room(&self) -> usize {
        MAX_MESSAGE_UTF16.saturating_sub(self.visible)
    }
}

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
        "source"
    } else {
        digest.site.trim()
    };
    match &digest.url {
        Some(url) => {
            let _ = write!(msg.html, "<a href=\"{}\">", escape(url));
            msg.text(site);
            msg.html.push_str("</a>");
        }
        None => msg.text(site),
    }
    msg.text(&format!(" · {} min read", digest.reading_minutes));
    let mut first = true;
    for sentence in sentences {
        let prefix = if first { "\n\n• " } else { "\n• " };
        let needed = (prefix.to_owned() + sentence).encode_utf16().count();
        if needed > msg.room() {
            if first {
                // Even one sentence is too long: show as much of it as fits.
                let room = msg.room().saturating_sub(prefix.encode_utf16().count());
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

/// What a digest button asks for; its callback data is at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// Show the expanded summary of the digest with this link key.
    Expand(String),
    /// Show the collapsed digest again.
    Collapse(String),
    /// Set the chat's digest length.
    SetLength(Length),
    /// Set the chat's mode.
    SetMode(Mode),
}

impl Callback {
    /// The callback data: `x:` or `c:` followed by the link key.
    pub fn data(&self) -> String {
        match self {
            Callback::Expand(key) => format!("x:{key}"),
            Callback::Collapse(key) => format!("c:{key}"),
            Callback::SetLength(length) => format!("l:{length}"),
            Callback::SetMode(mode) => format!("m:{mode}"),
        }
    }

    /// Reads callback data written by [`Callback::data`]; anything else is `None`.
    pub fn parse(data: &str) -> Option<Self> {
        let (action, value) = data.split_once(':')?;
        let key = || {
            let valid = !value.is_empty()
                && value.len() <= 62
                && value.bytes().all(|b| b.is_ascii_alphanumeric());
            valid.then(|| value.to_owned())
        };
        match action {
            "x" => key().map(Callback::Expand),
            "c" => key().map(Callback::Collapse),
            "l" => value.parse().ok().map(Callback::SetLength),
            "m" => value.parse().ok().map(Callback::SetMode),
            _ => None,
        }
    }
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
    fn callback_data_round_trips_and_rejects_junk() {
        let key = "0123456789abcdef".to_owned();
        let all = [
            Callback::Expand(key.clone()),
            Callback::Collapse(key),
            Callback::SetLength(Length::Long),
            Callback::SetMode(Mode::Off),
        ];
        for cb in all {
            assert!(cb.data().len() <= 64);
            assert_eq!(Callback::parse(&cb.data()), Some(cb));
        }
        for junk in [
            "",
            "x",
            "x:",
            "y:abc",
            "x:ab cd",
            "x:<script>",
            "l:huge",
            "m:",
            &format!("x:{}", "a".repeat(63)),
        ] {
            assert_eq!(Callback::parse(junk), None, "{junk:?}");
        }
    }
}
