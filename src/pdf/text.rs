//! From the lines of every page to an article: running headers, footers and page numbers
//! dropped, hyphenation joined, paragraphs and headings found, the title chosen, the abstract
//! kept apart, and references and appendices left out.

use std::collections::HashMap;

use super::layout::Line;
use crate::extract::{Block, BlockKind};

/// The readable text of a PDF, before it becomes an `Article`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Body {
    /// The title found on the first page (the largest line), if any.
    pub title_on_page: Option<String>,
    /// Headings and paragraphs in reading order, without references and appendices.
    pub blocks: Vec<Block>,
    /// The abstract's text, when the document has one (its paragraphs are also in `blocks`).
    pub abstract_text: Option<String>,
}

/// A line on a page: which page, and the line.
struct Placed {
    page: usize,
    line: Line,
}

/// How many lines at the top and at the bottom of a page can be a running header or footer.
const MARGIN_LINES: usize = 3;

/// Builds the body from each page's lines in reading order.
pub(crate) fn body(pages: Vec<Vec<Line>>, info_title: Option<&str>) -> Body {
    let pages = drop_running_lines(pages);
    let mut placed: Vec<Placed> = pages
        .into_iter()
        .enumerate()
        .flat_map(|(page, lines)| lines.into_iter().map(move |line| Placed { page, line }))
        .collect();
    if placed.is_empty() {
        return Body::default();
    }
    let body_size = body_font_size(&placed);
    let title_on_page = take_title(&mut placed, body_size);
    let leading = typical_leading(&placed, body_size);

    let mut blocks: Vec<Block> = Vec::new();
    let mut prev: Option<&Placed> = None;
    for item in &placed {
        let heading = is_heading(&item.line, body_size);
        let new_block = match prev {
            None => true,
            Some(p) => {
                heading || is_heading(&p.line, body_size) || starts_paragraph(p, item, leading)
            }
        };
        let kind = if heading {
            BlockKind::Heading
        } else {
            BlockKind::Paragraph
        };
        match blocks.last_mut() {
            Some(block) if !new_block => join_line(&mut block.text, &item.line.text),
            _ => blocks.push(Block {
                kind,
                text: item.line.text.clone(),
            }),
        }
        prev = Some(item);
    }
    let (blocks, abstract_text) = sections(blocks, info_title.or(title_on_page.as_deref()));
    Body {
        title_on_page,
        blocks,
        abstract_text,
    }
}

/// Removes lines that repeat at the top or bottom of most pages (digits ignored, so "Page 3"
/// and "Page 4" repeat), and lines that are only a page number.
fn drop_running_lines(mut pages: Vec<Vec<Line>>) -> Vec<Vec<Line>> {
    let with_text = pages.iter().filter(|p| !p.is_empty()).count();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for page in &pages {
        let mut keys: Vec<String> = margin_lines(page).map(|l| shape(&l.text)).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            *seen.entry(key).or_default() += 1;
        }
    }
    let threshold = (with_text * 3).div_ceil(5).max(2);
    for page in &mut pages {
        let margins: Vec<(f64, f64)> = margin_lines(page).map(|l| (l.x0, l.y)).collect();
        page.retain(|line| {
            let in_margin = margins.contains(&(line.x0, line.y));
            let repeated = seen.get(&shape(&line.text)).copied().unwrap_or(0) >= threshold;
            !(in_margin && (repeated || is_page_number(&line.text)))
        });
    }
    pages
}

/// The lines at the top and bottom of a page, by height.
fn margin_lines(page: &[Line]) -> impl Iterator<Item = &Line> {
    let mut ys: Vec<f64> = page.iter().map(|l| l.y).collect();
    ys.sort_by(f64::total_cmp);
    ys.dedup();
    let low = ys
        .get(MARGIN_LINES.min(ys.len()).saturating_sub(1))
        .copied();
    let high = ys.iter().rev().nth(MARGIN_LINES - 1).copied();
    page.iter().filter(move |l| {
        low.is_some_and(|low| l.y <= low) || high.is_some_and(|high| l.y >= high) || ys.len() <= 2
    })
}

