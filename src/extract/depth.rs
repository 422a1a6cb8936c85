//! A cheap byte scan that bounds the markup before the HTML parser sees the page.
//!
//! html5ever's cost grows with the square of the nesting depth and of the attributes in one
//! tag, so start tags beyond [`MarkupLimits::max_depth`] open elements are dropped (with their
//! matching end tags), a tag keeps at most [`MarkupLimits::max_attributes`] attributes in
//! [`MarkupLimits::max_tag_bytes`], and the parser sees at most [`MarkupLimits::max_bytes`] of
//! the page.
//!
//! The same scan empties `<script>` and `<style>` elements (JSON-LD scripts excepted) and
//! inline `<svg>` icons: the extractor never reads them, and they are more than half the bytes
//! of a news page, which the parser would otherwise read character by character.

use std::borrow::Cow;

use super::MarkupLimits;

/// Tags shorter than this cannot hold enough attributes to matter and are not re-read.
const SHORT_TAG: usize = 128;

/// Elements without content: they never nest.
const VOID: &[&[u8]] = &[
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"param",
    b"source", b"track", b"wbr", b"keygen", b"image",
];

/// Elements whose end tag is optional: the parser closes them itself, so they do not count.
const AUTO_CLOSED: &[&[u8]] = &[
    b"p",
    b"li",
    b"dt",
    b"dd",
    b"option",
    b"optgroup",
    b"tr",
    b"td",
    b"th",
    b"tbody",
    b"thead",
    b"tfoot",
    b"rb",
    b"rp",
    b"rt",
    b"rtc",
    b"colgroup",
    b"caption",
    b"html",
    b"head",
    b"body",
];

/// Elements inside which a script or style is kept as it is: foreign content (where they are
/// ordinary elements), `<noscript>` (raw text itself) and `<select>` (which ignores a style).
const GUARDS: &[&[u8]] = &[b"svg", b"math", b"noscript", b"select"];

/// Elements whose content is raw text up to their end tag.
const RAW_TEXT: &[&[u8]] = &[
    b"script",
    b"style",
    b"textarea",
    b"title",
    b"xmp",
    b"iframe",
    b"noembed",
    b"noframes",
];

/// Returns `html` unchanged when it stays within every bound and has no script or style to
/// empty, else a copy cut to `limits.max_bytes`, with the excess start tags (and as many end
/// tags) removed, overlong tags shortened and scripts and styles emptied.
pub(crate) fn bound<'a>(html: &'a str, limits: &MarkupLimits) -> Cow<'a, str> {
    let html = cap(html, limits.max_bytes);
    bound_to(html, limits)
}

/// The first `max` bytes of `html`, cut before the last tag that would be split.
fn cap(html: &str, max: usize) -> &str {
    if html.len() <= max {
        return html;
    }
    let mut cut = max;
    while !html.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = &html[..cut];
    // A tag split in two would swallow what follows; cut before its `<` instead.
    match (head.rfind('<'), head.rfind('>')) {
        (Some(lt), Some(gt)) if lt > gt => &head[..lt],
        (Some(lt), None) => &head[..lt],
        _ => head,
    }
}

fn bound_to<'a>(html: &'a str, limits: &MarkupLimits) -> Cow<'a, str> {
    let mut scan = Bounder {
        html,
        out: None,
        copied: 0,
        depth: 0,
        dropped: 0,
        guarded: 0,
        limits: *limits,
    };
    let bytes = html.as_bytes();
    let mut i = 0;
    while let Some(off) = memchr(b'<', &bytes[i..]) {
        i = scan.markup_at(i + off);
    }
    match scan.out {
        None => Cow::Borrowed(html),
        Some(mut buf) => {
            buf.push_str(&html[scan.copied..]);
            Cow::Owned(buf)
        }
    }
}

/// The pre-scan's walk over one page: how deep it is, what it dropped, and the bounded copy,
/// made only once something changes.
struct Bounder<'a> {
    html: &'a str,
    out: Option<String>,
    /// Bytes of `html` already handled in `out`.
    copied: usize,
    depth: usize,
    /// Start tags dropped below the depth bound whose end tags are still to come.
    dropped: usize,
    /// Open `<svg>`, `<math>`, `<noscript>` and `<select>`, where a script or style is not
    /// raw text (or not a tag at all) and is left as it is.
    guarded: usize,
    limits: MarkupLimits,
}

