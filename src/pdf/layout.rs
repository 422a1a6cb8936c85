//! From glyph positions to lines in reading order: rows by baseline, fragments split at a
//! column gutter, and two-column regions read left column first, then right.

use super::glyphs::Glyph;

/// One line of text as it sits on the page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    /// Left edge.
    pub x0: f64,
    /// Right edge.
    pub x1: f64,
    /// Baseline (points from the bottom).
    pub y: f64,
    /// The largest font size on the line.
    pub size: f64,
    /// Which column the line was read in: 0 spanning or single, 1 left, 2 right.
    pub column: u8,
    /// The text, spaces restored from gaps.
    pub text: String,
}

/// A gap wider than this many font sizes between glyphs on one baseline is a column gutter.
const GUTTER_SIZES: f64 = 1.5;

/// A gap wider than this many font sizes between glyphs is a space between words.
const SPACE_SIZES: f64 = 0.15;

/// Lines of one page in reading order.
pub(crate) fn lines(mut glyphs: Vec<Glyph>) -> Vec<Line> {
    glyphs.retain(|g| g.size > 0.5 && !g.text.is_empty());
    if glyphs.is_empty() {
        return Vec::new();
    }
    // Rows: baselines within a third of the font size belong together.
    glyphs.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)));
    let mut rows: Vec<Vec<Glyph>> = Vec::new();
    for glyph in glyphs {
        match rows.last_mut() {
            Some(row) if (row[0].y - glyph.y).abs() <= row[0].size.max(glyph.size) * 0.35 => {
                row.push(glyph)
            }
            _ => rows.push(vec![glyph]),
        }
    }
    let mut fragments = Vec::new();
    for mut row in rows {
        row.sort_by(|a, b| a.x.total_cmp(&b.x));
        fragments.extend(split_row(&row));
    }
    order(fragments)
}

/// Splits one row of glyphs at wide gaps and joins each piece into a line.
fn split_row(row: &[Glyph]) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    let mut current: Option<Line> = None;
    let mut end = f64::NEG_INFINITY;
    for glyph in row {
        let gap = glyph.x - end;
        let size = glyph.size;
        match current.as_mut() {
            Some(line) if gap <= GUTTER_SIZES * size.max(line.size) => {
                if gap > SPACE_SIZES * size && !line.text.ends_with(' ') && glyph.text != " " {
                    line.text.push(' ');
                }
                line.text.push_str(&glyph.text);
                line.size = line.size.max(size);
                line.x1 = line.x1.max(glyph.x + glyph.advance);
            }
            _ => {
                if let Some(line) = current.take() {
                    out.push(line);
                }
                current = Some(Line {
                    x0: glyph.x,
                    x1: glyph.x + glyph.advance,
                    y: glyph.y,
                    size,
                    column: 0,
                    text: glyph.text.clone(),
                });
            }
        }
        end = end.max(glyph.x + glyph.advance);
    }
    out.extend(current);
    for line in &mut out {
        line.text = collapse(&line.text);
    }
    out.retain(|l| !l.text.is_empty());
    out
}

/// Collapses runs of whitespace to one space and trims the ends.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Orders the fragments of a page (already top to bottom): where the page has two columns,
/// each stretch between lines that span both is read left column first.
fn order(mut lines: Vec<Line>) -> Vec<Line> {
    let left_edge = lines.iter().map(|l| l.x0).fold(f64::INFINITY, f64::min);
    let right_edge = lines.iter().map(|l| l.x1).fold(f64::NEG_INFINITY, f64::max);
    let mid = (left_edge + right_edge) / 2.0;
    let slack = (right_edge - left_edge) * 0.03;
    for line in &mut lines {
        line.column = if line.x1 <= mid + slack {
            1
        } else if line.x0 >= mid - slack {
            2
        } else {
            0
        };
    }
    let left = lines.iter().filter(|l| l.column == 1).count();
    let right = lines.iter().filter(|l| l.column == 2).count();
    // A few short lines on the right (a page number, a date) do not make a column.
    if left < 3 || right < 3 || right * 5 < lines.len() {
        for line in &mut lines {
            line.column = 0;
        }
        return lines;
    }
    let mut out = Vec::with_capacity(lines.len());
    let mut region_left = Vec::new();
    let mut region_right = Vec::new();
    for line in lines {
        match line.column {
            1 => region_left.push(line),
            2 => region_right.push(line),
            _ => {
                out.append(&mut region_left);
                out.append(&mut region_right);
                out.push(line);
            }
        }
    }
    out.append(&mut region_left);
    out.append(&mut region_right);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Glyphs for `text` at (x, y), each character `size / 2` wide.
    fn word(text: &str, x: f64, y: f64, size: f64) -> Vec<Glyph> {
        text.chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                x: x + i as f64 * size / 2.0,
                y,
                advance: size / 2.0,
                size,
                text: c.to_string(),
            })
            .collect()
    }

    #[test]
    fn two_columns_drawn_alternately_are_read_one_after_the_other() {
        let mut glyphs = Vec::new();
        for i in 0..4 {
            let y = 700.0 - 12.0 * i as f64;
            glyphs.extend(word(
                &format!("left line {i} of the first column"),
                56.0,
                y,
                10.0,
            ));
            glyphs.extend(word(
                &format!("right line {i} of the second one"),
                316.0,
                y,
                10.0,
            ));
        }
        let text: Vec<String> = lines(glyphs).into_iter().map(|l| l.text).collect();
        assert_eq!(text[0], "left line 0 of the first column");
        assert_eq!(text[3], "left line 3 of the first column");
        assert_eq!(text[4], "right line 0 of the second one");
        assert_eq!(text.len(), 8);
    }

    #[test]
    fn gaps_between_glyphs_become_spaces() {
        let mut glyphs = word("two", 72.0, 700.0, 10.0);
        glyphs.extend(word("words", 72.0 + 3.0 * 5.0 + 3.0, 700.0, 10.0));
        let lines = lines(glyphs);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "two words");
    }

    #[test]
    fn a_single_column_keeps_top_to_bottom_order() {
        let mut glyphs = Vec::new();
        for i in 0..5 {
            glyphs.extend(word(
                &format!("line {i} of a page that runs across the whole width of the text area"),
                72.0,
                700.0 - 14.0 * i as f64,
                10.0,
            ));
        }
        glyphs.extend(word("7", 306.0, 40.0, 8.0));
        let text: Vec<String> = lines(glyphs).into_iter().map(|l| l.text).collect();
        assert!(text[0].starts_with("line 0"), "{text:?}");
        assert!(text[4].starts_with("line 4"), "{text:?}");
        assert_eq!(text[5], "7");
    }
}
