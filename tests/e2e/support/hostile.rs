//! Hostile pages: HTML shaped to make a parser, an extractor or a summarizer burn CPU or
//! memory. Shared by the end-to-end tests, the `hostile` example (CPU seconds and peak RSS
//! per page) and the fuzz seeds, each of which includes this file by `#[path]`.

/// One hostile page and the name it is reported under.
pub struct HostilePage {
    /// A short name for reports ("attributes-200k").
    pub name: &'static str,
    /// The markup.
    pub html: String,
}

/// An ordinary paragraph, so a page that survives its trap still has an article to find.
const PARAGRAPH: &str = "<p>The city council approved a new budget for public libraries on \
Tuesday, adding late opening hours in every district and funding two mobile libraries.</p>";

/// Every hostile page, in the order they are reported.
pub fn all() -> Vec<HostilePage> {
    vec![
        page("attributes-200k", attributes(200_000)),
        page("nested-100k", nested(100_000)),
        page("text-node-5mb", text_node(5 * 1024 * 1024)),
        page("attribute-values-1mb", attribute_values(4, 1024 * 1024)),
        page("br-50k", breaks(50_000)),
        page("nested-tables-20k", nested_tables(20_000)),
        page("select-4096", select(4096)),
        page("entities-1m", entities(1_000_000)),
        page("sentences-4mb", endless_sentences(12, 4 * 1024 * 1024)),
        page("formatting-50k", formatting(50_000)),
        page("echoed-title-1mb", echoed_title(200_000, 50_000)),
        page("distinct-titles-120k", distinct_titles(120_000)),
    ]
}

fn page(name: &'static str, html: String) -> HostilePage {
    HostilePage { name, html }
}

fn wrap(body: &str) -> String {
    format!(
        "<!doctype html><html><head><title>Hostile page</title></head><body>\
         <article>{PARAGRAPH}{body}{PARAGRAPH}</article></body></html>"
    )
}

/// One `<p>` carrying `n` distinct attributes (html5ever compares each with all before it).
pub fn attributes(n: usize) -> String {
    let mut tag = String::with_capacity(n * 10);
    tag.push_str("<p");
    for i in 0..n {
        tag.push_str(&format!(" a{i}=x"));
    }
    tag.push_str(">A paragraph with very many attributes.</p>");
    wrap(&tag)
}

/// `n` nested `<div>`s around one sentence.
pub fn nested(n: usize) -> String {
    wrap(&format!(
        "{}Deep text at the bottom of the page.{}",
        "<div>".repeat(n),
        "</div>".repeat(n)
    ))
}

/// One text node of `bytes` bytes of words without a full stop.
pub fn text_node(bytes: usize) -> String {
    let words = "lorem ipsum dolor sit amet consectetur ";
    let mut text = words.repeat(bytes / words.len() + 1);
    text.truncate(bytes);
    wrap(&format!("<p>{text}</p>"))
}

/// `count` tags each with one attribute value of `bytes` bytes.
pub fn attribute_values(count: usize, bytes: usize) -> String {
    let value = "v".repeat(bytes);
    let mut body = String::new();
    for _ in 0..count {
        body.push_str(&format!(
            "<p title=\"{value}\" data-x='{value}'>A paragraph.</p>"
        ));
    }
    wrap(&body)
}

/// `n` line breaks between short words.
pub fn breaks(n: usize) -> String {
    wrap(&format!("<p>{}</p>", "word<br>".repeat(n)))
}

/// `n` tables nested cell in cell.
pub fn nested_tables(n: usize) -> String {
    wrap(&format!(
        "{}Cell text.{}",
        "<table><tr><td>".repeat(n),
        "</td></tr></table>".repeat(n)
    ))
}

/// A `<select>` with `n` options.
pub fn select(n: usize) -> String {
    let mut options = String::new();
    for i in 0..n {
        options.push_str(&format!("<option value=\"{i}\">Option number {i}</option>"));
    }
    wrap(&format!("<form><select name=s>{options}</select></form>"))
}

/// `n` character references, named and numeric, in one paragraph.
pub fn entities(n: usize) -> String {
    let refs = ["&amp;", "&#x41;", "&notin;", "&#12354;", "&nbsp;"];
    let mut text = String::with_capacity(n * 7);
    for i in 0..n {
        text.push_str(refs[i % refs.len()]);
    }
    wrap(&format!("<p>{text}</p>"))
}

/// A text page of `sentences` endless sentences, `bytes` in all.
pub fn endless_sentences(sentences: usize, bytes: usize) -> String {
    let per = bytes / sentences.max(1);
    let mut body = String::new();
    for _ in 0..sentences {
        let words = "word after word after word ";
        let mut s = words.repeat(per / words.len() + 1);
        s.truncate(per);
        body.push_str(&format!("<p>{s}.</p>"));
    }
    wrap(&body)
}

/// `n` unclosed formatting elements, each followed by text (active-formatting reconstruction).
pub fn formatting(n: usize) -> String {
    let tags = ["<b>", "<i>", "<em>", "<strong>", "<u>", "<font>"];
    let mut body = String::new();
    for i in 0..n {
        body.push_str(tags[i % tags.len()]);
        body.push_str("x ");
    }
    wrap(&format!("<p>{body}</p>"))
}

/// A JSON-LD headline of one word said `words` times above `blocks` short paragraphs of that
/// word: each block before the body is compared with the title.
pub fn echoed_title(words: usize, blocks: usize) -> String {
    format!(
        "<!doctype html><html><head><script type=\"application/ld+json\">\
         {{\"@type\":\"NewsArticle\",\"headline\":\"{}\"}}</script></head><body><article>{}\
         {PARAGRAPH}{PARAGRAPH}</article></body></html>",
        "echo ".repeat(words),
        "<p>echo echo</p>".repeat(blocks)
    )
}

/// A `<title>` and a JSON-LD headline of `words` distinct words each, none shared: the two
/// titles are compared word by word.
pub fn distinct_titles(words: usize) -> String {
    let list = |tag: &str| {
        (0..words)
            .map(|i| format!("{tag}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        "<!doctype html><html><head><title>{}</title><script type=\"application/ld+json\">\
         {{\"@type\":\"NewsArticle\",\"headline\":\"{}\"}}</script></head><body>\
         <article>{PARAGRAPH}{PARAGRAPH}</article></body></html>",
        list("d"),
        list("h")
    )
}