/// A line's text with digits masked and case folded, so numbered headers compare equal.
fn shape(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect::<String>()
        .to_lowercase()
}

/// "7", "- 7 -", "Page 7", "7 of 12", "vii".
fn is_page_number(text: &str) -> bool {
    let t = text.trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
    let lower = t.to_lowercase();
    let t = lower.strip_prefix("page").map(str::trim).unwrap_or(&lower);
    let numeric = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if numeric(t) {
        return true;
    }
    if let Some((a, b)) = t.split_once(" of ") {
        return numeric(a.trim()) && numeric(b.trim());
    }
    !t.is_empty() && t.len() <= 5 && t.chars().all(|c| "ivxlc".contains(c))
}

/// The font size of most of the text, weighted by characters.
fn body_font_size(placed: &[Placed]) -> f64 {
    let mut by_size: HashMap<i64, usize> = HashMap::new();
    for p in placed {
        *by_size
            .entry((p.line.size * 2.0).round() as i64)
            .or_default() += p.line.text.len();
    }
    by_size
        .into_iter()
        .max_by_key(|&(size, chars)| (chars, -size))
        .map(|(size, _)| size as f64 / 2.0)
        .unwrap_or(10.0)
}

/// Takes the title from the first page: its largest line (and the lines of that size right
/// under it), when it is clearly larger than the body text.
fn take_title(placed: &mut Vec<Placed>, body_size: f64) -> Option<String> {
    let first_page: Vec<usize> = (0..placed.len()).filter(|&i| placed[i].page == 0).collect();
    let largest = first_page
        .iter()
        .map(|&i| placed[i].line.size)
        .fold(0.0_f64, f64::max);
    if largest < body_size * 1.3 {
        return None;
    }
    let start = *first_page
        .iter()
        .find(|&&i| (placed[i].line.size - largest).abs() < 0.5)?;
    let mut end = start;
    while end + 1 < placed.len()
        && placed[end + 1].page == 0
        && (placed[end + 1].line.size - largest).abs() < 0.5
        && end - start < 3
    {
        end += 1;
    }
    let mut title = String::new();
    for p in placed.drain(start..=end) {
        join_line(&mut title, &p.line.text);
    }
    Some(title).filter(|t| !t.is_empty())
}

/// The usual distance between baselines of body lines.
fn typical_leading(placed: &[Placed], body_size: f64) -> f64 {
    let mut gaps: Vec<f64> = placed
        .windows(2)
        .filter(|w| w[0].page == w[1].page && w[0].line.column == w[1].line.column)
        .map(|w| w[0].line.y - w[1].line.y)
        .filter(|&gap| gap > body_size * 0.8 && gap < body_size * 3.0)
        .collect();
    gaps.sort_by(f64::total_cmp);
    gaps.get(gaps.len() / 2).copied().unwrap_or(body_size * 1.2)
}

/// A short line set clearly larger than the body text.
fn is_heading(line: &Line, body_size: f64) -> bool {
    line.size >= body_size * 1.1 && line.text.chars().count() <= 120
}

/// Whether `next` begins a new paragraph after `prev`: a wider gap than the usual leading, a
/// first-line indent, or a move to another column or page after a finished sentence.
fn starts_paragraph(prev: &Placed, next: &Placed, leading: f64) -> bool {
    let same_column = prev.page == next.page && prev.line.column == next.line.column;
    let gap = prev.line.y - next.line.y;
    if same_column && gap > 0.0 {
        let indented = next.line.x0 > prev.line.x0 + next.line.size
            && next.line.x0 < prev.line.x0 + next.line.size * 4.0;
        return gap > leading * 1.35 || indented;
    }
    prev.line.text.ends_with(['.', '?', '!', ':'])
}