impl<'a> Bounder<'a> {
    /// Copies the page up to `to` into the bounded copy, skips to `resume`, and returns the
    /// copy so a replacement can follow.
    fn splice(&mut self, to: usize, resume: usize) -> &mut String {
        let html = self.html;
        let buf = self
            .out
            .get_or_insert_with(|| String::with_capacity(html.len()));
        buf.push_str(&html[self.copied..to]);
        self.copied = resume;
        buf
    }

    /// Handles the markup starting at the `<` at `start`; returns where the scan goes on.
    fn markup_at(&mut self, start: usize) -> usize {
        let bytes: &'a [u8] = self.html.as_bytes();
        let rest = &bytes[start + 1..];
        if rest.starts_with(b"!--") {
            return find(bytes, start + 4, b"-->").map_or(bytes.len(), |e| e + 3);
        }
        if rest.first().is_some_and(|b| *b == b'!' || *b == b'?') {
            return tag_end(bytes, start + 1);
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = start + 1 + usize::from(closing);
        let name_len = bytes[name_start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
            .count();
        if name_len == 0 || !bytes[name_start].is_ascii_alphabetic() {
            return start + 1;
        }
        let name = &bytes[name_start..name_start + name_len];
        let end = tag_end(bytes, name_start + name_len);
        self.tag(start, name, end, closing)
    }

    /// Handles a start or end tag spanning `start..end`: depth bookkeeping, dropping tags
    /// below the bound, emptying raw text and icon drawings, shortening long tags.
    fn tag(&mut self, start: usize, name: &[u8], end: usize, closing: bool) -> usize {
        let bytes: &'a [u8] = self.html.as_bytes();
        let self_closing = end >= 2 && bytes[end - 2] == b'/';
        // an inline icon: its drawing goes, the (empty) <svg> element stays
        let mut empty_to = None;
        if !closing && !self_closing && self.guarded == 0 && name.eq_ignore_ascii_case(b"svg") {
            empty_to = plain_svg_close(bytes, end);
        }
        if is_in(name, GUARDS) && empty_to.is_none() {
            if closing {
                self.guarded = self.guarded.saturating_sub(1);
            } else if !self_closing {
                self.guarded += 1;
            }
        }
        let (next, drop_tag) = if closing {
            (end, self.close(name))
        } else if is_in(name, RAW_TEXT) {
            (self.raw_text(start, name, end), false)
        } else {
            (end, self.open(name, self_closing))
        };
        if drop_tag {
            self.splice(start, end);
            if empty_to.is_some() {
                // the parser reads this drawing after all
                self.guarded += 1;
            }
            return next;
        }
        if !closing
            && end - start > SHORT_TAG
            && let Some(short) = shorten_tag(&self.html[start..end], name.len(), &self.limits)
        {
            self.splice(start, end).push_str(&short);
        }
        if let Some(close) = empty_to {
            self.splice(end, close);
            return close;
        }
        next
    }

    /// An end tag: true when it closes a start tag that was dropped, so it goes too.
    fn close(&mut self, name: &[u8]) -> bool {
        if is_in(name, VOID) || is_in(name, AUTO_CLOSED) {
            return false;
        }
        if self.dropped > 0 {
            self.dropped -= 1;
            true
        } else {
            self.depth = self.depth.saturating_sub(1);
            false
        }
    }

    /// A start tag: true when it lies below the depth bound and is dropped.
    fn open(&mut self, name: &[u8], self_closing: bool) -> bool {
        if self_closing || is_in(name, VOID) || is_in(name, AUTO_CLOSED) {
            return false;
        }
        if self.depth >= self.limits.max_depth {
            self.dropped += 1;
            true
        } else {
            self.depth += 1;
            false
        }
    }

    /// A `<script>`, `<style>` or other raw-text element whose start tag spans
    /// `start..end`: its text is emptied when nothing reads it; returns the index after its
    /// end tag.
    fn raw_text(&mut self, start: usize, name: &[u8], end: usize) -> usize {
        let bytes: &'a [u8] = self.html.as_bytes();
        let close = raw_text_close(bytes, end, name);
        if self.guarded == 0
            && let Some(close) = close
            && close > end
            && is_emptied(
                &bytes[start..end],
                name,
                &bytes[end..close],
                &bytes[close..],
            )
        {
            self.splice(end, close);
        }
        close.map_or(bytes.len(), |at| tag_end(bytes, at + 2 + name.len()))
    }
}

/// `tag` (from `<` to just past `>`) with at most `limits.max_attributes` attributes in
/// `limits.max_tag_bytes`, or `None` when it is within both already.
fn shorten_tag(tag: &str, name_len: usize, limits: &MarkupLimits) -> Option<String> {
    let bytes = tag.as_bytes();
    let head = 1 + name_len;
    let mut attrs: Vec<(usize, usize)> = Vec::new();
    let mut over = false;
    let mut i = head;
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            break;
        }
        let from = i;
        // the name: up to whitespace, `/`, `>` or `=` (a leading `=` belongs to the name)
        i += 1;
        while i < bytes.len() && !matches!(bytes[i], b'>' | b'/' | b'=') {
            if bytes[i].is_ascii_whitespace() {
                break;
            }
            i += 1;
        }
        let mut j = i;
        while j < bytes.len() && bytes[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < bytes.len() && bytes[j] == b'=' {
            j += 1;
            while j < bytes.len() && bytes[j].is_ascii_whitespace() {
                j += 1;
            }
            match bytes.get(j) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    j = bytes[j + 1..]
                        .iter()
                        .position(|b| *b == q)
                        .map_or(bytes.len(), |p| j + 2 + p);
                }
                _ => {
                    while j < bytes.len() && !bytes[j].is_ascii_whitespace() && bytes[j] != b'>' {
                        j += 1;
                    }
                }
            }
            i = j;
        }
        let kept: usize = attrs.iter().map(|(a, b)| b - a + 1).sum();
        if attrs.len() < limits.max_attributes
            && head + kept + (i - from) + 2 < limits.max_tag_bytes
        {
            attrs.push((from, i.min(bytes.len())));
        } else {
            over = true;
        }
    }
    if !over {
        return None;
    }
    let mut short = String::with_capacity(limits.max_tag_bytes);
    short.push_str(&tag[..head]);
    for &(a, b) in &attrs {
        short.push(' ');
        short.push_str(&tag[a..b]);
    }
    if tag.ends_with("/>") {
        short.push('/');
    }
    short.push('>');
    Some(short)
}

