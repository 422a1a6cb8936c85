//! Whitespace and word helpers shared by the extractor.

use unicode_segmentation::UnicodeSegmentation;

/// Collapses every run of whitespace (and invisible spacing characters) into one space and
/// trims the ends.
pub(crate) fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.chars() {
        if c.is_whitespace() || is_invisible(c) {
            if c.is_whitespace() {
                pending_space = !out.is_empty();
            }
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// Zero-width characters that pages use for layout and that carry no text.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{ad}'
    )
}

/// Counts the visible characters of `text` (whitespace excluded): the unit of every density.
pub(crate) fn visible_chars(text: &str) -> usize {
    text.chars()
        .filter(|c| !c.is_whitespace() && !is_invisible(*c))
        .count()
}

/// Counts commas in any script (Latin, Arabic, CJK full-width), a hint of prose.
pub(crate) fn commas(text: &str) -> usize {
    text.chars()
        .filter(|c| {
            matches!(
                c,
                ',' | '\u{060c}' | '\u{fe50}' | '\u{fe10}' | '\u{fe11}' | '\u{ff0c}' | '\u{3001}'
            )
        })
        .count()
}

/// Whether `c` is written without spaces between words (Han, kana, Thai…).
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30ff   // hiragana, katakana
        | 0x3400..=0x4dbf // CJK extension A
        | 0x4e00..=0x9fff // CJK unified ideographs
        | 0xf900..=0xfaff // CJK compatibility ideographs
        | 0x0e00..=0x0e7f // Thai
        | 0x20000..=0x2fa1f)
}

/// Counts words for reading time: spaced scripts by word, unspaced scripts (Chinese,
/// Japanese, Thai) at two characters a word.
pub(crate) fn word_count(text: &str) -> usize {
    let mut words = 0;
    let mut unspaced = 0;
    for word in text.unicode_words() {
        let n = word.chars().filter(|c| is_unspaced_script(*c)).count();
        if n == 0 {
            words += 1;
        } else {
            unspaced += n;
        }
    }
    words + unspaced.div_ceil(2)
}

/// Splits plain text into paragraphs: at blank lines when there are any, else at every line.
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let has_blank = lines.iter().any(|l| l.trim().is_empty())
        && lines.iter().filter(|l| !l.trim().is_empty()).count() > 1;
    let mut out = Vec::new();
    if has_blank {
        let mut current = String::new();
        for line in lines {
            if line.trim().is_empty() {
                push_collapsed(&mut out, &current);
                current.clear();
            } else {
                current.push_str(line);
                current.push('\n');
            }
        }
        push_collapsed(&mut out, &current);
    } else {
        for line in lines {
            push_collapsed(&mut out, line);
        }
    }
    out
}

fn push_collapsed(out: &mut Vec<String>, text: &str) {
    let text = collapse(text);
    if !text.is_empty() {
        out.push(text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_joins_whitespace_and_drops_zero_width() {
        assert_eq!(collapse("  a\u{a0}\n\t b\u{200b}c  "), "a bc");
    }

    #[test]
    fn chinese_counts_two_characters_a_word() {
        assert_eq!(word_count("我们今天去公园"), 4);
        assert_eq!(word_count("Hello, brave new world."), 4);
        assert_eq!(word_count("Привет, мир"), 2);
    }

    #[test]
    fn paragraphs_split_at_blank_lines_first() {
        let text = "One line\ncontinues.\n\nSecond paragraph.\n";
        assert_eq!(
            paragraphs(text),
            vec!["One line continues.", "Second paragraph."]
        );
    }

    #[test]
    fn paragraphs_split_at_lines_without_blank_lines() {
        assert_eq!(paragraphs("a\r\nb\nc"), vec!["a", "b", "c"]);
    }

    #[test]
    fn commas_count_full_width_too() {
        assert_eq!(commas("a, b，c、d"), 3);
    }
}
