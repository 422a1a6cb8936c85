//! Article metadata (title, site, byline, published time, language, canonical URL) from
//! `<meta>`, `<link>`, `<title>`, JSON-LD and the page itself.

use super::clean;
use super::jsonld::JsonLd;
use super::text;
use regex::Regex;
use scraper::ElementRef;
use scraper::node::Element;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use url::Url;

/// Raw metadata gathered during the content walk.
#[derive(Debug, Default)]
pub(crate) struct RawMeta {
    pub(crate) html_lang: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) json_ld: Vec<String>,
    /// Texts of the first `<h1>` elements met.
    pub(crate) h1s: Vec<String>,
    /// `(key, content)` of `<meta>` tags, key lowercased (name, property, itemprop or http-equiv).
    metas: Vec<(String, String)>,
    canonical: Option<String>,
    base_href: Option<String>,
    byline: Option<String>,
    time: Option<String>,
}

/// Metadata keys worth keeping; everything else on a page's `<meta>` list is ignored.
const KEYS: &[&str] = &[
    "og:title",
    "twitter:title",
    "dc:title",
    "dc.title",
    "dcterm:title",
    "title",
    "parsely-title",
    "og:site_name",
    "application-name",
    "author",
    "article:author",
    "dc.creator",
    "dc:creator",
    "byl",
    "parsely-author",
    "sailthru.author",
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
    "og:locale",
    "content-language",
    "language",
    "og:url",
];

impl RawMeta {
    /// Records a `<meta>`, `<link rel=canonical>` or `<base>` element.
    pub(crate) fn element(&mut self, e: &Element) {
        match e.name() {
            "meta" => {
                let Some(content) = clean::attr(e, "content") else {
                    return;
                };
                let content = text::collapse(content);
                if content.is_empty() {
                    return;
                }
                for attr in ["property", "name", "itemprop", "http-equiv"] {
                    let Some(keys) = clean::attr(e, attr) else {
                        continue;
                    };
                    // property="og:title twitter:title" names several keys at once; only
                    // a key's first value is read, so a page repeating keys keeps one copy
                    // (400 keys on each of 500 tags held 400 MB of copies)
                    for key in keys.split_whitespace() {
                        let key = key.to_ascii_lowercase();
                        if KEYS.contains(&key.as_str()) && self.get(&key).is_none() {
                            self.metas.push((key, content.clone()));
                        }
                    }
                }
            }
            "link" => {
                let is_canonical = clean::attr(e, "rel").is_some_and(|r| {
                    r.split_whitespace()
                        .any(|t| t.eq_ignore_ascii_case("canonical"))
                });
                if is_canonical && self.canonical.is_none() {
                    self.canonical = clean::attr(e, "href").map(|h| h.trim().to_string());
                }
            }
            "base" if self.base_href.is_none() => {
                self.base_href = clean::attr(e, "href").map(|h| h.trim().to_string());
            }
            _ => {}
        }
    }

    /// Records the first `<time datetime>` as a fallback publication time.
    pub(crate) fn time(&mut self, e: &Element) {
        if self.time.is_none() {
            self.time = clean::attr(e, "datetime").map(str::to_string);
        }
    }

