//! Sentence splitting that survives abbreviations, numbers, quotes and other scripts.

use super::tokens;

/// Splits `text` into sentences; `lang` (ISO 639-1) picks the abbreviation rules and the list
/// of words that start sentences. Line breaks always end a sentence.
pub fn split_sentences(text: &str, lang: Option<&str>) -> Vec<String> {
    sentence_spans(text, lang)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Like [`split_sentences`], but borrows the sentences from `text`.
pub(crate) fn sentence_spans<'a>(text: &'a str, lang: Option<&str>) -> Vec<&'a str> {
    let rules = Rules::new(lang);
    let mut out = Vec::new();
    for line in text.split('\n') {
        split_line(line, &rules, &mut out);
    }
    out
}

/// Language-dependent pieces of the splitter.
struct Rules<'l> {
    lang: &'l str,
}

impl<'l> Rules<'l> {
    fn new(lang: Option<&'l str>) -> Self {
        Self {
            lang: lang.unwrap_or("en"),
        }
    }

    /// Whether `word` (lowercase) commonly starts a sentence, so an ambiguous period before it
    /// is a sentence end ("... in the U.S. The next day").
    fn starts_sentence(&self, word: &str) -> bool {
        tokens::is_stop_word(self.lang, word)
    }
}

/// Closing quotes and brackets that stay with the sentence they end.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '”' | '’' | '»' | '›' | ')' | ']' | '」' | '』' | '）' | '】' | '〉' | '》'
    )
}

/// Terminators of scripts that put no space after them (CJK full stops and marks).
fn is_cjk_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '｡')
}

/// Terminators followed by a space in the scripts that use them.
fn is_terminator(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '…' | '‼' | '⁇' | '⁈' | '⁉' | '؟' | '।' | '॥' | '۔' | '\u{037E}'
    )
}

/// Whether `c` belongs to the Greek script, where ";" is the question mark.
fn is_greek(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}')
}

/// Abbreviations that precede a name or number and so never end a sentence.
const TITLES: &[&str] = &[
    // English
    "mr", "mrs", "ms", "dr", "prof", "st", "sgt", "capt", "col", "gen", "lt", "cmdr", "adm", "gov",
    "sen", "rep", "rev", "hon", "pres", "messrs", "mme", "mlle", "mt", "ft", "vs", "cf", "approx",
    "fig", "figs", "vol", "vols", "pp", "ed", "eds", // German
    "nr", "hr", "fr", "bzw", "vgl", "ca", "bspw", "ggf", "inkl", "evtl", "sog", "str", "usw", "zb",
    "dh", "ua", "abs", "art", // Spanish, French, Italian, Portuguese
    "sr", "sra", "srta", "dra", "ud", "uds", "pág", "núm", "ee", "uu", "av", "pr", "ex", "sig",
    "sto", "sta", "dott", "ing", "avv", "sig.ra", // Russian and other Cyrillic
    "т", "ул", "им", "см", "стр", "тыс", "млн", "млрд", "руб", "коп", "проф", "акад", "ген", "св",
    "кв", "пр", "обл", "рис", "табл", "напр", "др", "ок", "прим",
];

/// Abbreviations that precede a number ("No. 5", "Jan. 12") and otherwise behave like words.
const BEFORE_NUMBERS: &[&str] = &[
    "no", "nos", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec", "p", "art", "s", "n",
];

/// Abbreviations that often end a sentence too ("Apple Inc. The company"): a period after
/// them ends the sentence only when a common sentence opener follows.
const AMBIGUOUS: &[&str] = &[
    "etc", "inc", "ltd", "co", "corp", "jr", "plc", "llc", "bros", "г", "гг", "в", "вв", "н",
    "mio", "mrd", "jh", "a.m", "p.m",
];