fn is_in(name: &[u8], list: &[&[u8]]) -> bool {
    list.iter().any(|n| n.eq_ignore_ascii_case(name))
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    memchr::memchr(needle, hay)
}

fn find(bytes: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    if from >= bytes.len() {
        return None;
    }
    memchr::memmem::find(&bytes[from..], pat).map(|p| p + from)
}

/// Index just past the `>` that ends a tag, skipping quoted attribute values; always on a
/// char boundary because `>` is ASCII.
fn tag_end(bytes: &[u8], from: usize) -> usize {
    let mut i = from;
    // jump from one `>` or quote to the next: the bytes between decide nothing
    while let Some(off) = memchr::memchr3(b'>', b'"', b'\'', bytes.get(i..).unwrap_or(&[])) {
        let at = i + off;
        let b = bytes[at];
        if b == b'>' {
            return at + 1;
        }
        // only a quote right after `=` (allowing spaces) opens a value
        let prev = bytes[from..at]
            .iter()
            .rev()
            .find(|c| !c.is_ascii_whitespace());
        if prev != Some(&b'=') {
            i = at + 1;
            continue;
        }
        match memchr(b, &bytes[at + 1..]) {
            Some(close) => i = at + 1 + close + 1,
            None => return bytes.len(),
        }
    }
    bytes.len()
}

