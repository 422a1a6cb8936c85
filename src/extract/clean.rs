//! Boilerplate rules: which elements are never article text, class/id hints, stock phrases.

use aho_corasick::AhoCorasick;
use regex::Regex;
use scraper::node::Element;
use std::sync::LazyLock;

/// Words looked for anywhere in a class or id, ASCII case ignored. One automaton serves every
/// thread without a search cache of its own (a regex keeps one per thread, and its other
/// threads take a lock on each search).
struct HintWords(AhoCorasick);

impl HintWords {
    /// The words of `alternatives`, separated by `|` as in Readability's patterns.
    fn new(alternatives: &str) -> HintWords {
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(alternatives.split('|'))
            .expect("constant words");
        HintWords(automaton)
    }

    /// Whether any of the words occurs in `hints`.
    fn occur_in(&self, hints: &str) -> bool {
        self.0.is_match(hints)
    }
}

/// Class/id words of page furniture (after Readability's `unlikelyCandidates`, plus the
/// widgets news sites add: cookie banners, share bars, newsletter boxes…, and the boxes about
/// the author or the site and its copyright notice, which trail the article).
static UNLIKELY: LazyLock<HintWords> = LazyLock::new(|| {
    HintWords::new(
        "-ad-|ai2html|banner|breadcrumb|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|cookie|consent|newsletter|subscribe|share|sharing|most-read|mostread|popular|recommend|promo|outbrain|taboola|post-nav|prev-next|paywall|signup|sign-up|toolbar|masthead|byline|dateline|caption|credit|timestamp|about|copyright",
    )
});

/// Class/id words that rescue an element matched by [`UNLIKELY`].
static MAYBE: LazyLock<HintWords> =
    LazyLock::new(|| HintWords::new("and|article|body|column|content|main|mathjax|shadow"));

/// Class/id words of article content that raise a container's score.
static POSITIVE: LazyLock<HintWords> = LazyLock::new(|| {
    HintWords::new(
        "article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story",
    )
});

/// Class/id words of page furniture that lower a container's score (with the word `hid`, below).
static NEGATIVE: LazyLock<HintWords> = LazyLock::new(|| {
    HintWords::new(
        "-ad-|hidden|banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget|cookie|newsletter|subscribe",
    )
});

/// Short texts that are page furniture wherever they appear. (`(?:\W|$)` stands for `\b`: a
/// Unicode `\b` makes the regex fall back to its slow engines on any non-ASCII text.)
static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(no time to read\??|get a summary|share( this( article| story| post)?)?( on \w+)?:?|advertisement|advertising|related( articles| stories| posts)?|read more|read next|most read|most popular|previous( article| post)?|next( article| post)?|sign up|subscribe( now)?|all rights reserved\.?|follow us( on \w+)?|comments?|leave a (comment|reply)|tags?:?|print|email|tweet)$|we use cookies|cookie policy|accept (all )?cookies|subscribe to our newsletter|sign up for our newsletter|all rights reserved|subject to copyright|©|^(published|updated|posted|last updated)( on)?:? .{0,80}$|^trending( now)?$|^don'?t miss(?:\W|$)|slideshow requires javascript|(sign up|subscribe).{0,80}newsletter|newsletter.{0,80}(sign up|subscribe|inbox)",
    )
    .expect("constant regex")
});

/// Headings that introduce lists of other articles. A site's name after "from" needs no bound
/// of its own, since the whole line is under 80 bytes (a repeat bound on Unicode word characters
/// took 9 ms to compile, the most of any pattern here).
static TEASER_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:(?:more|related|recommended|popular|latest|top|trending|further)(?: great| top)?(?: \w+)? (?:stories|articles|posts|news|reads|reading|links)(?: from [\w ]+)?|you (?:may|might) also like|read (?:more|next|also)|most (?:read|popular|viewed|shared)|what to read next|recommended for you)\s*:?$",
    )
    .expect("constant regex")
});

/// Lines that open the readers' comments under an article ("12 Comments", "Leave a Reply",
/// "3 responses to …", "Trackbacks").
static COMMENTS_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:(?:\d+|one)\s+(?:comments?|responses?|replies|trackbacks?)|comments|responses|replies|trackbacks|pingbacks|reader comments)(?:\s*\(\d+\))?(?:\s+(?:to|on)\s.{1,150})?\s*:?$|^(?:leave|post|add|write) (?:a|your) (?:comment|reply|response)(?:\W|$)",
    )
    .expect("constant regex")
});

/// Whether a short line opens the readers' comments: the article ends above it.
pub(crate) fn is_comments_heading(text: &str) -> bool {
    text.len() < 200 && COMMENTS_HEADING.is_match(text.trim())
}

/// Whether a short line announces a list of other articles ("More Great Stories").
pub(crate) fn is_teaser_heading(text: &str) -> bool {
    text.len() < 80 && TEASER_HEADING.is_match(text.trim())
}

/// Elements whose content is never article text.
pub(crate) fn is_never_content(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "svg"
            | "iframe"
            | "object"
            | "embed"
            | "canvas"
            | "select"
            | "button"
            | "input"
            | "textarea"
            | "nav"
            | "aside"
            | "footer"
            | "dialog"
            | "video"
            | "audio"
            | "map"
            | "label"
            | "figcaption"
    )
}

/// Elements that start a new block of text.
pub(crate) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "body"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "ul"
            | "ol"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "caption"
            | "figure"
            | "figcaption"
            | "header"
            | "address"
            | "center"
            | "details"
            | "summary"
            | "fieldset"
            | "form"
            | "hgroup"
            | "menu"
            | "legend"
    )
}

/// An attribute's value by its name, found by comparing names: scraper's own `attr` interns the
/// name (a hash) and searches the list for every lookup, a cost the walk pays on every element.
pub(crate) fn attr<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.attrs().find(|&(n, _)| n == name).map(|(_, value)| value)
}

