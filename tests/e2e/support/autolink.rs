//! What Telegram makes live in plain text, as a pure function: the `url`, `email`,
//! `mention`, `bot_command`, `hashtag` and `cashtag` entities its clients would show for a
//! message with no entities of its own. Modelled on the documented entity types and on
//! tdlib's matcher, erring on the side of finding more (a test that uses it is stricter).

/// One detected entity: its kind and its span in chars of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Autolink {
    /// `url`, `email`, `mention`, `bot_command`, `hashtag` or `cashtag`.
    pub kind: &'static str,
    /// Index of the first char.
    pub start: usize,
    /// Index just past the last char.
    pub end: usize,
    /// The matched text.
    pub text: String,
}

/// Characters that may appear in a host name label (letters and digits of any script,
/// `-` and `_`).
fn is_host_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '_'
}

/// Characters of a user name, hashtag or command.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `host` (labels separated by dots) ends in a suffix on the public list, or is an
/// IPv4 address.
fn is_linkable_host(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return false;
    }
    if labels.len() == 4 && labels.iter().all(|l| l.parse::<u8>().is_ok()) {
        return true;
    }
    let tld = labels[labels.len() - 1];
    if tld.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let lower = host.to_lowercase();
    psl::suffix(lower.as_bytes()).is_some_and(|s| s.is_known())
}

/// Every entity Telegram would detect in `text`.
pub fn detect(text: &str) -> Vec<Autolink> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    let prev_is = |i: usize, f: &dyn Fn(char) -> bool| i > 0 && f(chars[i - 1]);
    while i < chars.len() {
        let c = chars[i];
        // @mention: 3..32 word characters after an @ that does not follow a word character
        if c == '@' && !prev_is(i, &|p| is_word_char(p) || p == '.') {
            let len = chars[i + 1..]
                .iter()
                .take_while(|c| is_word_char(**c))
                .count();
            if (3..=32).contains(&len) {
                found.push(make("mention", &chars, i, i + 1 + len));
                i += 1 + len;
                continue;
            }
        }
        // #hashtag: word characters, not only digits
        if c == '#' && !prev_is(i, &is_word_char) {
            let len = chars[i + 1..]
                .iter()
                .take_while(|c| is_word_char(**c))
                .count();
            if len > 0 && !chars[i + 1..i + 1 + len].iter().all(char::is_ascii_digit) {
                found.push(make("hashtag", &chars, i, i + 1 + len));
                i += 1 + len;
                continue;
            }
        }
        // $CASHTAG: 1..8 upper-case Latin letters
        if c == '$' && !prev_is(i, &is_word_char) {
            let len = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_uppercase())
                .count();
            let after = chars.get(i + 1 + len).copied();
            if (1..=8).contains(&len) && !after.is_some_and(is_word_char) {
                found.push(make("cashtag", &chars, i, i + 1 + len));
                i += 1 + len;
                continue;
            }
        }
        // /command: at the start or after a space or an opening bracket
        if c == '/' && (i == 0 || chars[i - 1].is_whitespace() || "([{\"'".contains(chars[i - 1])) {
            let len = chars[i + 1..]
                .iter()
                .take_while(|c| is_word_char(**c))
                .count();
            if (1..=64).contains(&len) && chars[i + 1].is_ascii_alphanumeric() {
                found.push(make("bot_command", &chars, i, i + 1 + len));
                i += 1 + len;
                continue;
            }
        }
        // URLs and e-mail addresses start at a host character that does not follow one
        if is_host_char(c)
            && !prev_is(i, &|p| is_host_char(p) || p == '.' || p == '@')
            && let Some((kind, end)) = link_at(&chars, i)
        {
            found.push(make(kind, &chars, i, end));
            i = end;
            continue;
        }
        i += 1;
    }
    found
}

/// A URL (with or without a scheme) or an e-mail address starting at `start`.
fn link_at(chars: &[char], start: usize) -> Option<(&'static str, usize)> {
    let mut i = start;
    // an explicit scheme: letters then "://"
    let scheme_len = chars[i..]
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let has_scheme = scheme_len > 0
        && chars.get(i + scheme_len) == Some(&':')
        && chars.get(i + scheme_len + 1) == Some(&'/')
        && chars.get(i + scheme_len + 2) == Some(&'/');
    if has_scheme {
        i += scheme_len + 3;
    }
    // user info or e-mail local part
    let local_end = i + chars[i..]
        .iter()
        .take_while(|c| is_host_char(**c) || **c == '.' || **c == '+' || **c == '%')
        .count();
    let is_email = !has_scheme && chars.get(local_end) == Some(&'@') && local_end > i;
    let host_start = if is_email { local_end + 1 } else { i };
    let host_len = chars[host_start..]
        .iter()
        .take_while(|c| is_host_char(**c) || **c == '.')
        .count();
    let mut host_end = host_start + host_len;
    while host_end > host_start && chars[host_end - 1] == '.' {
        host_end -= 1;
    }
    let host: String = chars[host_start..host_end].iter().collect();
    if !is_linkable_host(&host) {
        return None;
    }
    if is_email {
        return Some(("email", host_end));
    }
    // port, path, query and fragment: up to a space, trailing punctuation excluded
    let mut end = host_end;
    if matches!(chars.get(end), Some(':' | '/' | '?' | '#')) {
        end += chars[end..]
            .iter()
            .take_while(|c| !c.is_whitespace() && !"<>\"«»".contains(**c))
            .count();
        while end > host_end && ".,;:!?)]'".contains(chars[end - 1]) {
            end -= 1;
        }
    }
    Some(("url", end))
}

fn make(kind: &'static str, chars: &[char], start: usize, end: usize) -> Autolink {
    Autolink {
        kind,
        start,
        end,
        text: chars[start..end].iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(&'static str, String)> {
        detect(text).into_iter().map(|a| (a.kind, a.text)).collect()
    }

    #[test]
    fn finds_what_telegram_makes_live() {
        assert_eq!(
            kinds("Log in at https://evil.example.com/login, or evil.com/x."),
            vec![
                ("url", "https://evil.example.com/login".to_owned()),
                ("url", "evil.com/x".to_owned())
            ]
        );
        assert_eq!(
            kinds("mail me: a.b@mail.org"),
            vec![("email", "a.b@mail.org".to_owned())]
        );
        assert_eq!(
            kinds("@durov /start #news $USD"),
            vec![
                ("mention", "@durov".to_owned()),
                ("bot_command", "/start".to_owned()),
                ("hashtag", "#news".to_owned()),
                ("cashtag", "$USD".to_owned())
            ]
        );
    }

    #[test]
    fn ordinary_text_has_no_entities() {
        assert!(detect("Prices rose 3.5 percent in May, and/or fell. #1 e.g. file.txt").is_empty());
    }

    #[test]
    fn a_word_joiner_inside_the_trigger_defuses_it() {
        assert!(detect("@\u{2060}durov evil.\u{2060}com #\u{2060}news /\u{2060}start").is_empty());
    }
}
