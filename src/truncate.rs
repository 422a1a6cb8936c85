//! Cutting page text to a bound at a word, the one way every stored or sent piece is cut.

/// Cuts `text` to at most `max_chars` characters at a word boundary, ending with "…".
pub fn truncate_at_word(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let budget = max_chars.saturating_sub(1);
    let cut = text
        .char_indices()
        .nth(budget)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..cut];
    // Prefer the last space; a text without spaces (CJK) is cut at the character.
    let head = match head.rfind(char::is_whitespace) {
        Some(i) if i > cut / 2 => &head[..i],
        _ => head,
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || ",;:-–—".contains(c));
    format!("{head}…")
}
