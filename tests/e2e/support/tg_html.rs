//! Telegram's `parse_mode=HTML` as the Bot API applies it: the supported tags become
//! entities over the plain text (offsets and lengths in UTF-16 code units), the four named
//! character references and numeric ones are decoded, and anything else inside `<…>` is
//! refused with the API's "can't parse entities" error. A pure function, so the fake Bot API,
//! the autolink detector and unit tests can all use it.

use serde_json::{Value, json};

/// One formatting entity of the parsed text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    /// Telegram's entity type: `bold`, `italic`, `text_link`, `pre`, `custom_emoji`, …
    pub kind: String,
    /// Start, in UTF-16 code units.
    pub offset: usize,
    /// Length, in UTF-16 code units.
    pub length: usize,
    /// The link of a `text_link`.
    pub url: Option<String>,
    /// The language of a `pre` block (`<pre><code class="language-x">`).
    pub language: Option<String>,
    /// The emoji id of a `custom_emoji`.
    pub custom_emoji_id: Option<String>,
}

impl Entity {
    /// Telegram's `MessageEntity` object.
    pub fn to_json(&self) -> Value {
        let mut entity = json!({"type": self.kind, "offset": self.offset, "length": self.length});
        if let Some(url) = &self.url {
            entity["url"] = json!(url);
        }
        if let Some(language) = &self.language {
            entity["language"] = json!(language);
        }
        if let Some(id) = &self.custom_emoji_id {
            entity["custom_emoji_id"] = json!(id);
        }
        entity
    }
}

/// The text a user sees and its entities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The text without markup, references decoded.
    pub text: String,
    /// The entities, ordered by offset (longer first at the same offset).
    pub entities: Vec<Entity>,
}

/// A tag still open while parsing.
struct Open {
    /// The tag name as written (lowercased), for matching its end tag.
    name: String,
    /// Where its content starts, in UTF-16 units.
    start: usize,
    /// How many start tags came before it: the order among entities of the same span.
    seq: usize,
    entity: Option<Entity>,
}