/// Appends a line to a paragraph, joining a word hyphenated at the line end.
fn join_line(text: &mut String, line: &str) {
    if text.is_empty() {
        text.push_str(line);
        return;
    }
    let mut chars = text.chars().rev();
    let broken_word = chars.next() == Some('-') && chars.next().is_some_and(char::is_alphabetic);
    let next = line.chars().next();
    if broken_word && next.is_some_and(char::is_lowercase) {
        // "measure-" + "ments": a word split by the typesetter.
        text.pop();
    } else if !(broken_word && next.is_some_and(char::is_uppercase)) {
        // "North-" + "East" keeps its hyphen; anything else is a new word.
        text.push(' ');
    }
    text.push_str(line);
}

/// Which section a heading opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Abstract,
    Back,
    Other,
}

/// Names the section a heading opens: the abstract, back matter (references, appendices,
/// acknowledgements), or another one.
fn section_of(heading: &str) -> Section {
    let lower = heading.to_lowercase();
    let name = lower
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c.is_whitespace())
        .trim_end_matches([':', '.']);
    match name {
        "abstract" | "summary" => Section::Abstract,
        "references" | "bibliography" | "works cited" | "literature cited" | "literature"
        | "acknowledgements" | "acknowledgments" | "acknowledgement" | "acknowledgment" => {
            Section::Back
        }
        _ if name.starts_with("appendix") || name.starts_with("appendices") => Section::Back,
        _ => Section::Other,
    }
}

/// Keeps the front matter out (lines between the title and the abstract: authors and
/// affiliations), cuts everything from the references or the first appendix on, and finds the
/// abstract: the paragraphs under an "Abstract" heading, or a paragraph opening "Abstract".
fn sections(blocks: Vec<Block>, title: Option<&str>) -> (Vec<Block>, Option<String>) {
    let mut out: Vec<Block> = Vec::new();
    let mut abstract_text: Option<String> = None;
    let mut in_abstract = false;
    for block in blocks {
        if block.kind == BlockKind::Heading {
            match section_of(&block.text) {
                Section::Back => break,
                Section::Abstract if abstract_text.is_none() => {
                    // What came before the abstract is the author block, not the article.
                    out.clear();
                    in_abstract = true;
                    abstract_text = Some(String::new());
                    out.push(block);
                    continue;
                }
                _ => in_abstract = false,
            }
            if title.is_some_and(|t| same_words(t, &block.text)) {
                continue;
            }
            out.push(block);
            continue;
        }
        if abstract_text.is_none()
            && let Some(rest) = inline_abstract(&block.text)
        {
            out.clear();
            abstract_text = Some(rest.to_owned());
            out.push(Block {
                kind: BlockKind::Heading,
                text: "Abstract".into(),
            });
            out.push(Block {
                kind: BlockKind::Paragraph,
                text: rest.to_owned(),
            });
            continue;
        }
        if in_abstract && let Some(text) = abstract_text.as_mut() {
            join_paragraph(text, &block.text);
        }
        out.push(block);
    }
    let abstract_text = abstract_text.filter(|t| !t.is_empty());
    (out, abstract_text)
}

/// The text after "Abstract" when a paragraph opens with it ("Abstract—We…", "Abstract. We…").
fn inline_abstract(text: &str) -> Option<&str> {
    let head = text.get(..8)?;
    if !head.eq_ignore_ascii_case("abstract") {
        return None;
    }
    let rest = text[8..].trim_start_matches(['.', ':', '—', '–', '-', ' ']);
    (rest.len() > 40 && rest.len() < text.len() - 8).then_some(rest)
}

fn join_paragraph(text: &mut String, more: &str) {
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(more);
}

