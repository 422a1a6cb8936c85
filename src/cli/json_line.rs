//! A quick reader for the usual batch input line: one flat JSON object whose keys are `id`,
//! `text`, `html` and `url`, with string (or null) values and a plain `id`.
//!
//! It gives up (`None`) on anything else, and the caller then parses the line with
//! `serde_json`, so a line it cannot read gets exactly `serde_json`'s answer: this reader only
//! makes the common case cheap (a page's HTML has an escape every 15 to 20 bytes, which
//! `serde_json` pays for one at a time), it never accepts a line that `serde_json` refuses nor
//! reads one differently.

use serde_json::Value;

/// The fields of a batch input line.
#[derive(Debug, Default, PartialEq, serde::Deserialize)]
pub struct Fields {
    /// The line's `id`, echoed in its output line (null when absent).
    #[serde(default)]
    pub id: Value,
    /// Plain text to summarize.
    pub text: Option<String>,
    /// A page's HTML.
    pub html: Option<String>,
    /// The page's address: the base of its links, or the page to fetch.
    pub url: Option<String>,
}

/// Reads `line` when it has the usual shape; `None` when `serde_json` must decide. A line it
/// reads is valid UTF-8: each string is checked once it is unescaped, and outside strings it
/// takes ASCII only.
pub fn parse(line: &[u8]) -> Option<Fields> {
    let mut reader = Reader {
        bytes: line,
        pos: 0,
    };
    reader.object()
}

/// A position in the line being read.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Which of the known keys a key is.
#[derive(Clone, Copy)]
enum Key {
    Id,
    Text,
    Html,
    Url,
}

impl Reader<'_> {
    fn object(&mut self) -> Option<Fields> {
        let mut fields = Fields::default();
        let mut seen = [false; 4];
        self.skip_space();
        self.expect(b'{')?;
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return self.end().then_some(fields);
        }
        loop {
            let key = self.key()?;
            // serde_json refuses a repeated field: let it say so
            let slot = &mut seen[key as usize];
            if *slot {
                return None;
            }
            *slot = true;
            self.skip_space();
            self.expect(b':')?;
            self.skip_space();
            match key {
                Key::Id => fields.id = self.id()?,
                Key::Text => fields.text = self.optional_string(true)?,
                Key::Html => fields.html = self.optional_string(true)?,
                Key::Url => fields.url = self.optional_string(false)?,
            }
            self.skip_space();
            match self.next()? {
                b',' => self.skip_space(),
                b'}' => return self.end().then_some(fields),
                _ => return None,
            }
        }
    }

    /// Nothing but white space after the object.
    fn end(&mut self) -> bool {
        self.skip_space();
        self.pos == self.bytes.len()
    }

    /// A known key without escapes; other keys are left to `serde_json`.
    fn key(&mut self) -> Option<Key> {
        self.expect(b'"')?;
        let start = self.pos;
        let end = start + special(&self.bytes[start..]);
        if self.bytes.get(end) != Some(&b'"') {
            return None;
        }
        self.pos = end + 1;
        match &self.bytes[start..end] {
            b"id" => Some(Key::Id),
            b"text" => Some(Key::Text),
            b"html" => Some(Key::Html),
            b"url" => Some(Key::Url),
            _ => None,
        }
    }

    /// A string, null, a number or a boolean; arrays and objects are left to `serde_json`.
    fn id(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string(false).map(Value::String),
            b'n' => self.literal(b"null").then_some(Value::Null),
            b't' => self.literal(b"true").then_some(Value::Bool(true)),
            b'f' => self.literal(b"false").then_some(Value::Bool(false)),
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.pos += 1;
                }
                // serde_json's own reading of the number, so its precision rules hold
                serde_json::from_slice(&self.bytes[start..self.pos]).ok()
            }
            _ => None,
        }
    }

    /// A string or null; `long` when the string is most of the line (a page), so its room is
    /// taken at once.
    fn optional_string(&mut self, long: bool) -> Option<Option<String>> {
        if self.peek()? == b'n' {
            return self.literal(b"null").then_some(None);
        }
        self.string(long).map(Some)
    }

    /// A JSON string, unescaped; `None` on anything `serde_json` would refuse. A `long` one
    /// (a page) is unescaped into room for the rest of the line; a short one's end is found
    /// first, so that it takes only its own room.
    fn string(&mut self, long: bool) -> Option<String> {
        self.expect(b'"')?;
        let limit = if long {
            self.bytes.len()
        } else {
            closing_quote(self.bytes, self.pos)? + 1
        };
        let (out, end) = unescape(&self.bytes[..limit], self.pos)?;
        self.pos = end;
        String::from_utf8(out).ok()
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let found = self.bytes[self.pos..].starts_with(word);
        if found {
            self.pos += word.len();
        }
        found
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Some(byte)
    }
}

