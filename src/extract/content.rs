//! Main-content scoring: one walk over the parsed page turns it into text segments and block
//! containers, then Readability-style scores pick the article's container and its siblings.

use super::clean;
use super::metadata::RawMeta;
use super::text;
use scraper::node::Element;
use scraper::{ElementRef, Html, Node as DomNode};
use std::collections::HashMap;

const NONE: u32 = u32::MAX;

/// A block-level element of the page, in document (pre-)order.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    parent: u32,
    /// One past the last node of this subtree.
    end: u32,
    /// Segments of this subtree are `first_seg..end_seg`.
    first_seg: u32,
    end_seg: u32,
    tag: Tag,
    weight: i32,
    class_key: u64,
    chars: u32,
    link_chars: u32,
    commas: u32,
    heading_chars: u32,
    list_chars: u32,
    paragraphs: u32,
    list_items: u32,
    /// `th`, `thead` and `caption` inside: marks a data table, which is content.
    table_heads: u32,
    images: u32,
    inputs: u32,
    embeds: u32,
    score: f32,
    candidate: bool,
    in_figure: bool,
    /// Inside an element whose class/id marks page furniture; left out unless nothing else
    /// reads like an article (Readability's second attempt).
    unlikely: bool,
}

/// A run of text inside one block element.
#[derive(Debug, Clone)]
pub(crate) struct Seg {
    owner: u32,
    pub(crate) text: String,
    chars: u32,
    link_chars: u32,
    commas: u32,
    pub(crate) heading: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Div,
    P,
    Pre,
    Td,
    Blockquote,
    List,
    ListItem,
    Heading,
    Form,
    Table,
    Figure,
    Other,
}

impl Tag {
    fn of(name: &str) -> Tag {
        match name {
            "div" | "section" | "article" | "main" | "center" => Tag::Div,
            "p" => Tag::P,
            "pre" => Tag::Pre,
            "td" | "th" => Tag::Td,
            "blockquote" => Tag::Blockquote,
            "ul" | "ol" | "dl" => Tag::List,
            "li" | "dd" | "dt" => Tag::ListItem,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Tag::Heading,
            "form" | "fieldset" => Tag::Form,
            "table" => Tag::Table,
            "figure" | "figcaption" => Tag::Figure,
            _ => Tag::Other,
        }
    }

    /// Readability's starting score of a container by its tag.
    fn initial_score(self) -> f32 {
        match self {
            Tag::Div => 5.0,
            Tag::Pre | Tag::Td | Tag::Blockquote => 3.0,
            Tag::List | Tag::ListItem | Tag::Form => -3.0,
            Tag::Heading => -5.0,
            _ => 0.0,
        }
    }

    /// Tags whose own text is a paragraph (its container gets the score).
    fn is_text_block(self) -> bool {
        matches!(
            self,
            Tag::P
                | Tag::Pre
                | Tag::Td
                | Tag::Blockquote
                | Tag::ListItem
                | Tag::Heading
                | Tag::Figure
        )
    }
}

/// The page as blocks and text segments, plus the metadata met on the way.
pub(crate) struct Walk {
    pub(crate) nodes: Vec<Node>,
    pub(crate) segs: Vec<Seg>,
    pub(crate) meta: RawMeta,
}

/// Open elements during the walk.
struct Frame {
    node: Option<u32>,
    link: bool,
    table: bool,
}

struct Walker {
    nodes: Vec<Node>,
    segs: Vec<Seg>,
    meta: RawMeta,
    frames: Vec<Frame>,
    owners: Vec<u32>,
    buf: String,
    buf_links: usize,
    after_br: bool,
    link_depth: u32,
    table_depth: u32,
    figure_depth: u32,
}