/// Parses `html` as Telegram does; `Err` holds the description after "Bad Request: ".
pub fn parse(html: &str) -> Result<Parsed, String> {
    let fail = |what: String| Err(format!("can't parse entities: {what}"));
    let mut text = String::new();
    let mut units = 0usize;
    let mut open: Vec<Open> = Vec::new();
    let mut entities = Vec::new();
    let mut started = 0;
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'&' => {
                let (decoded, used) = reference(&html[i..]);
                units += decoded.len_utf16();
                text.push(decoded);
                i += used;
            }
            b'<' if bytes.get(i + 1) == Some(&b'/') => {
                let Some(close) = html[i..].find('>') else {
                    return fail(format!("Unclosed end tag at byte offset {i}"));
                };
                let name = html[i + 2..i + close].trim().to_ascii_lowercase();
                let Some(top) = open.pop() else {
                    return fail(format!("Unexpected end tag at byte offset {i}"));
                };
                if top.name != name {
                    return fail(format!(
                        "Unmatched end tag at byte offset {i}, expected \"</{}>\", found \"</{name}>\"",
                        top.name
                    ));
                }
                if let Some(mut entity) = top.entity {
                    entity.length = units - top.start;
                    if entity.length > 0 {
                        entities.push((top.seq, entity));
                    }
                }
                i += close + 1;
            }
            b'<' => {
                let Some(close) = html[i..].find('>') else {
                    return fail(format!("Unclosed start tag at byte offset {i}"));
                };
                let inside = &html[i + 1..i + close];
                let name_end = inside
                    .find(|c: char| c.is_ascii_whitespace() || c == '/')
                    .unwrap_or(inside.len());
                let name = inside[..name_end].to_ascii_lowercase();
                let attributes = match attributes(&inside[name_end..]) {
                    Ok(found) => found,
                    Err(what) => return fail(format!("{what} at byte offset {i}")),
                };
                let attribute = |wanted: &str| {
                    attributes
                        .iter()
                        .find(|(name, _)| name == wanted)
                        .map(|(_, value)| value.clone())
                };
                let kind = match name.as_str() {
                    "b" | "strong" => "bold",
                    "i" | "em" => "italic",
                    "u" | "ins" => "underline",
                    "s" | "strike" | "del" => "strikethrough",
                    "tg-spoiler" => "spoiler",
                    "span" if attribute("class").as_deref() == Some("tg-spoiler") => "spoiler",
                    "span" => {
                        return fail(format!(
                            "Tag \"span\" must have class \"tg-spoiler\" at byte offset {i}"
                        ));
                    }
                    "a" => "text_link",
                    "code" => "code",
                    "pre" => "pre",
                    "blockquote" if attribute("expandable").is_some() => "expandable_blockquote",
                    "blockquote" => "blockquote",
                    "tg-emoji" => "custom_emoji",
                    _ => {
                        return fail(format!(
                            "Unsupported start tag \"{name}\" at byte offset {i}"
                        ));
                    }
                };
                let mut entity = Entity {
                    kind: kind.to_owned(),
                    offset: units,
                    length: 0,
                    url: None,
                    language: None,
                    custom_emoji_id: None,
                };
                let mut keep = true;
                match kind {
                    "text_link" => {
                        let href = attribute("href").unwrap_or_default();
                        // A link without a usable address is plain text, as in Telegram.
                        keep = url::Url::parse(&href).is_ok();
                        entity.url = Some(href);
                    }
                    "custom_emoji" => {
                        let Some(id) = attribute("emoji-id") else {
                            return fail(format!(
                                "Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset {i}"
                            ));
                        };
                        entity.custom_emoji_id = Some(id);
                    }
                    "code" => {
                        // `<pre><code class="language-x">` is one pre block in language x.
                        let language = attribute("class")
                            .and_then(|c| c.strip_prefix("language-").map(str::to_owned));
                        if let (Some(language), Some(parent)) = (&language, open.last_mut())
                            && parent.name == "pre"
                            && parent.start == units
                            && let Some(pre) = parent.entity.as_mut()
                        {
                            pre.language = Some(language.clone());
                            keep = false;
                        }
                    }
                    _ => {}
                }
                open.push(Open {
                    name,
                    start: units,
                    seq: started,
                    entity: keep.then_some(entity),
                });
                started += 1;
                i += close + 1;
            }
            _ => {
                let next = html[i..].find(['&', '<']).map_or(html.len(), |at| i + at);
                let chunk = &html[i..next];
                units += chunk.encode_utf16().count();
                text.push_str(chunk);
                i = next;
            }
        }
    }
    if let Some(top) = open.last() {
        return fail(format!(
            "Can't find end tag corresponding to start tag \"{}\"",
            top.name
        ));
    }
    entities.sort_by_key(|(seq, e)| (e.offset, std::cmp::Reverse(e.length), *seq));
    let entities = entities.into_iter().map(|(_, e)| e).collect();
    Ok(Parsed { text, entities })
}

/// Decodes the character reference at the start of `rest` (which starts with `&`): the four
/// named ones and numeric ones. Anything else stays a literal `&`, as Telegram keeps it.
fn reference(rest: &str) -> (char, usize) {
    let Some(end) = rest.bytes().take(12).position(|b| b == b';') else {
        return ('&', 1);
    };
    let decoded = match &rest[1..end] {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        body => body
            .strip_prefix('#')
            .and_then(|n| match n.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => n.parse::<u32>().ok(),
            })
            .and_then(char::from_u32),
    };
    match decoded {
        Some(c) => (c, end + 1),
        None => ('&', 1),
    }
}