/// Unescapes the string that starts at `start` (after its opening quote): the bytes go 16 at
/// a time into room of the input's size (an unescaped string is never longer), each 16 copied
/// whole before their first special byte is looked for, so a run of plain bytes costs one copy
/// and one vector compare per 16 bytes, and an escape a few steps. Gives the bytes and the
/// index after the closing quote.
fn unescape(bytes: &[u8], start: usize) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(bytes.len().saturating_sub(start));
    let mut s = start;
    loop {
        if let Some(chunk) = bytes.get(s..).and_then(<[u8]>::first_chunk::<16>) {
            out.extend_from_slice(chunk);
            let Some(k) = first_special(chunk) else {
                s += 16;
                continue;
            };
            out.truncate(out.len() - 16 + k);
            s += k;
        } else {
            let b = *bytes.get(s)?;
            if !is_special(b) {
                out.push(b);
                s += 1;
                continue;
            }
        }
        match *bytes.get(s)? {
            b'"' => return Some((out, s + 1)),
            b'\\' => {
                let code = *bytes.get(s + 1)?;
                let byte = ESCAPED[usize::from(code)];
                if byte != 0 {
                    out.push(byte);
                    s += 2;
                    continue;
                }
                if code != b'u' {
                    return None;
                }
                let (c, used) = unicode_escape(bytes.get(s + 2..)?)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                s += 2 + used;
            }
            // a raw control character
            _ => return None,
        }
    }
}

/// The byte each one-letter escape stands for (`\"`, `\n`, ...), 0 for the other bytes: a
/// table look-up instead of a jump per escape, which a page has every 15 to 20 bytes.
const ESCAPED: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[b'/' as usize] = b'/';
    table[b'b' as usize] = 0x08;
    table[b'f' as usize] = 0x0c;
    table[b'n' as usize] = b'\n';
    table[b'r' as usize] = b'\r';
    table[b't' as usize] = b'\t';
    table
};

/// The character of a `\u` escape from its hex digits on (a surrogate pair takes two escapes),
/// and the bytes it used.
fn unicode_escape(bytes: &[u8]) -> Option<(char, usize)> {
    let unit = hex4(bytes)?;
    if !(0xD800..=0xDBFF).contains(&unit) {
        // a lone low surrogate is not a character
        return Some((char::from_u32(unit)?, 4));
    }
    // a high surrogate must be followed by an escaped low one
    if bytes.get(4..6)? != b"\\u" {
        return None;
    }
    let low = hex4(bytes.get(6..)?)?;
    if !(0xDC00..=0xDFFF).contains(&low) {
        return None;
    }
    let code = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    Some((char::from_u32(code)?, 10))
}

fn hex4(bytes: &[u8]) -> Option<u32> {
    let mut value = 0;
    for &d in bytes.get(..4)? {
        value = value * 16 + char::from(d).to_digit(16)?;
    }
    Some(value)
}

/// The index of the quote that closes the string starting at `start`, escapes skipped.
fn closing_quote(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    loop {
        at += special(bytes.get(at..)?);
        match *bytes.get(at)? {
            b'"' => return Some(at),
            b'\\' => at += 2,
            _ => return None,
        }
    }
}