/// Walks the parsed page once, without recursion, so deep pages cannot overflow the stack.
pub(crate) fn walk(doc: &Html) -> Walk {
    let mut w = Walker {
        nodes: Vec::with_capacity(512),
        segs: Vec::with_capacity(512),
        meta: RawMeta::default(),
        frames: Vec::with_capacity(64),
        owners: Vec::with_capacity(64),
        buf: String::new(),
        buf_links: 0,
        after_br: false,
        link_depth: 0,
        table_depth: 0,
        figure_depth: 0,
    };
    let root = doc.tree.root();
    let mut cur = root.first_child();
    while let Some(node) = cur {
        if crate::budget::expired() {
            break; // the link's CPU budget is spent: what was read so far is all
        }
        let descend = match node.value() {
            DomNode::Element(_) => match ElementRef::wrap(node) {
                Some(el) => w.enter(el),
                None => false,
            },
            DomNode::Text(t) => {
                w.text(t);
                false
            }
            _ => false,
        };
        if descend {
            if let Some(child) = node.first_child() {
                cur = Some(child);
                continue;
            }
            w.leave();
        }
        let mut n = node;
        cur = None;
        loop {
            if let Some(sibling) = n.next_sibling() {
                cur = Some(sibling);
                break;
            }
            match n.parent() {
                Some(p) if p.id() != root.id() => {
                    w.leave();
                    n = p;
                }
                _ => break,
            }
        }
    }
    while !w.frames.is_empty() {
        w.leave();
    }
    w.flush();
    Walk {
        nodes: w.nodes,
        segs: w.segs,
        meta: w.meta,
    }
}

/// What an element's class, id and `itemprop` say about it.
struct Hints<'a> {
    class: Option<&'a str>,
    id: Option<&'a str>,
    /// Class/id mark page furniture (and nothing rescues it).
    unlikely: bool,
    /// schema.org's `itemprop=articleBody`: the article body, named outright.
    marked_body: bool,
}

impl<'a> Hints<'a> {
    /// Reads the hints of an element; `in_table` says whether a `<table>` is open around it.
    fn of(e: &'a Element, in_table: bool) -> Hints<'a> {
        let name = e.name();
        let class = clean::attr(e, "class");
        let id = clean::attr(e, "id");
        let mut unlikely = false;
        // a data table's cells keep their classes ("header" cells are content); a layout
        // table's blocks (old blogs put the whole page in one) are judged like any others
        let table_part = matches!(
            name,
            "table" | "tbody" | "thead" | "tfoot" | "tr" | "td" | "th" | "caption"
        );
        if (class.is_some() || id.is_some())
            && name != "body"
            && name != "a"
            && name != "html"
            && !(table_part && in_table || name == "table")
        {
            let hints = format!("{} {}", class.unwrap_or(""), id.unwrap_or(""));
            unlikely = clean::is_unlikely(&hints);
        }
        // schema.org markup names the article body outright
        let marked_body = clean::attr(e, "itemprop").is_some_and(|p| p.contains("articleBody"));
        Hints {
            class,
            id,
            unlikely: unlikely && !marked_body,
            marked_body,
        }
    }

    /// Readability's class weight, plus a bonus for the marked article body.
    fn weight(&self) -> i32 {
        let hinted = if self.class.is_some() || self.id.is_some() {
            clean::class_weight(self.class, self.id)
        } else {
            0
        };
        hinted + if self.marked_body { 25 } else { 0 }
    }
}

impl Node {
    /// A block just opened: no text, scores or counts yet.
    fn new(tag: Tag, parent: u32, idx: u32, first_seg: u32) -> Node {
        Node {
            parent,
            end: idx + 1,
            first_seg,
            end_seg: first_seg,
            tag,
            weight: 0,
            class_key: 0,
            chars: 0,
            link_chars: 0,
            commas: 0,
            heading_chars: 0,
            list_chars: 0,
            paragraphs: 0,
            list_items: 0,
            table_heads: 0,
            images: 0,
            inputs: 0,
            embeds: 0,
            score: 0.0,
            candidate: false,
            in_figure: false,
            unlikely: false,
        }
    }
}

impl Walker {
    fn owner(&self) -> Option<u32> {
        self.owners.last().copied()
    }

