//! A chat's settings: how long its digests are and when the bot answers.

use std::fmt;
use std::str::FromStr;

use crate::digest::Length;

/// When the bot posts digests in a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Every link anyone posts.
    #[default]
    Auto,
    /// Only `/summarize` and messages that mention the bot or reply to it.
    Manual,
    /// Nothing in this chat (commands still answer).
    Off,
}

impl Mode {
    /// Every mode, in the order shown to admins.
    pub const ALL: [Mode; 3] = [Mode::Auto, Mode::Manual, Mode::Off];

    /// The lowercase name used in commands and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Manual => "manual",
            Mode::Off => "off",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of `auto`, `manual`, `off`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mode must be auto, manual or off")]
pub struct UnknownMode;

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownMode)
    }
}

/// Everything an admin can set for one chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChatSettings {
    /// Digest length preset.
    pub length: Length,
    /// When the bot answers links.
    pub mode: Mode,
}

/// One setting changed on its own; the store writes only its field, so two changes of
/// different settings at the same time both survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// The digest length.
    Length(Length),
    /// When the bot answers links.
    Mode(Mode),
}

impl Setting {
    /// The field's storage name and its new value.
    pub fn field(self) -> (&'static str, &'static str) {
        match self {
            Setting::Length(length) => ("length", length.as_str()),
            Setting::Mode(mode) => ("mode", mode.as_str()),
        }
    }

    /// `settings` with this change made.
    pub fn applied_to(self, mut settings: ChatSettings) -> ChatSettings {
        match self {
            Setting::Length(length) => settings.length = length,
            Setting::Mode(mode) => settings.mode = mode,
        }
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_default_to_auto() {
        for mode in Mode::ALL {
            assert_eq!(mode.to_string().parse::<Mode>(), Ok(mode));
        }
        assert_eq!("Manual".parse::<Mode>(), Ok(Mode::Manual));
        assert_eq!("sometimes".parse::<Mode>(), Err(UnknownMode));
        let defaults = ChatSettings::default();
        assert_eq!(
            (defaults.length, defaults.mode),
            (Length::Medium, Mode::Auto)
        );
    }
}
