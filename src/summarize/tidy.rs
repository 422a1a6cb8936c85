//! Tidying a picked sentence for the digest: words a reader of the summary does not need go,
//! the sentence itself stays whole.
//!
//! - a dateline's source tag glued to the article's first sentence ("(CNN)The",
//!   "MOSCOW (Reuters) - The");
//! - sharing-button labels glued to the sentence's start ("Share this withEmailFacebook...Copy
//!   this linkThe campaign").
//!
//! Nothing here knows a language's words: brackets, dashes and letter case only, so scripts
//! without case (Chinese, Arabic) come back unchanged. Bracketed asides stay: without a
//! language's words, "(pictured)" cannot be told from "(allegedly)" or "Option (a)".

use std::borrow::Cow;

/// Most words of the place before a dateline's source tag ("New Delhi, India (CNN)").
const DATELINE_WORDS: usize = 4;

/// Most words of a source tag ("(The Hollywood Reporter)").
const SOURCE_WORDS: usize = 4;

/// How far into a sentence glued sharing labels are looked for, in words.
const GLUE_SEARCH_WORDS: usize = 15;

/// Case changes inside one word from which it is labels run together
/// ("withEmailFacebookTwitterPinterest"); an identifier ("getElementsByTagName") has fewer.
const RUN_TOGETHER_HUMPS: usize = 5;

/// Most words between labels run together and the word the sentence is glued to.
const GLUE_AFTER_LABELS_WORDS: usize = 3;

/// Fewest words a sentence keeps after glued labels are cut from its start.
const MIN_WORDS_LEFT: usize = 6;

/// `sentence` without what the reader does not need; `first` says it opens the article (the
/// only place a dateline goes).
pub(crate) fn tidy(sentence: &str, first: bool) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(sentence);
    if let Some(start) = glued_labels_end(&text) {
        text = Cow::Owned(text[start..].to_owned());
    }
    if first && let Some(start) = dateline_end(&text) {
        text = Cow::Owned(text[start..].to_owned());
    }
    text
}

/// Where the sentence starts after a dateline's source tag: a bracket of up to four words at
/// the very start, or after a place of up to four words, followed right away by the sentence
/// ("(CNN)The") or by a dash ("MOSCOW (Reuters) - The").
fn dateline_end(s: &str) -> Option<usize> {
    let open = s.find('(')?;
    let place = &s[..open];
    if place.split_whitespace().count() > DATELINE_WORDS
        || place.contains(['.', '!', '?', ')', '"', '“'])
        || place.chars().next().is_some_and(|c| !c.is_uppercase())
    {
        return None;
    }
    let close = open + s[open..].find(')')?;
    let tag = &s[open + 1..close];
    let tag_words = tag.split_whitespace().count();
    // a source names itself in letters: "Arsenal (2) - Chelsea (0)" is a score
    if tag_words == 0
        || tag_words > SOURCE_WORDS
        || tag.contains('(')
        || tag.chars().any(|c| c.is_numeric())
        || !tag.chars().any(char::is_alphabetic)
    {
        return None;
    }
    let after = &s[close + 1..];
    let rest = after.trim_start();
    let (rest, dashed) = match rest.strip_prefix(['-', '–', '—']) {
        Some(r) => (r.trim_start_matches('-').trim_start(), true),
        None => (rest, false),
    };
    let glued = after.len() == rest.len();
    let starts_sentence = rest
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || matches!(c, '"' | '“' | '\'' | '‘' | '«'));
    ((glued || dashed) && starts_sentence).then(|| s.len() - rest.len())
}

/// Where the sentence starts after sharing labels glued to it: a lowercase word running
/// straight into a capitalised one ("linkThe") within three words after labels run together
/// ("withEmailFacebookTwitterPinterest"), with six words left. Without the labels, such a
/// word is an identifier ("then useEffect runs") and stays.
fn glued_labels_end(s: &str) -> Option<usize> {
    // the last run of labels
    let mut anchor = None;
    for (n, (offset, word)) in words_with_offsets(s).take(GLUE_SEARCH_WORDS).enumerate() {
        if humps(word) >= RUN_TOGETHER_HUMPS {
            anchor = Some(n);
            continue;
        }
        if !word.chars().next().is_some_and(char::is_lowercase) {
            continue;
        }
        let Some(glue) = glue_point(word) else {
            continue;
        };
        let near = anchor.is_some_and(|a: usize| n - a <= GLUE_AFTER_LABELS_WORDS);
        let start = offset + glue;
        let enough_left = s[start..].split_whitespace().count() >= MIN_WORDS_LEFT;
        return (near && enough_left).then_some(start);
    }
    None
}