/// The attributes of a start tag (`name="v"`, `name='v'`, `name=v` or a bare `name`), names
/// lowercased and values decoded.
fn attributes(mut rest: &str) -> Result<Vec<(String, String)>, String> {
    let mut found = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return Ok(found);
        }
        let name_end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let name = rest[..name_end].to_ascii_lowercase();
        rest = rest[name_end..].trim_start();
        let Some(after_equals) = rest.strip_prefix('=') else {
            found.push((name, String::new()));
            continue;
        };
        rest = after_equals.trim_start();
        let (raw, remaining) = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let Some(end) = rest[1..].find(quote) else {
                    return Err("Unclosed attribute value".to_owned());
                };
                (&rest[1..1 + end], &rest[end + 2..])
            }
            _ => {
                let end = rest
                    .find(|c: char| c.is_ascii_whitespace())
                    .unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        found.push((name, decode(raw)));
        rest = remaining;
    }
}

/// Decodes the character references of an attribute value.
fn decode(raw: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(at) = raw[i..].find('&') {
        out.push_str(&raw[i..i + at]);
        let (c, used) = reference(&raw[i + at..]);
        out.push(c);
        i += at + used;
    }
    out.push_str(&raw[i..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(parsed: &Parsed) -> Vec<(&str, usize, usize)> {
        parsed
            .entities
            .iter()
            .map(|e| (e.kind.as_str(), e.offset, e.length))
            .collect()
    }

    #[test]
    fn tags_become_entities_in_utf16_units() {
        let parsed = parse("🎉 <b>Bold</b> and <a href=\"https://e.org/a?b=1&amp;c=2\">site</a>")
            .expect("valid");
        assert_eq!(parsed.text, "🎉 Bold and site");
        assert_eq!(kinds(&parsed), vec![("bold", 3, 4), ("text_link", 12, 4)]);
        assert_eq!(
            parsed.entities[1].url.as_deref(),
            Some("https://e.org/a?b=1&c=2")
        );
    }

    #[test]
    fn references_are_decoded_and_a_stray_ampersand_stays() {
        let parsed =
            parse("a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#x27; &nbsp; & e").expect("valid");
        assert_eq!(parsed.text, "a <b> & \"c\" 'd' &nbsp; & e");
    }

    #[test]
    fn nesting_and_aliases() {
        let parsed = parse("<strong><i>x</i></strong><tg-spoiler>s</tg-spoiler><span class=\"tg-spoiler\">t</span><blockquote expandable>q</blockquote>")
            .expect("valid");
        assert_eq!(
            kinds(&parsed),
            vec![
                ("bold", 0, 1),
                ("italic", 0, 1),
                ("spoiler", 1, 1),
                ("spoiler", 2, 1),
                ("expandable_blockquote", 3, 1)
            ]
        );
    }

    #[test]
    fn pre_with_a_language() {
        let parsed = parse("<pre><code class=\"language-rust\">fn x</code></pre>").expect("valid");
        assert_eq!(kinds(&parsed), vec![("pre", 0, 4)]);
        assert_eq!(parsed.entities[0].language.as_deref(), Some("rust"));
    }

    #[test]
    fn bad_markup_is_refused_like_telegram() {
        let error = |html| parse(html).expect_err("refused");
        assert!(error("a <div>b</div>").contains("Unsupported start tag \"div\" at byte offset 2"));
        assert!(error("a <br> b").contains("Unsupported start tag \"br\""));
        assert!(error("<b>x").contains("Can't find end tag corresponding to start tag \"b\""));
        assert!(error("x</b>").contains("Unexpected end tag at byte offset 1"));
        assert!(error("<b><i>x</b></i>").contains("Unmatched end tag"));
        assert!(error("1 < 2").contains("can't parse entities"));
        assert!(error("<span>x</span>").contains("tg-spoiler"));
        assert!(error("<tg-emoji>x</tg-emoji>").contains("emoji-id"));
        assert!(error("x <b").starts_with("can't parse entities: "));
    }

    #[test]
    fn empty_entities_are_dropped() {
        let parsed = parse("<b></b>x<a href=\"not a url\">y</a>").expect("valid");
        assert_eq!(parsed.text, "xy");
        assert!(parsed.entities.is_empty());
    }
}