/// Splits one line into sentences, pushing trimmed, non-empty pieces to `out`.
fn split_line<'a>(line: &'a str, rules: &Rules<'_>, out: &mut Vec<&'a str>) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let mut start = 0usize;
    let mut quote_depth = 0usize;
    let mut i = 0usize;
    while i < chars.len() {
        let (_, c) = chars[i];
        match c {
            '「' | '『' | '“' => quote_depth += 1,
            '」' | '』' | '”' => quote_depth = quote_depth.saturating_sub(1),
            _ => {}
        }
        let cjk = is_cjk_terminator(c);
        let greek_question = c == ';' && i > 0 && is_greek(chars[i - 1].1);
        if !(cjk || greek_question || is_terminator(c)) {
            i += 1;
            continue;
        }
        // The run of terminators and closing quotes that ends here ("?!", "...", ".\"").
        let term_start = i;
        let mut j = i + 1;
        while j < chars.len() && (is_terminator(chars[j].1) || is_cjk_terminator(chars[j].1)) {
            j += 1;
        }
        let inside_quote = quote_depth > 0;
        let mut closed_quote = false;
        loop {
            match chars.get(j).map(|&(_, c)| c) {
                Some(c) if is_closer(c) => {
                    if matches!(c, '」' | '』' | '”') {
                        quote_depth = quote_depth.saturating_sub(1);
                    }
                    closed_quote = true;
                    j += 1;
                }
                // French sets "»" off with a (no-break) space: « C'est fini. »
                Some(c)
                    if c.is_whitespace() && chars.get(j + 1).is_some_and(|&(_, n)| n == '»') =>
                {
                    closed_quote = true;
                    j += 2;
                }
                _ => break,
            }
        }
        let run_end = chars.get(j).map_or(line.len(), |&(b, _)| b);
        let ends = if !cjk && in_parentheses(&line[start..run_end], &line[run_end..]) {
            false
        } else if cjk {
            // A full stop inside 「…」 or “…” belongs to the quoted speech, and Japanese
            // goes on after the closing bracket with a particle (「…。」と言った).
            !inside_quote
                || (closed_quote
                    && !chars
                        .get(j)
                        .is_some_and(|&(_, n)| matches!(n, '\u{3040}'..='\u{309F}')))
        } else {
            ends_sentence(&chars, line, term_start, j, rules)
        };
        if ends {
            let end = chars.get(j).map_or(line.len(), |&(b, _)| b);
            push_trimmed(&line[start..end], out);
            start = end;
            quote_depth = 0;
        }
        i = j;
    }
    push_trimmed(&line[start..], out);
}

/// Whether a period falls inside a parenthesis that closes soon after ("(gegr. 1990)");
/// an unclosed "(" far from any ")" does not stop splitting.
fn in_parentheses(before: &str, after: &str) -> bool {
    // Only the last few hundred bytes count: a text that never ends a sentence must not make
    // every period rescan everything before it.
    let from = before.len().saturating_sub(200);
    let from = (from..before.len())
        .find(|&i| before.is_char_boundary(i))
        .unwrap_or(before.len());
    let before = &before[from..];
    let open = before.matches('(').count();
    let close = before.matches(')').count();
    open > close && after.chars().take(80).any(|c| c == ')')
}

/// Decides whether the terminator run `chars[term_start..run_end]` ends a sentence.
fn ends_sentence(
    chars: &[(usize, char)],
    line: &str,
    term_start: usize,
    run_end: usize,
    rules: &Rules<'_>,
) -> bool {
    let Some(&(_, after)) = chars.get(run_end) else {
        return true;
    };
    // "3.5%", "1,000.50", "e.g." and URLs have no space after the period; a lost space
    // between two sentences ("in 2011.Mr Smith said") still ends one.
    if !after.is_whitespace() {
        return glued_sentence_end(chars, line, term_start, run_end, rules);
    }
    let next_word = next_word(chars, line, run_end);
    let Some(first) = next_word.chars().next() else {
        return true;
    };
    if first.is_lowercase() {
        return false;
    }
    let single_period = chars[term_start].1 == '.'
        && chars
            .get(term_start + 1)
            .is_none_or(|&(_, c)| !is_terminator(c));
    if !single_period {
        return true;
    }
    let word = word_before(chars, line, term_start).to_lowercase();
    let next_lower = next_word.to_lowercase();
    let next_is_number = first.is_ascii_digit();
    let opener = rules.starts_sentence(&next_lower);
    if word.is_empty() {
        return true;
    }
    if TITLES.contains(&word.as_str()) {
        return false;
    }
    if BEFORE_NUMBERS.contains(&word.as_str()) && next_is_number {
        return false;
    }
    if AMBIGUOUS.contains(&word.as_str()) {
        return opener;
    }
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    // Initials ("J. K. Rowling", "А. С. Пушкин") and single-letter abbreviations.
    if letters == 1 && word.chars().count() == 1 {
        return false;
    }
    // Dotted abbreviations ("U.S.", "e.g.", "т.е."): a sentence end only before an opener.
    if word.contains('.') && word.split('.').all(|p| p.chars().count() <= 3) {
        return opener;
    }
    // German ordinals ("am 3. Oktober") are numbers with a period before a noun.
    if rules.lang == "de" && !word.is_empty() && word.chars().all(|c| c.is_ascii_digit()) {
        return opener;
    }
    true
}