/// Where the `</svg>` of an `<svg>` whose start tag ends at `from` starts, when the parser
/// reads everything up to it as the drawing: no comment, CDATA or nested `<svg>`/`<math>`,
/// no HTML tag that would end the foreign content, no raw text that could hide the end tag.
fn plain_svg_close(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(off) = memchr(b'<', bytes.get(i..).unwrap_or(&[])) {
        let at = i + off;
        let closing = bytes.get(at + 1) == Some(&b'/');
        let name_start = at + 1 + usize::from(closing);
        if bytes
            .get(name_start)
            .is_some_and(|b| *b == b'!' || *b == b'?')
        {
            return None;
        }
        let name_len = bytes[name_start.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let name = &bytes[name_start.min(bytes.len())..name_start + name_len];
        if closing && name.eq_ignore_ascii_case(b"svg") {
            let after = bytes.get(name_start + name_len);
            return matches!(
                after,
                Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
            )
            .then_some(at);
        }
        if is_in(name, NOT_IN_ICONS) {
            return None;
        }
        i = at + 1;
    }
    None
}

/// Tags that end foreign content (the HTML standard's list, and `font`), that nest foreign
/// content, or that start raw text: an `<svg>` with any of them is left to the parser.
const NOT_IN_ICONS: &[&[u8]] = &[
    b"b",
    b"big",
    b"blockquote",
    b"body",
    b"br",
    b"center",
    b"code",
    b"dd",
    b"div",
    b"dl",
    b"dt",
    b"em",
    b"embed",
    b"h1",
    b"h2",
    b"h3",
    b"h4",
    b"h5",
    b"h6",
    b"head",
    b"hr",
    b"i",
    b"img",
    b"li",
    b"listing",
    b"menu",
    b"meta",
    b"nobr",
    b"ol",
    b"p",
    b"pre",
    b"ruby",
    b"s",
    b"small",
    b"span",
    b"strong",
    b"strike",
    b"sub",
    b"sup",
    b"table",
    b"tt",
    b"u",
    b"ul",
    b"var",
    b"font",
    b"svg",
    b"math",
    b"foreignobject",
    b"script",
    b"style",
    b"textarea",
    b"xmp",
    b"iframe",
    b"noembed",
    b"noframes",
    b"noscript",
    b"plaintext",
];

/// Where the end tag `</name` of a raw-text element starts, if it has one.
fn raw_text_close(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut i = from;
    while let Some(off) = memchr(b'<', bytes.get(i..).unwrap_or(&[])) {
        let at = i + off;
        let after = at + 2 + name.len();
        if bytes.get(at + 1) == Some(&b'/')
            && after <= bytes.len()
            && bytes[at + 2..after].eq_ignore_ascii_case(name)
        {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Whether the text of the raw-text element `tag` (its start tag) is dropped: a script or
/// style whose text no part of the extractor reads, and whose end tag `close` (and the
/// rest of the page) the parser reads as the scan does, so that only the text goes.
fn is_emptied(tag: &[u8], name: &[u8], body: &[u8], close: &[u8]) -> bool {
    let script = name.eq_ignore_ascii_case(b"script");
    if !script && !name.eq_ignore_ascii_case(b"style") {
        return false;
    }
    // JSON-LD is read (a character reference could spell its type: keep those too)
    if script && (contains_ignore_case(tag, b"json") || tag.contains(&b'&')) {
        return false;
    }
    // `<!--` in a script starts the escaped states, where `</script>` may not end it
    if script && memchr::memmem::find(body, b"<!--").is_some() {
        return false;
    }
    // `</scripts` does not end a script: the parser would read on
    matches!(
        close.get(2 + name.len()),
        Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
    )
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pre-scan with the default limits.
    fn bound(html: &str) -> Cow<'_, str> {
        super::bound(html, &MarkupLimits::default())
    }

    /// The pre-scan with the default limits but `max_depth`.
    fn bound_to(html: &str, max_depth: usize) -> Cow<'_, str> {
        let limits = MarkupLimits {
            max_depth,
            ..MarkupLimits::default()
        };
        super::bound_to(html, &limits)
    }

    #[test]
    fn shallow_pages_are_not_copied() {
        let html = "<html><body><div><p>Hello <b>world</b></p></div></body></html>";
        assert!(matches!(bound(html), Cow::Borrowed(_)));
    }

    #[test]
    fn deep_nesting_is_flattened_but_text_kept() {
        let html = format!("{}deep text{}", "<div>".repeat(50), "</div>".repeat(50));
        let out = bound_to(&html, 10);
        assert_eq!(out.matches("<div>").count(), 10);
        assert_eq!(out.matches("</div>").count(), 10);
        assert!(out.contains("deep text"));
    }

    #[test]
    fn tags_inside_scripts_and_comments_do_not_count() {
        let html = format!(
            "<textarea>{}</textarea><!-- {} --><div>x</div>",
            "<div>".repeat(50),
            "<div>".repeat(50)
        );
        assert!(matches!(bound_to(&html, 5), Cow::Borrowed(_)));
        let html = format!("<script>{}</script><div>x</div>", "<div>".repeat(50));
        assert_eq!(bound_to(&html, 5), "<script></script><div>x</div>");
    }

    #[test]
    fn scripts_and_styles_are_emptied_but_json_ld_is_kept() {
        let html = concat!(
            "<head><style>p { color: red }</style>",
            r#"<script type="application/ld+json">{"headline": "H"}</script>"#,
            "<SCRIPT src=a.js>var a = '<p>';</SCRIPT >",
            "</head><body><p>text</p></body>"
        );
        assert_eq!(
            bound(html),
            concat!(
                "<head><style></style>",
                r#"<script type="application/ld+json">{"headline": "H"}</script>"#,
                "<SCRIPT src=a.js></SCRIPT >",
                "</head><body><p>text</p></body>"
            )
        );
    }

    #[test]
    fn inline_icons_are_emptied() {
        let html =
            r#"<h2>Share <svg viewBox="0 0 9 9"><title>x</title><path d="M0 0"/></svg></h2>"#;
        assert_eq!(
            bound(html),
            r#"<h2>Share <svg viewBox="0 0 9 9"></svg></h2>"#
        );
        // an HTML tag inside ends the drawing early: the parser reads it, so it stays
        for html in [
            "<svg><path/><p>text</p></svg>",
            "<svg><!-- </svg> --></svg>",
            "<svg><svg><path/></svg></svg>",
            "<svg><path/></svgs>",
            "<svg/><p>text</p>",
        ] {
            assert!(matches!(bound(html), Cow::Borrowed(_)), "{html}");
        }
    }

    #[test]
    fn scripts_the_parser_reads_differently_are_kept() {
        for html in [
            // escaped script text, where `</script>` may not end the script
            "<script><!-- <script>a</script> b --></script><p>x</p>",
            // not the end tag
            "<script>a</scripts>b</script><p>x</p>",
            // foreign content and raw text around them
            "<svg><script>a</script></svg><p>x</p>",
            "<noscript><style>a</style></noscript><p>x</p>",
            "<select><style>a</style></select><p>x</p>",
            // no end tag at all
            "<p>x</p><script>a",
        ] {
            assert!(matches!(bound(html), Cow::Borrowed(_)), "{html}");
        }
    }

    #[test]
    fn unclosed_paragraphs_do_not_count_as_depth() {
        let html = "<p>one".repeat(100);
        assert!(matches!(bound_to(&html, 5), Cow::Borrowed(_)));
    }

    #[test]
    fn a_tag_keeps_its_first_attributes_only() {
        let mut html = String::from("<p");
        for i in 0..1000 {
            html.push_str(&format!(" a{i}=\"v{i}\""));
        }
        html.push_str(">text</p>");
        let out = bound(&html);
        assert!(out.starts_with(r#"<p a0="v0" a1="v1""#), "{}", &out[..40]);
        assert_eq!(
            out.matches('=').count(),
            MarkupLimits::default().max_attributes
        );
        assert!(out.ends_with(">text</p>"));
        assert!(out.contains(" a31=\"v31\">text"));
    }

    #[test]
    fn a_huge_attribute_value_is_dropped_whole() {
        let html = format!(
            r#"<p class="lead" title="{}" id=x>text</p>"#,
            "y".repeat(100_000)
        );
        assert_eq!(bound(&html), r#"<p class="lead" id=x>text</p>"#);
    }

    #[test]
    fn ordinary_long_tags_are_kept_as_they_are() {
        let html = format!(
            r#"<a href="https://example.org/{}" class=x>link</a>"#,
            "p".repeat(300)
        );
        assert!(matches!(bound(&html), Cow::Borrowed(_)));
    }

    #[test]
    fn markup_is_cut_before_a_split_tag() {
        let html = format!("{}<p class=x>tail", "a".repeat(100));
        assert_eq!(cap(&html, 105), "a".repeat(100));
        assert_eq!(cap("héllo", 2), "h");
    }

    #[test]
    fn quoted_angle_brackets_do_not_end_a_tag() {
        let html = r#"<div title="a > b"><div>x</div></div>"#;
        let out = bound_to(html, 1);
        assert_eq!(out, r#"<div title="a > b">x</div>"#);
    }
}