/// Whether two lines say the same words (the title repeated as a heading).
fn same_words(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    !b.is_empty() && b.iter().all(|w| a.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, y: f64, size: f64) -> Line {
        Line {
            x0: 72.0,
            x1: 72.0 + text.len() as f64 * size / 2.0,
            y,
            size,
            column: 0,
            text: text.into(),
        }
    }

    /// Pages with a running header, the given body lines and a page number.
    fn pages(bodies: &[&[&str]]) -> Vec<Vec<Line>> {
        bodies
            .iter()
            .enumerate()
            .map(|(n, body)| {
                let mut lines = vec![line("The Annual Report of Nobody", 760.0, 8.0)];
                for (i, text) in body.iter().enumerate() {
                    lines.push(line(text, 700.0 - 12.0 * i as f64, 10.0));
                }
                lines.push(line(&format!("{}", n + 1), 40.0, 8.0));
                lines
            })
            .collect()
    }

    fn paragraphs(body: &Body) -> Vec<&str> {
        body.blocks.iter().map(|b| b.text.as_str()).collect()
    }

    #[test]
    fn running_headers_and_page_numbers_are_dropped() {
        let body = body(
            pages(&[
                &["First page text that ends here."],
                &["Second page text that ends here."],
                &["Third page text that ends here."],
            ]),
            None,
        );
        assert_eq!(
            paragraphs(&body),
            [
                "First page text that ends here.",
                "Second page text that ends here.",
                "Third page text that ends here."
            ]
        );
    }

    #[test]
    fn hyphenated_words_are_joined_and_compounds_kept() {
        let body = body(
            pages(&[&[
                "The measure-",
                "ments were taken by skilled",
                "staff in the North-",
                "East region.",
            ]]),
            None,
        );
        assert_eq!(
            paragraphs(&body)[1..],
            ["The measurements were taken by skilled staff in the North-East region."]
        );
    }

    #[test]
    fn references_and_appendices_are_left_out() {
        let mut page = pages(&[
            &["Body text of the paper, a sentence."],
            &["More body text."],
        ]);
        page[1].push(line("References", 600.0, 12.0));
        page[1].push(line("[1] Someone. A book. 2020.", 588.0, 10.0));
        let body = body(page, None);
        assert_eq!(
            paragraphs(&body),
            ["Body text of the paper, a sentence.", "More body text."]
        );
        assert_eq!(section_of("Appendix B: More tables"), Section::Back);
        assert_eq!(section_of("7. References"), Section::Back);
        assert_eq!(section_of("Bibliography"), Section::Back);
        assert_eq!(section_of("2 Methods"), Section::Other);
    }

    #[test]
    fn the_abstract_is_found_under_its_heading_or_inline() {
        let mut page = pages(&[&[]]);
        page[0].push(line("A Large Title", 730.0, 18.0));
        page[0].push(line("Some Author, Some Place", 715.0, 10.0));
        page[0].push(line("Abstract", 690.0, 12.0));
        page[0].push(line("We show a thing that matters.", 676.0, 10.0));
        page[0].push(line("1 Introduction", 640.0, 12.0));
        page[0].push(line("The thing is known to matter.", 626.0, 10.0));
        let found = body(page, None);
        assert_eq!(found.title_on_page.as_deref(), Some("A Large Title"));
        assert_eq!(
            found.abstract_text.as_deref(),
            Some("We show a thing that matters.")
        );
        assert_eq!(
            paragraphs(&found),
            [
                "Abstract",
                "We show a thing that matters.",
                "1 Introduction",
                "The thing is known to matter."
            ]
        );
        assert_eq!(
            inline_abstract("Abstract—We study how rivers carry silt to the sea in winter."),
            Some("We study how rivers carry silt to the sea in winter.")
        );
        assert_eq!(inline_abstract("Abstracts are short."), None);
    }

    #[test]
    fn page_numbers_in_their_usual_spellings() {
        for text in ["7", "- 7 -", "Page 7", "page 7 of 12", "vii"] {
            assert!(is_page_number(text), "{text}");
        }
        for text in ["7 ways to swim", "Vivid", "Page seven"] {
            assert!(!is_page_number(text), "{text}");
        }
    }
}