/// Longest word looked at on either side of a glued terminator: a longer run without a space
/// is not prose, and the bound keeps a page without spaces linear.
const GLUED_WORD_MAX: usize = 48;

/// Whether a terminator with no space after it still ends a sentence, because a lost space
/// glued two sentences together ("in 2011.Mr Smith", "said.The", "world!\"Michael"): a
/// lowercase word or a number before it, a plain capitalised word after it, and no
/// abbreviation ("St.Louis"), initial ("J.K"), name ("React.Component", "Yahoo!Finance"),
/// dotted name ("ASP.NET", "e.g.The"), address ("john.Smith@example.com") or German ordinal
/// ("20.Oktober") involved.
fn glued_sentence_end(
    chars: &[(usize, char)],
    line: &str,
    term_start: usize,
    run_end: usize,
    rules: &Rules<'_>,
) -> bool {
    let capitalised_word = chars.get(run_end).is_some_and(|&(_, c)| c.is_uppercase())
        && chars
            .get(run_end + 1)
            .is_some_and(|&(_, c)| c.is_lowercase());
    if !capitalised_word || term_start == 0 {
        return false;
    }
    let before = chars[term_start - 1].1;
    if !(before.is_lowercase() || before.is_ascii_digit()) {
        return false;
    }
    let Some(word) = glued_word_before(chars, line, term_start) else {
        return false;
    };
    if word.chars().next().is_some_and(char::is_uppercase)
        || (rules.lang == "de" && word.chars().all(|c| c.is_ascii_digit()))
        || !plain_word_after(chars, run_end)
    {
        return false;
    }
    let word = word.to_lowercase();
    word.chars().count() >= 2
        && !TITLES.contains(&word.as_str())
        && !BEFORE_NUMBERS.contains(&word.as_str())
        && !AMBIGUOUS.contains(&word.as_str())
}

/// The word right before a glued terminator at `chars[end]`, looked for at most
/// [`GLUED_WORD_MAX`] characters back; `None` when it is longer or holds another terminator
/// (a dotted name, "e.g").
fn glued_word_before<'a>(chars: &[(usize, char)], line: &'a str, end: usize) -> Option<&'a str> {
    let mut k = end;
    while k > 0 {
        let c = chars[k - 1].1;
        if starts_word_after(c) {
            break;
        }
        if matches!(c, '.' | '!' | '?') || end - k >= GLUED_WORD_MAX {
            return None;
        }
        k -= 1;
    }
    Some(&line[chars[k].0..chars[end].0])
}

/// Whether the text glued after a terminator, up to the next space, reads as a word of prose:
/// no address or path characters, no inner period, no capital inside it ("WriteLine").
fn plain_word_after(chars: &[(usize, char)], from: usize) -> bool {
    let mut previous = ' ';
    for (i, &(_, c)) in chars.iter().enumerate().skip(from) {
        if c.is_whitespace() {
            return true;
        }
        let next_alphanumeric = chars.get(i + 1).is_some_and(|&(_, n)| n.is_alphanumeric());
        if matches!(c, '@' | '/' | '_' | '\\')
            || (c == '.' && next_alphanumeric)
            || (previous.is_lowercase() && c.is_uppercase())
            || i - from >= GLUED_WORD_MAX
        {
            return false;
        }
        previous = c;
    }
    true
}

/// The word that ends right before `chars[end]`, without leading quotes or brackets; inner
/// periods stay ("U.S" in "U.S.").
fn word_before<'a>(chars: &[(usize, char)], line: &'a str, end: usize) -> &'a str {
    let mut k = end;
    while k > 0 {
        if starts_word_after(chars[k - 1].1) {
            break;
        }
        k -= 1;
    }
    &line[chars.get(k).map_or(line.len(), |&(b, _)| b)..chars[end].0]
}