/// The whitespace-separated words of `s` with their byte offsets.
fn words_with_offsets(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split(char::is_whitespace)
        .filter(|w| !w.is_empty())
        .map(move |w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
}

/// How many times a lowercase letter runs straight into an uppercase one in `word`.
fn humps(word: &str) -> usize {
    let chars: Vec<char> = word.chars().collect();
    chars
        .windows(2)
        .filter(|p| p[0].is_lowercase() && p[1].is_uppercase())
        .count()
}

/// The byte offset in `word` of a capitalised word glued to a lowercase one ("link|The"); the
/// lowercase part needs two letters, so brand names ("iPhone", "eBay") are not cut.
fn glue_point(word: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    chars
        .windows(4)
        .find(|w| {
            w[0].1.is_lowercase()
                && w[1].1.is_lowercase()
                && w[2].1.is_uppercase()
                && w[3].1.is_lowercase()
        })
        .map(|w| w[2].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_tag_glued_to_the_first_sentence_goes() {
        assert_eq!(
            tidy("(CNN)The last time he spoke.", true),
            "The last time he spoke."
        );
        assert_eq!(
            tidy("Boston (CNN)Guilty on all counts.", true),
            "Guilty on all counts."
        );
        assert_eq!(
            tidy("(The Hollywood Reporter)Stan Freberg has died.", true),
            "Stan Freberg has died."
        );
        assert_eq!(
            tidy("MOSCOW (Reuters) - The talks ended.", true),
            "The talks ended."
        );
        assert_eq!(
            tidy("МОСКВА (Рейтер) — Переговоры завершились.", true),
            "Переговоры завершились."
        );
    }

    #[test]
    fn brackets_that_are_not_a_dateline_stay() {
        // Only the article's first sentence has a dateline.
        assert_eq!(tidy("(CNN)The last time.", false), "(CNN)The last time.");
        // A bracket inside the sentence, a long place, or no dash and a space.
        for s in [
            "John Smith (pictured in 2010) has died.",
            "The Foreign Office (FCO) said so.",
            "In the town of Long Eaton in Derbyshire (UK)The fire.",
            "Apple (AAPL) shares rose.",
        ] {
            assert_eq!(tidy(s, true), s);
        }
    }

    #[test]
    fn brackets_inside_a_sentence_stay() {
        for s in [
            "Mr Cooper (left) and his dog (not pictured) were at home.",
            "Police said Smith (allegedly) took the money from the charity's account.",
            "Voters may choose Option (a) or Option (b) in the second round.",
            "The kite measured 6,000 metres (3.7 miles) long.",
            "市政府（图）批准了预算。",
        ] {
            assert_eq!(tidy(s, false), s);
        }
        // a score is not a dateline
        for s in [
            "Manchester United (3) - Liverpool (1): the match was decided late.",
            "Arsenal (2) – Chelsea (0) was the result at the Emirates.",
        ] {
            assert_eq!(tidy(s, true), s);
        }
    }

    #[test]
    fn sharing_labels_glued_to_the_start_go() {
        assert_eq!(
            tidy(
                "Share this withEmailFacebookTwitterPinterestWhatsAppLinkedinCopy this linkThe \
                 campaign was launched on 19 July by the families.",
                true
            ),
            "The campaign was launched on 19 July by the families."
        );
    }

    #[test]
    fn brand_names_and_identifiers_with_inner_capitals_stay() {
        for s in [
            "The new PlayStation console and the iPhone went on sale in McDonald's shops.",
            "Use the getElementById method to find the element on the page quickly.",
            "Media playback is not supported on this deviceThe former captain returns.",
            "this linkThe end.",
            "iPhone sales fell for the third quarter in a row, the company said.",
            "eBay reported record profits for the quarter on Thursday evening.",
            "useState returns a pair: the current state value and a function that updates it.",
            "The getElementsByTagName function and the querySelector method both return \
             elements from the page.",
            "then useEffect runs after the render and cleans up the old subscription.",
        ] {
            assert_eq!(tidy(s, true), s);
        }
    }
}