    /// Handles an element's start; returns whether to walk into its children.
    fn enter(&mut self, el: ElementRef<'_>) -> bool {
        let e = el.value();
        let name = e.name();
        if self.capture_metadata(el) || self.mark_inline(name) {
            return false;
        }
        if clean::is_never_content(name) {
            self.count_embedded(e);
            return false;
        }
        if clean::is_hidden_or_furniture(e) {
            return false;
        }
        let hints = Hints::of(e, self.table_depth > 0);
        self.capture_byline(el, &hints);
        let is_block = clean::is_block(name);
        if hints.unlikely && !is_block {
            // inline furniture (a share icon, a dateline) never holds the article
            return false;
        }
        let is_link = name == "a";
        let is_table = name == "table";
        let node = is_block.then(|| self.open_block(name, &hints));
        if is_link {
            self.link_depth += 1;
        }
        if is_table {
            self.table_depth += 1;
        }
        self.frames.push(Frame {
            node,
            link: is_link,
            table: is_table,
        });
        true
    }

    /// Records what the page says about itself (`<meta>`, `<title>`, JSON-LD, `<html lang>`,
    /// `<time>`, the first `<h1>`s); returns whether the element is used up by that.
    fn capture_metadata(&mut self, el: ElementRef<'_>) -> bool {
        let e = el.value();
        match e.name() {
            "meta" | "link" | "base" => self.meta.element(e),
            "title" => {
                if self.meta.title.is_none() {
                    self.meta.title = Some(text::collapse(&el.text().collect::<String>()));
                }
            }
            "script" => {
                if clean::attr(e, "type").is_some_and(|t| t.contains("ld+json")) {
                    self.meta.json_ld.push(el.text().collect());
                }
            }
            "html" if self.meta.html_lang.is_none() => {
                self.meta.html_lang = clean::attr(e, "lang")
                    .or(clean::attr(e, "xml:lang"))
                    .map(str::to_string);
                return false;
            }
            "time" => {
                self.meta.time(e);
                return false;
            }
            "h1" if self.meta.h1s.len() < 2 => {
                let h1 = text::collapse(&el.text().collect::<String>());
                self.meta.h1s.push(h1);
                return false;
            }
            _ => return false,
        }
        true
    }

    /// Line breaks, rules and images inside the text; returns whether the element was one.
    fn mark_inline(&mut self, name: &str) -> bool {
        match name {
            "br" => {
                // two line breaks in a row end a paragraph (Readability turns them into <p>)
                if self.after_br {
                    self.flush();
                } else {
                    self.buf.push('\n');
                    self.after_br = true;
                }
            }
            "img" | "picture" => {
                if let Some(o) = self.owner() {
                    self.nodes[o as usize].images += 1;
                }
            }
            "hr" => self.flush(),
            _ => return false,
        }
        true
    }

    /// Counts a form field or an embedded player in the current block (never its text).
    fn count_embedded(&mut self, e: &Element) {
        if let Some(o) = self.owner() {
            let node = &mut self.nodes[o as usize];
            match e.name() {
                "input" if clean::attr(e, "type") != Some("hidden") => node.inputs += 1,
                "iframe" | "object" | "embed" | "video" | "audio" => node.embeds += 1,
                _ => {}
            }
        }
    }

    /// Records the author line when class/id, `rel` or `itemprop` name one.
    fn capture_byline(&mut self, el: ElementRef<'_>, hints: &Hints<'_>) {
        if hints.class.is_some() || hints.id.is_some() {
            self.meta.maybe_byline(el, hints.class, hints.id);
        }
        let e = el.value();
        if !hints.marked_body
            && (clean::attr(e, "rel") == Some("author")
                || clean::attr(e, "itemprop").is_some_and(|p| p.contains("author")))
        {
            self.meta.maybe_byline(el, None, None);
        }
    }

