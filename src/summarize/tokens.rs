//! Turning a sentence into comparable terms: words lowercased, stop words dropped and stems
//! taken for the article's language; character bigrams for scripts written without spaces.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, RwLock};

use rust_stemmers::{Algorithm, Stemmer};

/// A language's stop words, shared by every summary.
type StopWords = Arc<HashSet<&'static str>>;

/// Stop-word sets built once per language.
static STOP_WORDS: LazyLock<RwLock<HashMap<String, StopWords>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// The stop words of `lang` (ISO 639-1), or `None` when no list is known.
pub(crate) fn stop_words(lang: &str) -> Option<StopWords> {
    // The ISO lists name Norwegian "no"; whatlang says Bokmål ("nb").
    let code = match lang {
        "nb" | "nn" => "no",
        other => other,
    };
    if let Ok(cache) = STOP_WORDS.read()
        && let Some(set) = cache.get(code)
    {
        return Some(Arc::clone(set));
    }
    let words = stop_words::lookup(code)?;
    let set: StopWords = Arc::new(words.iter().copied().collect());
    if let Ok(mut cache) = STOP_WORDS.write() {
        cache.insert(code.to_owned(), Arc::clone(&set));
    }
    Some(set)
}

/// Whether `word` (lowercase) is a stop word of `lang`.
pub(crate) fn is_stop_word(lang: &str, word: &str) -> bool {
    stop_words(lang).is_some_and(|set| set.contains(word))
}

/// The Snowball stemmer for `lang`, if there is one.
fn stemmer(lang: &str) -> Option<Stemmer> {
    let algorithm = match lang {
        "ar" => Algorithm::Arabic,
        "da" => Algorithm::Danish,
        "nl" => Algorithm::Dutch,
        "en" => Algorithm::English,
        "fi" => Algorithm::Finnish,
        "fr" => Algorithm::French,
        "de" => Algorithm::German,
        "el" => Algorithm::Greek,
        "hu" => Algorithm::Hungarian,
        "it" => Algorithm::Italian,
        "nb" | "nn" | "no" => Algorithm::Norwegian,
        "pt" => Algorithm::Portuguese,
        "ro" => Algorithm::Romanian,
        "ru" => Algorithm::Russian,
        "es" => Algorithm::Spanish,
        "sv" => Algorithm::Swedish,
        "ta" => Algorithm::Tamil,
        "tr" => Algorithm::Turkish,
        _ => return None,
    };
    Some(Stemmer::create(algorithm))
}

/// Whether `c` is written without spaces between words (Han, kana, and the Thai, Lao,
/// Myanmar and Khmer scripts, whose vowel and tone marks stay in the run), so words are
/// approximated by overlapping character pairs.
fn is_unspaced(c: char) -> bool {
    matches!(c,
        '\u{0E01}'..='\u{0E4E}'   // Thai letters, vowels and tone marks
        | '\u{0E81}'..='\u{0ECE}' // Lao letters, vowels and tone marks
        | '\u{1000}'..='\u{103F}' // Myanmar letters, vowels and marks
        | '\u{1780}'..='\u{17D3}' // Khmer letters, vowels and marks
        | '\u{3040}'..='\u{30FF}' // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{F900}'..='\u{FAFF}' // compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}' // half-width katakana
    )
}

/// Whether `c` is a mark that belongs to the letter before it although it is not alphabetic:
/// a combining accent of decomposed text, or an Indic virama or nukta ("्" in "नरेंद्र").
fn is_word_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'   // combining diacritical marks
        | '\u{0900}'..='\u{0963}' // Devanagari, before the dandas
        | '\u{0966}'..='\u{0DFF}' // Devanagari after them, to Sinhala
    )
}

/// Whether `c` is hiragana, whose pairs are mostly grammar (particles, endings).
fn is_hiragana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{309F}')
}