/// Whether the element is hidden from readers (hidden attribute, aria-hidden, display:none)
/// or has a landmark role that is never the article.
pub(crate) fn is_hidden_or_furniture(el: &Element) -> bool {
    if attr(el, "hidden").is_some() || attr(el, "aria-hidden") == Some("true") {
        return true;
    }
    if let Some(style) = attr(el, "style")
        && (style.contains("none") || style.contains("hidden"))
    {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        if style.contains("display:none") || style.contains("visibility:hidden") {
            return true;
        }
    }
    if let Some(role) = attr(el, "role") {
        return matches!(
            role,
            "navigation"
                | "menu"
                | "menubar"
                | "complementary"
                | "dialog"
                | "alertdialog"
                | "alert"
                | "banner"
                | "contentinfo"
        );
    }
    false
}

/// Class/id words of reader comments: the comment's own "body" or "content" does not make
/// it the article.
static COMMENTS: LazyLock<HintWords> =
    LazyLock::new(|| HintWords::new("comment|disqus|trackback|pingback"));

/// Whether class/id say this element is page furniture (and nothing rescues it). A rescue word
/// only counts in a class or id that is not itself about comments ("commentbody" stays out,
/// "article-body comments-open" stays in).
pub(crate) fn is_unlikely(hints: &str) -> bool {
    if hints.is_empty() || !(UNLIKELY.occur_in(hints) || has_bio_word(hints)) {
        return false;
    }
    if !MAYBE.occur_in(hints) {
        return true;
    }
    COMMENTS.occur_in(hints)
        && !hints
            .split_whitespace()
            .any(|word| !COMMENTS.occur_in(word) && MAYBE.occur_in(word))
}

/// Whether a class/id word is "bio" ("author-bio", "short_bio"): an author's biography box.
/// Checked apart from [`UNLIKELY`], whose words match anywhere ("biography" is no such box).
fn has_bio_word(hints: &str) -> bool {
    hints
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .any(|word| word.eq_ignore_ascii_case("bio"))
}

/// Readability's class weight: +25 per positive hint, -25 per negative hint, class and id
/// judged separately.
pub(crate) fn class_weight(class: Option<&str>, id: Option<&str>) -> i32 {
    let mut weight = 0;
    for hint in [class, id].into_iter().flatten() {
        if hint.is_empty() {
            continue;
        }
        // Readability's negative pattern also takes "hid" as a whole space-separated word
        if NEGATIVE.occur_in(hint) || hint.split(' ').any(|w| w.eq_ignore_ascii_case("hid")) {
            weight -= 25;
        }
        if POSITIVE.occur_in(hint) {
            weight += 25;
        }
    }
    weight
}

/// Whether a short text is stock page furniture ("Share this", "Read more", a cookie notice).
pub(crate) fn is_boilerplate_text(text: &str) -> bool {
    text.chars().count() < 200 && BOILERPLATE.is_match(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn furniture_classes_are_unlikely_unless_rescued() {
        assert!(is_unlikely("cookie-banner"));
        assert!(is_unlikely("post__share"));
        assert!(!is_unlikely("article-body share-tools"));
        assert!(!is_unlikely("post__body"));
        assert!(is_unlikely("commentbody by-reader"));
        assert!(is_unlikely("comment_body"));
        assert!(!is_unlikely("article-body comments-open"));
    }

    #[test]
    fn boxes_about_the_author_or_the_site_are_unlikely() {
        assert!(is_unlikely("about-author"));
        assert!(is_unlikely("widget-about"));
        assert!(is_unlikely("footer-about"));
        assert!(is_unlikely("copyright"));
        assert!(is_unlikely("author-bio"));
        assert!(is_unlikely("col col--10-of-12 bio"));
        assert!(!is_unlikely("biography"));
        assert!(!is_unlikely("symbiotic"));
    }

    #[test]
    fn class_weight_rewards_content_words() {
        assert_eq!(class_weight(Some("entry-content"), None), 25);
        assert_eq!(class_weight(Some("sidebar"), Some("related")), -50);
        // case is ignored, and "hid" counts only as a word of its own
        assert_eq!(class_weight(Some("SideBar"), None), -25);
        assert_eq!(class_weight(Some("box hid"), Some("hid")), -50);
        assert_eq!(class_weight(Some("hide-me"), None), 0);
        assert_eq!(class_weight(Some("Post-Body"), None), 25);
    }

    #[test]
    fn teaser_headings_are_recognised() {
        assert!(is_teaser_heading("More Great WIRED Stories"));
        assert!(is_teaser_heading("Related articles"));
        assert!(is_teaser_heading("You may also like:"));
        assert!(is_teaser_heading("More stories from The Daily Planet"));
        assert!(!is_teaser_heading("More people moved to the city"));
    }

    #[test]
    fn comment_section_openers_are_recognised() {
        assert!(is_comments_heading("12 Comments"));
        assert!(is_comments_heading("3 responses to “Why we moved”"));
        assert!(is_comments_heading("Leave a Reply"));
        assert!(is_comments_heading("Comments (4)"));
        assert!(is_comments_heading("1 Comment"));
        assert!(!is_comments_heading("Comment"));
        assert!(!is_comments_heading("Discussion"));
        assert!(!is_comments_heading(
            "Comments from the minister surprised the markets."
        ));
    }

    #[test]
    fn stock_phrases_are_boilerplate_but_prose_is_not() {
        assert!(is_boilerplate_text("No time to read?"));
        assert!(is_boilerplate_text(
            "We use cookies to improve your experience."
        ));
        assert!(!is_boilerplate_text(
            "He shared the news with reporters on Monday."
        ));
    }
}