    /// Starts a block: a new node under the current one, which owns the text that follows.
    fn open_block(&mut self, name: &str, hints: &Hints<'_>) -> u32 {
        self.flush();
        let idx = self.nodes.len() as u32;
        let tag = Tag::of(name);
        let parent = self.owner().unwrap_or(NONE);
        let mut node = Node::new(tag, parent, idx, self.segs.len() as u32);
        node.weight = hints.weight();
        node.class_key = hints.class.map_or(0, hash);
        node.in_figure = self.figure_depth > 0;
        node.unlikely = hints.unlikely;
        if parent != NONE {
            let p = &mut self.nodes[parent as usize];
            node.unlikely |= p.unlikely;
            match tag {
                _ if matches!(name, "th" | "thead" | "caption") => p.table_heads += 1,
                Tag::P => p.paragraphs += 1,
                Tag::ListItem => p.list_items += 1,
                _ => {}
            }
        }
        self.nodes.push(node);
        self.owners.push(idx);
        if tag == Tag::Figure {
            self.figure_depth += 1;
        }
        idx
    }

    fn leave(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if frame.link {
            self.link_depth = self.link_depth.saturating_sub(1);
        }
        if frame.table {
            self.table_depth = self.table_depth.saturating_sub(1);
        }
        if let Some(idx) = frame.node {
            self.flush();
            self.owners.pop();
            let end = self.nodes.len() as u32;
            let end_seg = self.segs.len() as u32;
            let node = &mut self.nodes[idx as usize];
            node.end = end;
            node.end_seg = end_seg;
            if node.tag == Tag::Figure {
                self.figure_depth = self.figure_depth.saturating_sub(1);
            }
            let child = node.clone();
            // furniture's text does not dilute (or pad) the containers around it
            if child.parent != NONE
                && (!child.unlikely || self.nodes[child.parent as usize].unlikely)
            {
                let p = &mut self.nodes[child.parent as usize];
                p.chars += child.chars;
                p.link_chars += child.link_chars;
                p.commas += child.commas;
                p.heading_chars += child.heading_chars;
                p.paragraphs += child.paragraphs;
                p.list_items += child.list_items;
                p.table_heads += child.table_heads;
                p.images += child.images;
                p.inputs += child.inputs;
                p.embeds += child.embeds;
                p.list_chars += child.list_chars;
                if child.tag == Tag::ListItem {
                    p.list_chars += child.chars - child.list_chars.min(child.chars);
                }
            }
        }
    }

    fn text(&mut self, t: &str) {
        if self.owners.is_empty() {
            return;
        }
        self.buf.push_str(t);
        let visible = text::visible_chars(t);
        if visible > 0 {
            self.after_br = false;
        }
        if self.link_depth > 0 {
            self.buf_links += visible;
        }
    }

    /// Turns the buffered inline text into a segment of the current block.
    fn flush(&mut self) {
        self.after_br = false;
        if self.buf.is_empty() {
            return;
        }
        let Some(owner) = self.owner() else {
            self.buf.clear();
            self.buf_links = 0;
            return;
        };
        let collapsed = text::collapse(&self.buf);
        self.buf.clear();
        let links = std::mem::take(&mut self.buf_links);
        if collapsed.is_empty() {
            return;
        }
        let chars = text::visible_chars(&collapsed) as u32;
        let commas = text::commas(&collapsed) as u32;
        let node = &mut self.nodes[owner as usize];
        let heading = node.tag == Tag::Heading;
        node.chars += chars;
        node.link_chars += (links as u32).min(chars);
        node.commas += commas;
        if heading {
            node.heading_chars += chars;
        }
        // text straight in a div reads as a paragraph (Readability turns such divs into <p>)
        if chars >= 25 && matches!(node.tag, Tag::Div | Tag::Other | Tag::Blockquote) {
            node.paragraphs += 1;
        }
        self.segs.push(Seg {
            owner,
            text: collapsed,
            chars,
            link_chars: (links as u32).min(chars),
            commas,
            heading,
        });
    }
}

/// FNV-1a of the class attribute: a cheap key to spot siblings styled like the article.
fn hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.trim().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.max(1)
}

fn link_density(chars: u32, link_chars: u32) -> f32 {
    if chars == 0 {
        0.0
    } else {
        link_chars as f32 / chars as f32
    }
}

