//! JSON-LD (`<script type="application/ld+json">`): the article object's metadata and body.

use serde_json::Value;

/// What the page's JSON-LD says about its article.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct JsonLd {
    /// `headline` of the article object.
    pub headline: Option<String>,
    /// `name` of the article object (some sites put their own name here).
    pub name: Option<String>,
    /// `articleBody`, as given.
    pub body: Option<String>,
    /// Author names joined with ", ".
    pub author: Option<String>,
    /// `datePublished`.
    pub published: Option<String>,
    /// `publisher.name`.
    pub publisher: Option<String>,
    /// `inLanguage`.
    pub lang: Option<String>,
    /// The article (or a part of it) says `isAccessibleForFree: false`: a paywall.
    pub paywalled: bool,
}

/// Merges every article-like object found in the scripts; the first value found wins.
pub(crate) fn parse(scripts: &[String]) -> JsonLd {
    let mut out = JsonLd::default();
    for script in scripts {
        let cleaned = strip_wrappers(script);
        let Ok(value) = serde_json::from_str::<Value>(cleaned) else {
            continue;
        };
        let mut objects = Vec::new();
        collect_objects(&value, &mut objects, 0);
        // a WebPage object only fills what the article object left empty
        objects.retain(|o| is_article(o));
        objects.sort_by_key(|o| types(o).contains(&"WebPage"));
        for obj in objects {
            merge(&mut out, obj);
        }
    }
    out
}

/// Pages wrap JSON-LD in HTML comments or CDATA markers that JSON does not allow.
fn strip_wrappers(script: &str) -> &str {
    let mut s = script.trim();
    for prefix in ["<!--", "//<![CDATA[", "<![CDATA["] {
        s = s.strip_prefix(prefix).unwrap_or(s).trim();
    }
    for suffix in ["-->", "//]]>", "]]>"] {
        s = s.strip_suffix(suffix).unwrap_or(s).trim();
    }
    s.trim_end_matches(';')
}

fn collect_objects<'a>(value: &'a Value, out: &mut Vec<&'a Value>, depth: usize) {
    if depth > 6 {
        return;
    }
    match value {
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_objects(v, out, depth + 1)),
        Value::Object(map) => {
            out.push(value);
            if let Some(graph) = map.get("@graph") {
                collect_objects(graph, out, depth + 1);
            }
            if let Some(main) = map.get("mainEntity") {
                collect_objects(main, out, depth + 1);
            }
        }
        _ => {}
    }
}

fn types(obj: &Value) -> Vec<&str> {
    match obj.get("@type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn is_article(obj: &Value) -> bool {
    types(obj).iter().any(|t| {
        t.ends_with("Article")
            || matches!(
                *t,
                "BlogPosting" | "LiveBlogPosting" | "SocialMediaPosting" | "Report" | "WebPage"
            )
    })
}

fn merge(out: &mut JsonLd, obj: &Value) {
    let text = |key: &str| obj.get(key).and_then(Value::as_str).map(clean_value);
    if out.headline.is_none() {
        out.headline = text("headline").filter(|h| !h.is_empty());
    }
    if out.name.is_none() {
        out.name = text("name").filter(|h| !h.is_empty());
    }
    if out.body.is_none() {
        out.body = text("articleBody").filter(|b| !b.is_empty());
    }
    if out.author.is_none() {
        out.author = obj.get("author").and_then(names);
    }
    if out.published.is_none() {
        out.published = text("datePublished");
    }
    if out.publisher.is_none() {
        out.publisher = obj.get("publisher").and_then(names);
    }
    if out.lang.is_none() {
        out.lang = text("inLanguage");
    }
    let parts = match obj.get("hasPart") {
        Some(Value::Array(parts)) => parts.iter().collect(),
        Some(part) => vec![part],
        None => Vec::new(),
    };
    out.paywalled |= std::iter::once(obj).chain(parts).any(not_free);
}

/// `isAccessibleForFree` set to false, as a boolean or a string (the markup search engines
/// ask paywalled sites to use).
fn not_free(obj: &Value) -> bool {
    match obj.get("isAccessibleForFree") {
        Some(Value::Bool(free)) => !free,
        Some(Value::String(free)) => free.eq_ignore_ascii_case("false"),
        _ => false,
    }
}

/// A name or list of names: a string, an object with `name`, or an array of either.
fn names(value: &Value) -> Option<String> {
    let list: Vec<String> = match value {
        Value::String(s) => vec![clean_value(s)],
        Value::Object(map) => map
            .get("name")
            .and_then(Value::as_str)
            .map(clean_value)
            .into_iter()
            .collect(),
        Value::Array(items) => items.iter().filter_map(names).collect(),
        _ => Vec::new(),
    };
    let list: Vec<String> = list.into_iter().filter(|s| !s.is_empty()).collect();
    (!list.is_empty()).then(|| list.join(", "))
}

fn clean_value(s: &str) -> String {
    super::text::collapse(&decode_basic_entities(s))
}

/// JSON-LD values sometimes carry HTML entities; decode the common ones.
fn decode_basic_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#039;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Whether the article body is usable: long enough and, where the page shows text,
/// consistent with it (most of its words appear on the page).
pub(crate) fn body_is_sound(body: &str, visible_words: &std::collections::HashSet<&str>) -> bool {
    if body.chars().count() < 250 || body.contains("</p>") || body.contains("<p>") {
        return false;
    }
    let words: Vec<&str> = body
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return false;
    }
    if visible_words.is_empty() {
        return true;
    }
    let seen = words.iter().filter(|w| visible_words.contains(*w)).count();
    seen * 10 >= words.len() * 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_article_gives_headline_author_and_body() {
        let script = r#"{"@context":"https://schema.org","@graph":[
            {"@type":"WebSite","name":"Example"},
            {"@type":"NewsArticle","headline":"Big &amp; news","articleBody":"Body text.",
             "author":[{"@type":"Person","name":"Ann Lee"},{"name":"Bo Chen"}],
             "datePublished":"2024-01-02","publisher":{"name":"Example Times"}}]}"#;
        let ld = parse(&[script.to_string()]);
        assert_eq!(ld.headline.as_deref(), Some("Big & news"));
        assert_eq!(ld.body.as_deref(), Some("Body text."));
        assert_eq!(ld.author.as_deref(), Some("Ann Lee, Bo Chen"));
        assert_eq!(ld.published.as_deref(), Some("2024-01-02"));
        assert_eq!(ld.publisher.as_deref(), Some("Example Times"));
    }

    #[test]
    fn broken_json_is_ignored() {
        let ld = parse(&[
            "{not json".to_string(),
            "<!-- {\"@type\":\"Article\",\"headline\":\"H\"} -->".to_string(),
        ]);
        assert_eq!(ld.headline.as_deref(), Some("H"));
    }

    #[test]
    fn body_must_match_the_visible_words() {
        let body = "word ".repeat(60);
        let page: std::collections::HashSet<&str> = ["word"].into_iter().collect();
        assert!(body_is_sound(&body, &page));
        let other: std::collections::HashSet<&str> = ["other"].into_iter().collect();
        assert!(!body_is_sound(&body, &other));
        assert!(!body_is_sound("short", &page));
    }
}