    /// Records the text of a byline element (class/id `byline`, `author`; rel/itemprop author).
    pub(crate) fn maybe_byline(
        &mut self,
        el: ElementRef<'_>,
        class: Option<&str>,
        id: Option<&str>,
    ) {
        if self.byline.is_some() {
            return;
        }
        let hinted = [class, id].into_iter().flatten().any(|h| {
            contains_ignore_case(h, "byline")
                || contains_ignore_case(h, "author")
                || contains_ignore_case(h, "writtenby")
        });
        let marked = clean::attr(el.value(), "rel") == Some("author")
            || clean::attr(el.value(), "itemprop").is_some_and(|p| p.contains("author"));
        if !(hinted || marked) {
            return;
        }
        // stop early: a page-sized "author" wrapper must not be copied at every level
        let mut raw = String::new();
        for piece in el.text() {
            raw.push_str(piece);
            if raw.len() > 400 {
                return;
            }
        }
        let t = text::collapse(&raw);
        let n = t.chars().count();
        if n > 0 && n < 100 {
            self.byline = Some(t);
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.metas
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn first(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.get(k)).map(str::to_string)
    }
}

/// ASCII case-insensitive substring test, without allocating (it runs on every class).
fn contains_ignore_case(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Metadata resolved from every source, best source first.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Metadata {
    pub(crate) title: String,
    pub(crate) site_name: Option<String>,
    pub(crate) byline: Option<String>,
    pub(crate) published: Option<String>,
    pub(crate) lang: Option<String>,
    pub(crate) canonical_url: Option<String>,
}

/// Chooses each field from the page's sources; `h1` is the page's first main heading.
pub(crate) fn resolve(
    raw: &RawMeta,
    ld: &JsonLd,
    h1: Option<&str>,
    base: Option<&Url>,
) -> Metadata {
    let site_name = raw
        .first(&["og:site_name"])
        .or_else(|| ld.publisher.clone())
        .or_else(|| raw.first(&["application-name"]));
    let title = choose_title(raw, ld, h1, site_name.as_deref());
    let byline = ld
        .author
        .clone()
        .or_else(|| {
            raw.first(&[
                "author",
                "dc.creator",
                "dc:creator",
                "parsely-author",
                "sailthru.author",
                "byl",
            ])
        })
        .or_else(|| {
            raw.first(&["article:author"])
                .filter(|a| !a.starts_with("http"))
        })
        .or_else(|| raw.byline.clone())
        .map(|b| clean_byline(&b))
        .filter(|b| !b.is_empty());
    let published = raw
        .first(&[
            "article:published_time",
            "og:article:published_time",
            "datepublished",
        ])
        .or_else(|| ld.published.clone())
        .or_else(|| {
            raw.first(&[
                "date",
                "pubdate",
                "publishdate",
                "publish-date",
                "dc.date",
                "dc.date.issued",
                "dcterms.created",
                "sailthru.date",
                "parsely-pub-date",
            ])
        })
        .or_else(|| raw.time.clone());
    let lang = raw
        .html_lang
        .as_deref()
        .and_then(normalize_lang)
        .or_else(|| raw.get("content-language").and_then(normalize_lang))
        .or_else(|| raw.get("og:locale").and_then(normalize_lang))
        .or_else(|| ld.lang.as_deref().and_then(normalize_lang))
        .or_else(|| raw.get("language").and_then(normalize_lang));
    let base = effective_base(raw, base);
    let canonical_url = raw
        .canonical
        .as_deref()
        .and_then(|c| absolute(c, base.as_ref()))
        .or_else(|| raw.get("og:url").and_then(|c| absolute(c, base.as_ref())));
    Metadata {
        title,
        site_name,
        byline,
        published,
        lang,
        canonical_url,
    }
}

/// Where a byline element runs on into a date, a handle or a reading time.
static BYLINE_TAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\s+(?:[-–—|•·]\s+|on\s+)?(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d|\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d\d-\d\d)|\s+[-–—|•·]\s+|\s+@\w",
    )
    .expect("constant regex")
});

/// "By Ann Lee - Nov 18, 2019" → "Ann Lee".
fn clean_byline(b: &str) -> String {
    let mut b = text::collapse(b);
    let lower = b.to_lowercase();
    for prefix in ["by ", "от ", "von ", "par ", "por "] {
        if lower.starts_with(prefix)
            && let Some(rest) = b.get(prefix.len()..)
        {
            b = rest.trim().to_string();
            break;
        }
    }
    if let Some(m) = BYLINE_TAIL.find(&b)
        && m.start() > 0
    {
        b.truncate(m.start());
    }
    b
}

/// `<base href>` resolved against the page URL, else the page URL.
fn effective_base(raw: &RawMeta, base: Option<&Url>) -> Option<Url> {
    match (raw.base_href.as_deref(), base) {
        (Some(href), Some(b)) => b.join(href).ok().or_else(|| Some(b.clone())),
        (Some(href), None) => Url::parse(href).ok(),
        (None, b) => b.cloned(),
    }
}

fn absolute(href: &str, base: Option<&Url>) -> Option<String> {
    let url = match base {
        Some(b) => b.join(href).ok()?,
        None => Url::parse(href).ok()?,
    };
    matches!(url.scheme(), "http" | "https").then(|| url.to_string())
}

