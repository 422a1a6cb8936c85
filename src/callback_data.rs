//! The short callback data behind the bot's buttons (expand, collapse, summarize, and the
//! settings buttons' length and mode): written and read back here, without teloxide, so it
//! can be tested and fuzzed alone. Telegram allows 1-64 bytes.

use crate::digest::Length;
use crate::settings::Mode;

/// What a digest button asks for; its callback data is at most 64 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// Show the expanded summary of the digest with this link key.
    Expand(String),
    /// Show the collapsed digest again.
    Collapse(String),
    /// Make the digest of the link with this key (the button of an inline placeholder).
    Summarize(String),
    /// Set the chat's digest length.
    SetLength(Length),
    /// Set the chat's mode.
    SetMode(Mode),
}

impl Callback {
    /// The callback data: `x:` or `c:` followed by the link key.
    pub fn data(&self) -> String {
        match self {
            Callback::Expand(key) => format!("x:{key}"),
            Callback::Collapse(key) => format!("c:{key}"),
            Callback::Summarize(key) => format!("s:{key}"),
            Callback::SetLength(length) => format!("l:{length}"),
            Callback::SetMode(mode) => format!("m:{mode}"),
        }
    }

    /// Reads callback data written by [`Callback::data`]; anything else is `None`.
    pub fn parse(data: &str) -> Option<Self> {
        let (action, value) = data.split_once(':')?;
        let key = || {
            let valid = !value.is_empty()
                && value.len() <= 62
                && value.bytes().all(|b| b.is_ascii_alphanumeric());
            valid.then(|| value.to_owned())
        };
        match action {
            "x" => key().map(Callback::Expand),
            "c" => key().map(Callback::Collapse),
            "s" => key().map(Callback::Summarize),
            "l" => value.parse().ok().map(Callback::SetLength),
            "m" => value.parse().ok().map(Callback::SetMode),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_and_rejects_junk() {
        let key = "0123456789abcdef".to_owned();
        let all = [
            Callback::Expand(key.clone()),
            Callback::Collapse(key.clone()),
            Callback::Summarize(key),
            Callback::SetLength(Length::Long),
            Callback::SetMode(Mode::Off),
        ];
        for cb in all {
            assert!(cb.data().len() <= 64);
            assert_eq!(Callback::parse(&cb.data()), Some(cb));
        }
        for junk in [
            "",
            "x",
            "x:",
            "y:abc",
            "x:ab cd",
            "x:<script>",
            "l:huge",
            "m:",
            &format!("x:{}", "a".repeat(63)),
        ] {
            assert_eq!(Callback::parse(junk), None, "{junk:?}");
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            #[test]
            fn callback_data_fits_in_64_bytes_and_parses_back(
                url in "https?://[a-z0-9.-]{1,40}/[ -~]{0,200}",
                key in "[a-zA-Z0-9]{1,62}",
                length in prop::sample::select(vec![Length::Short, Length::Medium, Length::Long]),
                mode in prop::sample::select(vec![Mode::Auto, Mode::Manual, Mode::Off]),
            ) {
                let mut all = vec![
                    Callback::Expand(key.clone()),
                    Callback::Collapse(key),
                    Callback::SetLength(length),
                    Callback::SetMode(mode),
                ];
                if let Ok(link) = crate::links::NormalizedUrl::parse(&url) {
                    all.push(Callback::Expand(link.key()));
                    all.push(Callback::Collapse(link.key()));
                }
                for cb in all {
                    let data = cb.data();
                    prop_assert!(data.len() <= 64, "{} bytes: {}", data.len(), data);
                    prop_assert_eq!(Callback::parse(&data), Some(cb));
                }
            }

            #[test]
            fn junk_callback_data_never_panics(data in "\\PC{0,80}") {
                if let Some(cb) = Callback::parse(&data) {
                    prop_assert_eq!(cb.data(), data);
                }
            }
        }
    }
}