impl Node {
    fn link_density(&self) -> f32 {
        link_density(self.chars, self.link_chars)
    }
}

/// Picks the article's segments, in order; empty when nothing looks like an article.
pub(crate) fn select(walk: &mut Walk) -> Vec<usize> {
    let (strict, strict_top) = select_with(walk, true);
    let chars: u32 = strict.iter().map(|&i| walk.segs[i].chars).sum();
    if chars >= RETRY_BELOW_CHARS {
        return strict;
    }
    let (relaxed, relaxed_top) = select_with(walk, false);
    let relaxed_chars: u32 = relaxed.iter().map(|&i| walk.segs[i].chars).sum();
    if relaxed_chars > chars && !named_article_stands(walk, &strict, strict_top, relaxed_top) {
        relaxed
    } else {
        strict
    }
}

/// Whether the first attempt's pick stands against a second attempt elsewhere: its container's
/// class/id name it as the article ("post", "entry", "content"…), and the second attempt took
/// none of its text but a container that class/id mark as furniture (the readers' comments, a
/// sidebar). A short article is still the article; the longer text beside it is not.
fn named_article_stands(walk: &Walk, strict: &[usize], strict_top: u32, relaxed_top: u32) -> bool {
    let (Some(s), Some(r)) = (
        walk.nodes.get(strict_top as usize),
        walk.nodes.get(relaxed_top as usize),
    ) else {
        return false;
    };
    let chars: u32 = strict.iter().map(|&i| walk.segs[i].chars).sum();
    s.parent != NONE && s.weight > 0 && chars >= NAMED_ARTICLE_MIN_CHARS && r.unlikely && {
        // the second attempt shares no segment with the first
        let (lo, hi) = (r.first_seg as usize, r.end_seg as usize);
        !strict.iter().any(|i| (lo..hi).contains(i))
    }
}

/// A named container with less text than this is not an article of its own.
const NAMED_ARTICLE_MIN_CHARS: u32 = 40;

/// A comments heading ends the article only after this much of it (a heading "Comments" at
/// the top is something else).
const COMMENTS_AFTER_CHARS: u32 = 150;

/// Below this many characters the furniture-class filter may have hidden the article.
const RETRY_BELOW_CHARS: u32 = 500;

/// One attempt: the article's segments and the container it was found in.
fn select_with(walk: &mut Walk, strict: bool) -> (Vec<usize>, u32) {
    let Walk { nodes, segs, .. } = walk;
    score(nodes, segs, strict);
    // nothing scored (no long paragraph): the whole body, as Readability does
    let Some(top) = top_candidate(nodes).or_else(|| (!nodes.is_empty()).then_some(0)) else {
        return (Vec::new(), NONE);
    };
    let roots = with_siblings(nodes, segs, top, strict);
    let removed = conditionally_removed(nodes, segs, &roots, top, strict);
    let data_table = in_data_tables(nodes);
    let mut out = Vec::new();
    let mut in_teaser_list = false;
    let mut taken_chars = 0;
    'roots: for &root in &roots {
        let r = &nodes[root as usize];
        for i in r.first_seg..r.end_seg {
            let seg = &segs[i as usize];
            // "More stories" followed by a list: the list is teasers, not the article
            let is_item = nodes[seg.owner as usize].tag == Tag::ListItem;
            if clean::is_teaser_heading(&seg.text) {
                in_teaser_list = true;
                continue;
            }
            if in_teaser_list && is_item {
                continue;
            }
            in_teaser_list = false;
            // the readers' comments start here (a line of its own, not a link): the article
            // is above, even when the line's own class/id mark it as furniture
            if taken_chars >= COMMENTS_AFTER_CHARS
                && seg.link_chars == 0
                && clean::is_comments_heading(&seg.text)
            {
                break 'roots;
            }
            if removed[seg.owner as usize] || (strict && nodes[seg.owner as usize].unlikely) {
                continue;
            }
            if seg.link_chars * 4 > seg.chars * 3
                && seg.chars < 200
                && nodes[seg.owner as usize].tag != Tag::ListItem
                && !data_table[seg.owner as usize]
            {
                continue;
            }
            if clean::is_boilerplate_text(&seg.text) {
                continue;
            }
            taken_chars += seg.chars;
            out.push(i as usize);
        }
    }
    drop_repeated_runs(segs, &mut out);
    // a trailing heading introduces something that is not there ("Related articles")
    while out.last().is_some_and(|&i| segs[i].heading) {
        out.pop();
    }
    (out, top)
}