/// ISO 639-1 code from a language tag: "en-US" → "en", "pt_BR" → "pt".
pub(crate) fn normalize_lang(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_', ',', ';']).next()?.trim();
    let ok = (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    ok.then(|| primary.to_ascii_lowercase())
}

/// Separators between a headline and the site's name in `<title>`.
const SEPARATORS: &[&str] = &[
    " | ", " - ", " – ", " — ", " \\ ", " / ", " > ", " » ", " · ", " :: ",
];

/// Readability's order: JSON-LD, Dublin Core, Open Graph, other meta tags, then `<title>`.
fn choose_title(raw: &RawMeta, ld: &JsonLd, h1: Option<&str>, site: Option<&str>) -> String {
    let document = raw
        .title
        .as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| clean_document_title(t, h1, site));
    let from_ld = match (&ld.name, &ld.headline) {
        (Some(name), Some(headline)) if name != headline => {
            // some sites put their own name in `name`: keep the one that matches <title>
            let doc = document.as_deref().unwrap_or_default();
            if similarity(headline, doc) > 0.75 && similarity(name, doc) <= 0.75 {
                Some(headline.clone())
            } else {
                Some(name.clone())
            }
        }
        (Some(name), _) => Some(name.clone()),
        (None, headline) => headline.clone(),
    };
    let candidates = [
        from_ld,
        raw.first(&["dc:title", "dc.title", "dcterm:title"]),
        raw.first(&["og:title"]),
        raw.first(&["title", "parsely-title", "twitter:title"]),
    ];
    if let Some(t) = candidates.into_iter().flatten().find(|t| !t.is_empty()) {
        return strip_site(&t, site);
    }
    document
        .or_else(|| h1.map(str::to_string))
        .unwrap_or_default()
}

/// Readability's text similarity: the share of `b`'s words (by length) also found in `a`.
pub(crate) fn similarity(a: &str, b: &str) -> f32 {
    Words::of(a).share_of(b)
}

/// A text's lowercased words, looked up in a map: a text compared with many others (the
/// title with each block before the body) is split once, and each comparison costs the
/// length of the other text, not the product of both (a page-sized title and thousands of
/// headings cost a minute of CPU when its words were searched one by one).
pub(crate) struct Words {
    /// Each distinct word and its weight in the text: (length + 1) times its count.
    weights: HashMap<String, usize>,
    total: usize,
}

impl Words {
    pub(crate) fn of(text: &str) -> Self {
        let mut weights = HashMap::new();
        let mut total = 0;
        for w in words(text) {
            let weight = w.len() + 1;
            total += weight;
            *weights.entry(w).or_insert(0) += weight;
        }
        Words { weights, total }
    }

    /// [`similarity`] with this text as `a`: the share of `b`'s words found in it.
    pub(crate) fn share_of(&self, b: &str) -> f32 {
        let (mut total, mut unique) = (0usize, 0usize);
        for w in words(b) {
            total += w.len() + 1;
            if !self.weights.contains_key(&w) {
                unique += w.len() + 1;
            }
        }
        if self.weights.is_empty() || total == 0 {
            return 0.0;
        }
        1.0 - unique as f32 / total as f32
    }

    /// [`similarity`] with this text as `b`: the share of its words found in `a`.
    pub(crate) fn share_in(&self, a: &str) -> f32 {
        let seen: HashSet<String> = words(a).collect();
        if seen.is_empty() || self.total == 0 {
            return 0.0;
        }
        let found: usize = seen.iter().filter_map(|w| self.weights.get(w)).sum();
        1.0 - (self.total - found) as f32 / self.total as f32
    }
}

/// The lowercased words of `s`, in order.
fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Removes a trailing " | Site" when it names the site.
fn strip_site(title: &str, site: Option<&str>) -> String {
    let Some(site) = site.filter(|s| !s.is_empty()) else {
        return title.to_string();
    };
    for sep in SEPARATORS {
        if let Some(head) = title.strip_suffix(&format!("{sep}{site}"))
            && !head.trim().is_empty()
        {
            return head.trim().to_string();
        }
    }
    title.to_string()
}

