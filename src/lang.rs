//! Language detection shared by extraction and summarization.

use whatlang::Lang;

/// How much text detection reads: half a kilobyte decides the language as well as a book,
/// and detection time grows with the sample.
const SAMPLE_BYTES: usize = 512;

/// Confidence below which a guess is not worth acting on (0 to 1, from whatlang).
const MIN_CONFIDENCE: f64 = 0.5;

/// Detects the language of `text` and returns its ISO 639-1 code ("en", "ru", "zh"), or
/// `None` when the text is too short or too mixed to tell.
pub fn detect(text: &str) -> Option<String> {
    let sample = sample(text.trim(), SAMPLE_BYTES);
    if sample.chars().filter(|c| c.is_alphabetic()).count() < 3 {
        return None;
    }
    let info = whatlang::detect(sample)?;
    if !info.is_reliable() && info.confidence() < MIN_CONFIDENCE {
        return None;
    }
    iso_639_1(info.lang()).map(str::to_owned)
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn sample(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Maps whatlang's ISO 639-3 languages to ISO 639-1 codes (all of them have one).
fn iso_639_1(lang: Lang) -> Option<&'static str> {
    let code = match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    };
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_languages_as_iso_639_1() {
        let cases = [
            (
                "The committee met on Tuesday to discuss the new budget and the plans for the coming year.",
                "en",
            ),
            (
                "Комитет собрался во вторник, чтобы обсудить новый бюджет и планы на следующий год.",
                "ru",
            ),
            (
                "Der Ausschuss traf sich am Dienstag, um den neuen Haushalt und die Pläne für das kommende Jahr zu besprechen.",
                "de",
            ),
            (
                "El comité se reunió el martes para discutir el nuevo presupuesto y los planes para el próximo año.",
                "es",
            ),
            (
                "Le comité s'est réuni mardi pour discuter du nouveau budget et des projets pour l'année prochaine.",
                "fr",
            ),
            ("委员会周二开会讨论了新的预算和明年的计划。", "zh"),
            (
                "委員会は火曜日に会合を開き、新しい予算と来年の計画について話し合った。",
                "ja",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(detect(text).as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn too_little_text_is_unknown() {
        assert_eq!(detect(""), None);
        assert_eq!(detect("  12 ! "), None);
    }

    #[test]
    fn long_text_is_sampled_on_a_char_boundary() {
        let text = "Привет, как дела? ".repeat(1000);
        assert_eq!(detect(&text).as_deref(), Some("ru"));
    }
}