/// For each node, whether it sits in a table with header cells (a data table: its linked
/// cells are entries, not navigation). One pass: a parent comes before its children, so a
/// page nested thousands deep costs no more than a flat one.
fn in_data_tables(nodes: &[Node]) -> Vec<bool> {
    let mut inside = vec![false; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        inside[i] = if n.tag == Tag::Table {
            n.table_heads > 0
        } else {
            n.parent != NONE && inside[n.parent as usize]
        };
    }
    inside
}

/// Drops a run of two or more segments that repeats an earlier run word for word and holds at
/// least a quarter of the text: a page that carries its article twice (a hidden variant for
/// another layout, a print copy) shows it once. Short repeats (a pull quote, the same recipe
/// step in two plans) stay.
fn drop_repeated_runs(segs: &[Seg], out: &mut Vec<usize>) {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(out.len());
    let earlier: Vec<Option<usize>> = out
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let seen = *first.entry(segs[i].text.as_str()).or_insert(k);
            (seen < k).then_some(seen)
        })
        .collect();
    let total: u32 = out.iter().map(|&i| segs[i].chars).sum();
    let mut drop = vec![false; out.len()];
    let mut k = 0;
    while k < out.len() {
        let Some(j) = earlier[k] else {
            k += 1;
            continue;
        };
        // the run goes on while the next segment repeats the next one of the earlier run
        let mut len = 1;
        while k + len < out.len() && earlier[k + len] == Some(j + len) {
            len += 1;
        }
        let chars: u32 = out[k..k + len].iter().map(|&i| segs[i].chars).sum();
        if len >= 2 && chars * REPEAT_SHARE >= total {
            drop[k..k + len].fill(true);
        }
        k += len;
    }
    let mut k = 0;
    out.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
}

/// A repeated run is a second copy of the article when it holds at least 1/this of the text.
const REPEAT_SHARE: u32 = 4;

/// Readability's paragraph scoring: each paragraph's score goes to its container (full),
/// the container's parent (half) and three more ancestors (a third of the level).
fn score(nodes: &mut [Node], segs: &[Seg], strict: bool) {
    for node in nodes.iter_mut() {
        node.candidate = false;
        node.score = 0.0;
    }
    for seg in segs {
        if seg.heading || seg.chars < 25 || (strict && nodes[seg.owner as usize].unlikely) {
            continue;
        }
        let owner = &nodes[seg.owner as usize];
        if owner.tag == Tag::ListItem {
            continue;
        }
        let has_block_children = owner.end > seg.owner + 1;
        let start = if owner.tag.is_text_block() || !has_block_children {
            owner.parent
        } else {
            seg.owner
        };
        let s = 1.0 + seg.commas as f32 + (seg.chars as f32 / 100.0).floor().min(3.0);
        let mut at = start;
        for level in 0..5 {
            if at == NONE {
                break;
            }
            let node = &mut nodes[at as usize];
            if !node.candidate {
                node.candidate = true;
                node.score = node.tag.initial_score() + node.weight as f32;
            }
            let divider = match level {
                0 => 1.0,
                1 => 2.0,
                l => l as f32 * 3.0,
            };
            node.score += s / divider;
            at = node.parent;
        }
    }
    for node in nodes.iter_mut().filter(|n| n.candidate) {
        node.score *= 1.0 - node.link_density();
    }
}