/// Readability's `<title>` cleanup: drop the site part around a separator unless that leaves
/// too few words; prefer the single `h1` when the title is unusable.
fn clean_document_title(title: &str, h1: Option<&str>, site: Option<&str>) -> String {
    let stripped = strip_site(title, site);
    if stripped != title {
        return stripped;
    }
    // "Headline | Site" where the page's h1 is the headline
    if let Some(h) = h1
        .map(str::trim)
        .filter(|h| !h.is_empty() && h.len() < title.len())
    {
        let at_edge = SEPARATORS.iter().any(|sep| {
            title
                .strip_prefix(h)
                .is_some_and(|rest| rest.starts_with(sep))
                || title
                    .strip_suffix(h)
                    .is_some_and(|rest| rest.ends_with(sep))
        });
        if at_edge {
            return h.to_string();
        }
    }
    let words = |s: &str| s.split_whitespace().count();
    let mut cur = title.to_string();
    let mut had_separator = false;
    if let Some((pos, _)) = SEPARATORS
        .iter()
        .filter_map(|s| title.rfind(s).map(|p| (p, *s)))
        .max_by_key(|(p, _)| *p)
    {
        had_separator = true;
        cur = title[..pos].trim().to_string();
        if words(&cur) < 3 {
            // the site comes first: "Site | Headline"
            if let Some((first, s)) = SEPARATORS
                .iter()
                .filter_map(|s| title.find(s).map(|p| (p, *s)))
                .min_by_key(|(p, _)| *p)
            {
                cur = title[first + s.len()..].trim().to_string();
            }
        }
    }
    let len = cur.chars().count();
    if !(15..=150).contains(&len)
        && let Some(h) = h1
    {
        cur = h.to_string();
    }
    if words(&cur) <= 4 && (!had_separator || words(&cur) != words(title).saturating_sub(1)) {
        cur = title.to_string();
    }
    text::collapse(&cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_from_a_word_map_matches_the_plain_measure() {
        let pairs = [
            ("Rates rise again", "rates RISE again | Example"),
            ("a a a b", "a"),
            ("", "x"),
            ("Ünïcode wörds, ünïcode", "WÖRDS and more"),
        ];
        for (a, b) in pairs {
            let plain = |a: &str, b: &str| {
                let ta: Vec<String> = words(a).collect();
                let tb: Vec<String> = words(b).collect();
                if ta.is_empty() || tb.is_empty() {
                    return 0.0;
                }
                let total: usize = tb.iter().map(|w| w.len() + 1).sum();
                let unique: usize = tb
                    .iter()
                    .filter(|w| !ta.contains(w))
                    .map(|w| w.len() + 1)
                    .sum();
                1.0 - unique as f32 / total as f32
            };
            assert_eq!(Words::of(a).share_of(b), plain(a, b), "{a} / {b}");
            assert_eq!(Words::of(b).share_in(a), plain(a, b), "{a} / {b}");
            assert_eq!(similarity(b, a), plain(b, a), "{b} / {a}");
        }
    }

    #[test]
    fn a_meta_key_repeated_keeps_one_copy_of_its_content() {
        // 400 keys on each of 500 tags of 2 KB content held 430 MB of copies
        let tag = format!(
            r#"<meta name="{}" property="title og:title" content="{}">"#,
            ["date"; 400].join(" "),
            "x".repeat(2000)
        );
        let html = scraper::Html::parse_document(&format!(
            "<head><meta name=date content=first>{}</head>",
            tag.repeat(20)
        ));
        let mut raw = RawMeta::default();
        for node in html.tree.nodes() {
            if let Some(e) = node.value().as_element() {
                raw.element(e);
            }
        }
        assert_eq!(raw.metas.len(), 3, "{:?}", raw.metas.len());
        assert_eq!(raw.get("date"), Some("first"));
        assert_eq!(raw.get("og:title").map(str::len), Some(2000));
    }

    #[test]
    fn bylines_lose_prefix_dates_and_handles() {
        assert_eq!(clean_byline("By Ann Lee - 11/18/19"), "Ann Lee");
        assert_eq!(
            clean_byline("Bryan DeArdo @BryanDeArdo Nov 18, 2019 at 9:24 pm ET"),
            "Bryan DeArdo"
        );
        assert_eq!(
            clean_byline("Associated Press November 19, 2019, 9:02 AM"),
            "Associated Press"
        );
        assert_eq!(
            clean_byline("TOM KRISHER, AP Auto Writer"),
            "TOM KRISHER, AP Auto Writer"
        );
    }

    #[test]
    fn language_tags_become_iso_codes() {
        assert_eq!(normalize_lang("en-US").as_deref(), Some("en"));
        assert_eq!(normalize_lang("pt_BR").as_deref(), Some("pt"));
        assert_eq!(normalize_lang("RU").as_deref(), Some("ru"));
        assert_eq!(normalize_lang("x-default"), None);
        assert_eq!(normalize_lang(""), None);
    }

    #[test]
    fn document_title_loses_the_site_suffix() {
        let t = clean_document_title("Markets rally as inflation cools | Daily Paper", None, None);
        assert_eq!(t, "Markets rally as inflation cools");
        let t = clean_document_title(
            "Daily Paper - Markets rally as inflation cools fast",
            None,
            None,
        );
        assert_eq!(t, "Markets rally as inflation cools fast");
    }

    #[test]
    fn site_suffix_is_stripped_from_og_title() {
        assert_eq!(
            strip_site("Headline here | Site", Some("Site")),
            "Headline here"
        );
        assert_eq!(
            strip_site("Headline - with dash", Some("Site")),
            "Headline - with dash"
        );
    }

    #[test]
    fn relative_canonical_resolves_against_base() {
        let base = Url::parse("https://news.example/a/b.html").ok();
        assert_eq!(
            absolute("/c/d", base.as_ref()).as_deref(),
            Some("https://news.example/c/d")
        );
        assert_eq!(absolute("/c/d", None), None);
        assert_eq!(absolute("javascript:alert(1)", base.as_ref()), None);
    }
}
