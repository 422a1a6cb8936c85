//! The original Porter (1980) stemmer, as Google's rouge-score applies it to English tokens;
//! rust-stemmers' English is Porter2, which stems some words differently.

/// Stems one lowercase ASCII token ([a-z0-9]+); other input comes back unchanged.
pub fn stem(word: &str) -> String {
    if word.len() <= 2
        || !word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return word.to_owned();
    }
    let mut w = Word(word.as_bytes().to_vec());
    w.step1a();
    w.step1b();
    w.step1c();
    w.step2();
    w.step3();
    w.step4();
    w.step5();
    String::from_utf8(w.0).unwrap_or_else(|_| word.to_owned())
}

/// A word being stemmed.
struct Word(Vec<u8>);

impl Word {
    /// Whether the letter at `i` is a consonant (y after a consonant is a vowel).
    fn cons(&self, i: usize) -> bool {
        match self.0[i] {
            b'a' | b'e' | b'i' | b'o' | b'u' => false,
            b'y' => i == 0 || !self.cons(i - 1),
            _ => true,
        }
    }

    /// The measure m of the first `end` letters: the number of vowel-consonant sequences.
    fn measure(&self, end: usize) -> usize {
        let mut m = 0;
        let mut i = 0;
        while i < end && self.cons(i) {
            i += 1;
        }
        loop {
            while i < end && !self.cons(i) {
                i += 1;
            }
            if i >= end {
                return m;
            }
            while i < end && self.cons(i) {
                i += 1;
            }
            m += 1;
        }
    }

    /// Whether the first `end` letters hold a vowel.
    fn has_vowel(&self, end: usize) -> bool {
        (0..end).any(|i| !self.cons(i))
    }

    /// Whether the first `end` letters end in a double consonant.
    fn double_cons(&self, end: usize) -> bool {
        end >= 2 && self.0[end - 1] == self.0[end - 2] && self.cons(end - 1)
    }

    /// Whether the first `end` letters end consonant-vowel-consonant, the last not w, x or y.
    fn cvc(&self, end: usize) -> bool {
        end >= 3
            && self.cons(end - 3)
            && !self.cons(end - 2)
            && self.cons(end - 1)
            && !matches!(self.0[end - 1], b'w' | b'x' | b'y')
    }

    fn ends(&self, suffix: &str) -> bool {
        self.0.ends_with(suffix.as_bytes())
    }

    /// The length of the stem left when `suffix` is removed.
    fn stem_len(&self, suffix: &str) -> usize {
        self.0.len() - suffix.len()
    }

    fn set(&mut self, suffix: &str, replacement: &str) {
        let len = self.stem_len(suffix);
        self.0.truncate(len);
        self.0.extend_from_slice(replacement.as_bytes());
    }

    /// Applies the first rule whose suffix matches, if the stem's measure exceeds `min_m`.
    fn rules(&mut self, rules: &[(&str, &str)], min_m: usize) {
        for &(suffix, replacement) in rules {
            if self.ends(suffix) {
                if self.measure(self.stem_len(suffix)) > min_m {
                    self.set(suffix, replacement);
                }
                return;
            }
        }
    }

    fn step1a(&mut self) {
        if self.ends("sses") {
            self.set("sses", "ss");
        } else if self.ends("ies") {
            self.set("ies", "i");
        } else if self.ends("s") && !self.ends("ss") {
            self.set("s", "");
        }
    }

    fn step1b(&mut self) {
        if self.ends("eed") {
            if self.measure(self.stem_len("eed")) > 0 {
                self.set("eed", "ee");
            }
            return;
        }
        let suffix = if self.ends("ed") {
            "ed"
        } else if self.ends("ing") {
            "ing"
        } else {
            return;
        };
        if !self.has_vowel(self.stem_len(suffix)) {
            return;
        }
        self.set(suffix, "");
        if self.ends("at") || self.ends("bl") || self.ends("iz") {
            self.0.push(b'e');
        } else if self.double_cons(self.0.len())
            && !matches!(self.0.last(), Some(b'l' | b's' | b'z'))
        {
            self.0.pop();
        } else if self.measure(self.0.len()) == 1 && self.cvc(self.0.len()) {
            self.0.push(b'e');
        }
    }

    fn step1c(&mut self) {
        if self.ends("y") && self.has_vowel(self.stem_len("y")) {
            self.set("y", "i");
        }
    }