fn top_candidate(nodes: &[Node]) -> Option<u32> {
    let mut best: Option<u32> = None;
    for (i, n) in nodes.iter().enumerate() {
        if n.candidate && best.is_none_or(|b| n.score > nodes[b as usize].score) {
            best = Some(i as u32);
        }
    }
    let mut top = best?;
    // when several near-best candidates share an ancestor, the article is that ancestor
    let top_score = nodes[top as usize].score;
    let mut ranked: Vec<u32> = (0..nodes.len() as u32)
        .filter(|&i| nodes[i as usize].candidate && i != top)
        .collect();
    ranked.sort_by(|a, b| {
        nodes[*b as usize]
            .score
            .total_cmp(&nodes[*a as usize].score)
    });
    let alternatives: Vec<u32> = ranked
        .into_iter()
        .take(4)
        .filter(|&i| top_score > 0.0 && nodes[i as usize].score / top_score >= 0.75)
        .collect();
    if alternatives.len() >= 3 {
        let mut parent = nodes[top as usize].parent;
        while parent != NONE && nodes[parent as usize].parent != NONE {
            let p = &nodes[parent as usize];
            let containing = alternatives
                .iter()
                .filter(|&&a| parent < a && a < p.end)
                .count();
            if containing >= 3 {
                top = parent;
                break;
            }
            parent = p.parent;
        }
    }
    // climb while the parent scores higher: the article is split over several containers
    let mut last = nodes[top as usize].score;
    let threshold = last / 3.0;
    let mut parent = nodes[top as usize].parent;
    while parent != NONE {
        let p = &nodes[parent as usize];
        if p.parent == NONE {
            break;
        }
        if p.candidate {
            if p.score < threshold {
                break;
            }
            if p.score > last {
                top = parent;
                break;
            }
            last = p.score;
        }
        parent = p.parent;
    }
    // an only child adds nothing: its parent holds the same text and its siblings matter
    loop {
        let t = &nodes[top as usize];
        if t.parent == NONE {
            break;
        }
        let p = &nodes[t.parent as usize];
        if p.parent == NONE || p.chars != t.chars {
            break;
        }
        top = t.parent;
    }
    Some(top)
}

/// The top candidate plus its siblings that look like more of the article.
fn with_siblings(nodes: &[Node], segs: &[Seg], top: u32, strict: bool) -> Vec<u32> {
    let t = &nodes[top as usize];
    if t.parent == NONE {
        return vec![top];
    }
    let parent = t.parent;
    let top_score = t.score;
    let threshold = (top_score * 0.2).max(10.0);
    let mut out = Vec::new();
    let mut i = parent + 1;
    let end = nodes[parent as usize].end;
    while i < end {
        let s = &nodes[i as usize];
        if i == top {
            out.push(i);
        } else if !(strict && s.unlikely) {
            let bonus = if s.class_key != 0 && s.class_key == t.class_key {
                top_score * 0.2
            } else {
                0.0
            };
            let append = if s.candidate && s.score + bonus >= threshold {
                true
            } else if s.tag == Tag::P {
                let density = s.link_density();
                let len = s.chars;
                let text_ends_sentence = (s.first_seg..s.end_seg).any(|k| {
                    let t = &segs[k as usize].text;
                    t.contains(". ") || t.ends_with('.')
                });
                (len > 80 && density < 0.25)
                    || (len > 0 && len <= 80 && density == 0.0 && text_ends_sentence)
            } else {
                false
            };
            if append {
                out.push(i);
            }
        }
        i = s.end;
    }
    out
}