/// A raw piece of text on its way to becoming a term.
pub(crate) enum Piece<'a> {
    /// A lowercase word, before stop words and stemming.
    Word(&'a str),
    /// A character bigram (or lone character) of an unspaced script: already a term.
    Gram(&'a str),
}

/// Turns text into terms for one language.
pub(crate) struct Analyzer {
    stop: Option<StopWords>,
    stemmer: Option<Stemmer>,
}

impl Analyzer {
    /// An analyzer for `lang` (ISO 639-1); without a language, words are only lowercased.
    pub(crate) fn new(lang: Option<&str>) -> Self {
        Self {
            stop: lang.and_then(stop_words),
            stemmer: lang.and_then(stemmer),
        }
    }

    /// Calls `emit` with each term of `text`: stemmed content words, and character bigrams
    /// for runs of Chinese or Japanese.
    #[cfg(test)]
    pub(crate) fn terms(&self, text: &str, mut emit: impl FnMut(&str)) {
        self.pieces(text, |piece| match piece {
            Piece::Word(w) => {
                if let Some(term) = self.word_term(w) {
                    emit(&term);
                }
            }
            Piece::Gram(g) => emit(g),
        });
    }

    /// Calls `emit` with each raw piece of `text`: lowercase words (to pass through
    /// [`Analyzer::word_term`], which callers may memoise) and final character bigrams.
    pub(crate) fn pieces(&self, text: &str, mut emit: impl FnMut(Piece<'_>)) {
        let mut word = String::new();
        let mut run: Vec<char> = Vec::new();
        for c in text.chars().chain(std::iter::once(' ')) {
            if is_unspaced(c) {
                Self::flush_word(&mut word, &mut emit);
                run.push(c);
            } else if c.is_alphanumeric() || (!word.is_empty() && is_word_mark(c)) {
                Self::flush_run(&mut run, &mut emit);
                word.extend(c.to_lowercase());
            } else {
                Self::flush_word(&mut word, &mut emit);
                Self::flush_run(&mut run, &mut emit);
            }
        }
    }

    /// The term for a lowercase word: its stem, or `None` for stop words, single characters
    /// and bare numbers.
    pub(crate) fn word_term<'w>(&self, word: &'w str) -> Option<Cow<'w, str>> {
        // Bare numbers (years, scores) link unrelated sentences more than they tie topics.
        let keep = word.chars().nth(1).is_some()
            && !word.chars().all(|c| c.is_ascii_digit())
            && !self.stop.as_ref().is_some_and(|s| s.contains(word));
        if !keep {
            return None;
        }
        Some(match &self.stemmer {
            Some(stemmer) => stemmer.stem(word),
            None => Cow::Borrowed(word),
        })
    }

    /// Emits the pending word, if any.
    fn flush_word(word: &mut String, emit: &mut impl FnMut(Piece<'_>)) {
        if !word.is_empty() {
            emit(Piece::Word(word));
            word.clear();
        }
    }

    /// Emits the pending run of unspaced characters as overlapping pairs, skipping pairs of
    /// hiragana; a lone character stands for itself.
    fn flush_run(run: &mut Vec<char>, emit: &mut impl FnMut(Piece<'_>)) {
        let mut buf = [0u8; 8];
        if run.len() == 1 {
            if !is_hiragana(run[0]) {
                emit(Piece::Gram(run[0].encode_utf8(&mut buf)));
            }
        } else {
            for pair in run.windows(2) {
                if is_hiragana(pair[0]) && is_hiragana(pair[1]) {
                    continue;
                }
                let a = pair[0].len_utf8();
                pair[0].encode_utf8(&mut buf);
                pair[1].encode_utf8(&mut buf[a..]);
                let len = a + pair[1].len_utf8();
                if let Ok(s) = std::str::from_utf8(&buf[..len]) {
                    emit(Piece::Gram(s));
                }
            }
        }
        run.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(lang: Option<&str>, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        Analyzer::new(lang).terms(text, |t| out.push(t.to_owned()));
        out
    }

    #[test]
    fn english_words_are_stemmed_without_stop_words() {
        assert_eq!(
            terms(Some("en"), "The runners were running to the stations."),
            ["runner", "run", "station"]
        );
    }

    #[test]
    fn stop_words_follow_the_language() {
        let text = "Der Hund und die Katze";
        assert_eq!(terms(Some("de"), text), ["hund", "katz"]);
        assert_eq!(
            terms(Some("en"), text),
            ["der", "hund", "und", "die", "katz"]
        );
    }

    #[test]
    fn russian_words_are_stemmed() {
        assert_eq!(
            terms(Some("ru"), "Новые законы и новая власть"),
            ["нов", "закон", "нов", "власт"]
        );
    }

    #[test]
    fn chinese_and_japanese_become_character_bigrams() {
        assert_eq!(terms(Some("zh"), "北京大学"), ["北京", "京大", "大学"]);
        assert_eq!(
            terms(Some("ja"), "東京へ行きました"),
            ["東京", "京へ", "へ行", "行き"]
        );
    }

    #[test]
    fn thai_becomes_character_bigrams_with_its_marks() {
        // "ห้อง" (room): the tone mark stays between its letters instead of splitting the word.
        assert_eq!(terms(Some("th"), "ห้อง"), ["ห้", "้อ", "อง"]);
        assert_eq!(terms(None, "ไทย 2024"), ["ไท", "ทย"]);
    }

    #[test]
    fn indic_words_keep_their_viramas_and_decomposed_accents_stay_in_the_word() {
        assert_eq!(terms(None, "नरेंद्र मोदी।"), ["नरेंद्र", "मोदी"]);
        assert_eq!(terms(None, "u\u{308}ber"), ["u\u{308}ber"]);
    }

    #[test]
    fn mixed_scripts_keep_latin_words() {
        assert_eq!(terms(None, "iPhone发布会"), ["iphone", "发布", "布会"]);
    }
}