    fn step2(&mut self) {
        self.rules(
            &[
                ("ational", "ate"),
                ("tional", "tion"),
                ("enci", "ence"),
                ("anci", "ance"),
                ("izer", "ize"),
                ("abli", "able"),
                ("alli", "al"),
                ("entli", "ent"),
                ("eli", "e"),
                ("ousli", "ous"),
                ("ization", "ize"),
                ("ation", "ate"),
                ("ator", "ate"),
                ("alism", "al"),
                ("iveness", "ive"),
                ("fulness", "ful"),
                ("ousness", "ous"),
                ("aliti", "al"),
                ("iviti", "ive"),
                ("biliti", "ble"),
            ],
            0,
        );
    }

    fn step3(&mut self) {
        self.rules(
            &[
                ("icate", "ic"),
                ("ative", ""),
                ("alize", "al"),
                ("iciti", "ic"),
                ("ical", "ic"),
                ("ful", ""),
                ("ness", ""),
            ],
            0,
        );
    }

    fn step4(&mut self) {
        const SUFFIXES: &[&str] = &[
            "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion",
            "ou", "ism", "ate", "iti", "ous", "ive", "ize",
        ];
        // The longest matching suffix decides, as in Porter's own implementation.
        let Some(suffix) = SUFFIXES
            .iter()
            .filter(|s| self.ends(s))
            .max_by_key(|s| s.len())
        else {
            return;
        };
        let stem = self.stem_len(suffix);
        if self.measure(stem) <= 1 {
            return;
        }
        if *suffix == "ion" && !matches!(self.0.get(stem.wrapping_sub(1)), Some(b's' | b't')) {
            return;
        }
        self.0.truncate(stem);
    }

    fn step5(&mut self) {
        if self.ends("e") {
            let stem = self.stem_len("e");
            let m = self.measure(stem);
            if m > 1 || (m == 1 && !self.cvc(stem)) {
                self.0.pop();
            }
        }
        let len = self.0.len();
        if self.measure(len) > 1 && self.double_cons(len) && self.0.last() == Some(&b'l') {
            self.0.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn porter_paper_examples() {
        let cases = [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("caress", "caress"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("bled", "bled"),
            ("motoring", "motor"),
            ("sing", "sing"),
            ("conflated", "conflat"),
            ("troubled", "troubl"),
            ("sized", "size"),
            ("hopping", "hop"),
            ("tanned", "tan"),
            ("falling", "fall"),
            ("hissing", "hiss"),
            ("fizzed", "fizz"),
            ("failing", "fail"),
            ("filing", "file"),
            ("happy", "happi"),
            ("sky", "sky"),
            ("relational", "relat"),
            ("conditional", "condit"),
            ("rational", "ration"),
            ("valenci", "valenc"),
            ("digitizer", "digit"),
            ("conformabli", "conform"),
            ("radicalli", "radic"),
            ("differentli", "differ"),
            ("vileli", "vile"),
            ("analogousli", "analog"),
            ("vietnamization", "vietnam"),
            ("predication", "predic"),
            ("operator", "oper"),
            ("feudalism", "feudal"),
            ("decisiveness", "decis"),
            ("hopefulness", "hope"),
            ("callousness", "callous"),
            ("formaliti", "formal"),
            ("sensitiviti", "sensit"),
            ("sensibiliti", "sensibl"),
            ("triplicate", "triplic"),
            ("formative", "form"),
            ("formalize", "formal"),
            ("electriciti", "electr"),
            ("electrical", "electr"),
            ("hopeful", "hope"),
            ("goodness", "good"),
            ("revival", "reviv"),
            ("allowance", "allow"),
            ("inference", "infer"),
            ("airliner", "airlin"),
            ("adjustable", "adjust"),
            ("defensible", "defens"),
            ("irritant", "irrit"),
            ("replacement", "replac"),
            ("adjustment", "adjust"),
            ("dependent", "depend"),
            ("adoption", "adopt"),
            ("homologou", "homolog"),
            ("communism", "commun"),
            ("activate", "activ"),
            ("angulariti", "angular"),
            ("homologous", "homolog"),
            ("effective", "effect"),
            ("bowdlerize", "bowdler"),
            ("probate", "probat"),
            ("rate", "rate"),
            ("cease", "ceas"),
            ("controll", "control"),
            ("roll", "roll"),
            ("generalizations", "gener"),
            ("oscillators", "oscil"),
        ];
        for (word, want) in cases {
            assert_eq!(stem(word), want, "{word}");
        }
    }
}