/// The index of the first `"`, `\` or control character in `bytes` (its length if none).
fn special(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(16);
    let mut offset = 0;
    for chunk in chunks.by_ref() {
        if let Some(k) = chunk.first_chunk::<16>().and_then(first_special) {
            return offset + k;
        }
        offset += 16;
    }
    let rest = chunks.remainder();
    offset
        + rest
            .iter()
            .position(|&b| is_special(b))
            .unwrap_or(rest.len())
}

/// The first special byte of 16. The flags are one byte per input byte, all ones where it is
/// special, written so that the compiler makes them a few vector compares; the first set
/// byte is then one count of trailing zeros.
#[inline]
fn first_special(chunk: &[u8; 16]) -> Option<usize> {
    let mut flags = [0u8; 16];
    for (flag, &b) in flags.iter_mut().zip(chunk) {
        *flag = u8::from(is_special(b)).wrapping_neg();
    }
    let mask = u128::from_le_bytes(flags);
    (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize)
}

fn is_special(b: u8) -> bool {
    (b == b'"') | (b == b'\\') | (b < 0x20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What serde_json makes of the line.
    fn slow(line: &str) -> Option<Fields> {
        serde_json::from_str(line).ok()
    }

    #[test]
    fn the_usual_lines_read_as_serde_json_reads_them() {
        let lines = [
            json!({"id": "a", "html": "<p class=\"x\">Caf\u{e9}\n\t\\ / \u{1F600}</p>", "url": "https://example.com/a"}).to_string(),
            json!({"id": 7, "text": "One.\r\nTwo."}).to_string(),
            json!({"id": -1.5e3, "url": "https://example.com/"}).to_string(),
            json!({"id": null, "html": null, "text": "x"}).to_string(),
            json!({"id": true, "html": ""}).to_string(),
            json!({}).to_string(),
            // escapes serde_json writes differently, and white space everywhere
            " { \"id\" : \"\\u00e9\\ud83d\\ude00\\/\\b\\f\" , \"html\" : \"a\\u0000b\" } \r\n".to_owned(),
            format!("{{\"html\": \"{}\\\"{}\"}}", "x".repeat(40), "y".repeat(33)),
            "{\"id\": 12345678901234567890}".to_owned(),
        ];
        for line in &lines {
            let fast = parse(line.as_bytes());
            assert!(fast.is_some(), "{line}");
            assert_eq!(fast, slow(line), "{line}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_serde_json() {
        let lines = [
            "",
            "[1]",
            "{\"id\": \"a\", \"html\": ",
            "{\"id\": \"a\" \"html\": \"x\"}",
            "{\"id\": \"a\",}",
            "{\"id\": \"a\"} x",
            "{\"html\": \"tab\tinside\"}",
            "{\"html\": \"bad \\x escape\"}",
            "{\"html\": \"lone \\ud800 surrogate\"}",
            "{\"html\": \"lone \\udc00 surrogate\"}",
            "{\"html\": \"short \\u12\"}",
            "{\"html\": 5}",
            "{\"id\": [1], \"html\": \"x\"}",
            "{\"id\": {\"a\": 1}}",
            "{\"id\": 1, \"id\": 2}",
            "{\"other\": 1, \"html\": \"x\"}",
            "{\"ht\\u006dl\": \"x\"}",
            "{\"id\": 01}",
            "{\"id\": nul}",
        ];
        for line in lines {
            assert_eq!(parse(line.as_bytes()), None, "{line}");
        }
        // the ones serde_json reads are still read, by it
        assert!(slow("{\"other\": 1, \"html\": \"x\"}").is_some());
        assert!(slow("{\"ht\\u006dl\": \"x\"}").is_some_and(|f| f.html.is_some()));
    }

    #[test]
    fn special_finds_the_first_quote_backslash_or_control_character() {
        for len in 0..40 {
            for at in 0..=len {
                let mut bytes = vec![b'a'; len];
                for &c in &[b'"', b'\\', b'\n', 0x1f] {
                    if at < len {
                        bytes[at] = c;
                    }
                    assert_eq!(special(&bytes), at, "{len} {at} {c}");
                }
            }
        }
        assert_eq!(special("é€😀".as_bytes()), "é€😀".len());
    }
}
