//! A chat's settings: how long its digests are and when the bot answers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How long a chat wants its digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Length {
    /// 1-2 sentences, about 250 characters; about 5 expanded.
    Short,
    /// 2-3 sentences, about 450 characters; about 8 expanded.
    #[default]
    Medium,
    /// 4-5 sentences, about 800 characters; about 12 expanded.
    Long,
}

impl Length {
    /// Every preset, shortest first.
    pub const ALL: [Length; 3] = [Length::Short, Length::Medium, Length::Long];

    /// The lowercase name used in commands and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Length::Short => "short",
            Length::Medium => "medium",
            Length::Long => "long",
        }
    }
}

impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of `short`, `medium`, `long`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("length must be short, medium or long")]
pub struct UnknownLength;

impl FromStr for Length {
    type Err = UnknownLength;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Length::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownLength)
    }
}

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