/// Whether a word starts right after `c`: a space, an opening bracket or quote.
fn starts_word_after(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | '[' | '"' | '“' | '‘' | '«' | '\'' | '¿' | '¡')
}

/// The next word after whitespace and opening quotes, starting at `chars[from]`.
fn next_word<'a>(chars: &[(usize, char)], line: &'a str, from: usize) -> &'a str {
    let mut k = from;
    while k < chars.len() && !chars[k].1.is_alphanumeric() {
        k += 1;
    }
    let start = chars.get(k).map_or(line.len(), |&(b, _)| b);
    while k < chars.len() && chars[k].1.is_alphanumeric() {
        k += 1;
    }
    let end = chars.get(k).map_or(line.len(), |&(b, _)| b);
    &line[start..end]
}

/// Pushes `piece` without surrounding whitespace, unless nothing is left.
fn push_trimmed<'a>(piece: &'a str, out: &mut Vec<&'a str>) {
    let piece = piece.trim();
    if !piece.is_empty() {
        out.push(piece);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_long_text_of_unending_sentences_splits_in_linear_time() {
        // Each lowercase continuation keeps the sentence open; the parenthesis check used to
        // rescan the whole prefix at every period (minutes for 1.2 MB; now milliseconds).
        let text = "word. ".repeat(200_000);
        let sentences = super::split_sentences(&text, Some("en"));
        assert_eq!(sentences.len(), 1);
        assert_eq!(sentences[0].len(), text.trim_end().len());
    }

    use super::*;

    fn split(text: &str, lang: &str) -> Vec<String> {
        split_sentences(text, Some(lang))
    }

    #[test]
    fn english_abbreviations_and_initials_do_not_split() {
        let text = "Dr. Smith met Mr. Jones in the U.S. capital at 10 a.m. on Friday. \
                    J. K. Rowling was there, e.g. with her agent, i.e. his friend. \
                    They met in room No. 5 of the hotel. He lives in St. Louis. She moved on \
                    Jan. 5 to Washington. Apple Inc., the company, agreed. (It was close.) Fine.";
        assert_eq!(
            split(text, "en"),
            [
                "Dr. Smith met Mr. Jones in the U.S. capital at 10 a.m. on Friday.",
                "J. K. Rowling was there, e.g. with her agent, i.e. his friend.",
                "They met in room No. 5 of the hotel.",
                "He lives in St. Louis.",
                "She moved on Jan. 5 to Washington.",
                "Apple Inc., the company, agreed.",
                "(It was close.)",
                "Fine.",
            ]
        );
    }

    #[test]
    fn english_abbreviation_at_sentence_end_splits_before_an_opener() {
        let text = "He moved to the U.S. The move was quick. It rained at 9 p.m. Nobody cared.";
        assert_eq!(
            split(text, "en"),
            [
                "He moved to the U.S.",
                "The move was quick.",
                "It rained at 9 p.m.",
                "Nobody cared."
            ]
        );
    }

    #[test]
    fn numbers_quotes_and_ellipses() {
        let text = "Prices rose 3.5% to $1,000.50 last year. \"We are happy,\" he said. \
                    \"It works.\" She smiled... Then she left. \"Why?\" he asked. Wait… What?";
        assert_eq!(
            split(text, "en"),
            [
                "Prices rose 3.5% to $1,000.50 last year.",
                "\"We are happy,\" he said.",
                "\"It works.\"",
                "She smiled...",
                "Then she left.",
                "\"Why?\" he asked.",
                "Wait…",
                "What?",
            ]
        );
    }

    #[test]
    fn a_lost_space_between_sentences_still_splits_them() {
        let text = "Google paid taxes until 2011.Mr Schmidt said it was legal. He spent \
                    £1,027,339.The figures cover May. She wrote: \"What a world!\"Michael agreed. \
                    It runs on ASP.NET and Node.js in St.Louis, e.g.The end.";
        assert_eq!(
            split(text, "en"),
            [
                "Google paid taxes until 2011.",
                "Mr Schmidt said it was legal.",
                "He spent £1,027,339.",
                "The figures cover May.",
                "She wrote: \"What a world!\"",
                "Michael agreed.",
                "It runs on ASP.NET and Node.js in St.Louis, e.g.The end.",
            ]
        );
        assert_eq!(
            split("Он уехал домой.Там было холодно.", "ru"),
            ["Он уехал домой.", "Там было холодно."]
        );
    }

    #[test]
    fn names_addresses_and_ordinals_glued_to_a_period_stay_whole() {
        for (text, lang) in [
            ("Extend React.Component to make a class.", "en"),
            ("Call Console.WriteLine first, then Math.Round it.", "en"),
            ("Write to john.Smith@example.com today.", "en"),
            ("He works at Yahoo!Finance now.", "en"),
            ("Am 20.Oktober 2020 wurde gewählt.", "de"),
            ("Im 19.Jahrhundert wuchs die Stadt.", "de"),
        ] {
            assert_eq!(split(text, lang), [text], "{text}");
        }
    }

    #[test]
    fn line_breaks_end_sentences() {
        assert_eq!(
            split("First line without a stop\nSecond line.", "en"),
            ["First line without a stop", "Second line."]
        );
    }

    #[test]
    fn russian_abbreviations() {
        let text = "В 1990 г. он переехал в Москву, т.е. в столицу. Там жил А. С. Пушкин и др. поэты! \
                    Почему? Никто не знает.";
        assert_eq!(
            split(text, "ru"),
            [
                "В 1990 г. он переехал в Москву, т.е. в столицу.",
                "Там жил А. С. Пушкин и др. поэты!",
                "Почему?",
                "Никто не знает.",
            ]
        );
    }

    #[test]
    fn german_abbreviations_and_ordinals() {
        let text = "Am 3. Oktober feiern wir z. B. mit Dr. Müller, d.h. mit der Familie. \
                    Die Kosten betragen ca. 5 Mio. Euro. Die Firma (gegr. 1990) wächst. Das ist viel.";
        assert_eq!(
            split(text, "de"),
            [
                "Am 3. Oktober feiern wir z. B. mit Dr. Müller, d.h. mit der Familie.",
                "Die Kosten betragen ca. 5 Mio. Euro.",
                "Die Firma (gegr. 1990) wächst.",
                "Das ist viel.",
            ]
        );
    }

    #[test]
    fn spanish_inverted_marks_and_abbreviations() {
        let text = "La Sra. García llegó a EE. UU. ayer. ¿Vendrá mañana? ¡Claro que sí! \
                    Costó 2.500 euros.";
        assert_eq!(
            split(text, "es"),
            [
                "La Sra. García llegó a EE. UU. ayer.",
                "¿Vendrá mañana?",
                "¡Claro que sí!",
                "Costó 2.500 euros.",
            ]
        );
    }

    #[test]
    fn french_guillemets_and_spaced_marks() {
        let text = "M. Dupont est arrivé. « C'est fini. » Vraiment ? Oui, etc. Nous partons.";
        assert_eq!(
            split(text, "fr"),
            [
                "M. Dupont est arrivé.",
                "« C'est fini. »",
                "Vraiment ?",
                "Oui, etc.",
                "Nous partons.",
            ]
        );
    }

    #[test]
    fn greek_question_mark() {
        let text = "Τι ώρα είναι; Είναι αργά.";
        assert_eq!(split(text, "el"), ["Τι ώρα είναι;", "Είναι αργά."]);
    }

    #[test]
    fn chinese_full_stops_without_spaces() {
        let text = "今天天气很好。我们去公园吧！你同意吗？他说：“我们明天去。”大家都同意。";
        assert_eq!(
            split(text, "zh"),
            [
                "今天天气很好。",
                "我们去公园吧！",
                "你同意吗？",
                "他说：“我们明天去。”",
                "大家都同意。",
            ]
        );
    }

    #[test]
    fn japanese_quotes_keep_their_full_stops() {
        let text = "東京は晴れです。「明日も晴れるでしょう。」と彼は言った。本当ですか？";
        assert_eq!(
            split(text, "ja"),
            [
                "東京は晴れです。",
                "「明日も晴れるでしょう。」と彼は言った。",
                "本当ですか？",
            ]
        );
    }

    #[test]
    fn empty_and_blank_text_has_no_sentences() {
        assert!(split_sentences("", None).is_empty());
        assert!(split_sentences("  \n \n", None).is_empty());
    }
}