/// Readability's conditional cleaning over the chosen subtrees: lists of links, image
/// galleries, forms and short fragments are dropped.
fn conditionally_removed(
    nodes: &[Node],
    segs: &[Seg],
    roots: &[u32],
    top: u32,
    strict: bool,
) -> Vec<bool> {
    let core = densest_block(nodes, segs, roots, strict);
    let prose = prose_span(nodes, segs, core);
    let mut removed = vec![false; nodes.len()];
    for &root in roots {
        let end = nodes[root as usize].end;
        for i in root..end {
            let n = &nodes[i as usize];
            let inherited = i != root && n.parent != NONE && removed[n.parent as usize];
            // the block holding most of the prose, and its ancestors, are the article
            let holds_core = core.is_some_and(|c| i <= c && c < n.end);
            // a list of links with the article's prose before and after it sits inside it
            let amid_prose =
                prose.is_some_and(|(first, last)| first < n.first_seg && n.end_seg <= last);
            removed[i as usize] =
                inherited || (i != top && !holds_core && should_remove(n, amid_prose));
        }
    }
    removed
}

/// The container with the most characters of long paragraphs directly inside it.
fn densest_block(nodes: &[Node], segs: &[Seg], roots: &[u32], strict: bool) -> Option<u32> {
    let mut direct = vec![0u32; nodes.len()];
    for &root in roots {
        let r = &nodes[root as usize];
        for seg in &segs[r.first_seg as usize..r.end_seg as usize] {
            let owner = &nodes[seg.owner as usize];
            if seg.heading
                || seg.chars < 80
                || seg.link_chars * 4 > seg.chars
                || (strict && owner.unlikely)
            {
                continue;
            }
            let container = if owner.tag.is_text_block() && owner.parent != NONE {
                owner.parent
            } else {
                seg.owner
            };
            direct[container as usize] += seg.chars - seg.link_chars;
        }
    }
    let (best, chars) = direct
        .iter()
        .enumerate()
        .max_by_key(|&(i, c)| (*c, std::cmp::Reverse(i)))?;
    (*chars > 0).then_some(best as u32)
}

/// The first and last prose segments (long, few links) of the block that holds most of the
/// prose.
fn prose_span(nodes: &[Node], segs: &[Seg], core: Option<u32>) -> Option<(u32, u32)> {
    let c = &nodes[core? as usize];
    let is_prose = |&k: &u32| {
        let seg = &segs[k as usize];
        !seg.heading && seg.chars >= 80 && seg.link_chars * 4 <= seg.chars
    };
    let first = (c.first_seg..c.end_seg).find(is_prose)?;
    let last = (first..c.end_seg).rev().find(is_prose)?;
    Some((first, last))
}

/// Readability's conditional cleaning test for one container; `amid_prose` says the article's
/// prose comes before and after it, so a list of links there is part of the article.
fn should_remove(n: &Node, amid_prose: bool) -> bool {
    let is_list_tag = n.tag == Tag::List;
    if !matches!(n.tag, Tag::Div | Tag::List | Tag::Table | Tag::Form) {
        return n.tag == Tag::Heading && n.weight < 0;
    }
    if n.tag == Tag::Table && n.table_heads > 0 {
        return false;
    }
    // a high-scoring container survives a negative class hint; a low-scoring one does not
    let score = if n.candidate { n.score.max(0.0) } else { 0.0 };
    if n.weight as f32 + score < 0.0 {
        return true;
    }
    if n.commas >= 10 {
        return false;
    }
    let is_list = is_list_tag || (n.chars > 0 && n.list_chars as f32 / n.chars as f32 > 0.9);
    let p = n.paragraphs as f32;
    let img = n.images as f32;
    let li = n.list_items as f32 - 100.0;
    let heading_density = if n.chars == 0 {
        0.0
    } else {
        n.heading_chars as f32 / n.chars as f32
    };
    let density = n.link_density();
    let len = n.chars;
    (img > 1.0 && p / img < 0.5 && !n.in_figure && len < 200)
        || (!is_list && li > p)
        || (n.inputs as f32 > (p / 3.0).floor())
        || (!is_list
            && heading_density < 0.9
            && len < 25
            && (img == 0.0 || img > 2.0)
            && !n.in_figure)
        || (!is_list && n.weight < 25 && density > 0.2)
        || (n.weight >= 25 && density > 0.5)
        || (is_list && density > 0.8 && !(is_list_tag && amid_prose && n.images == 0))
        || (n.embeds == 1 && len < 75)
        || n.embeds > 1
}
