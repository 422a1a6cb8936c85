//! The digest length presets that admins choose per chat.

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

/// The numbers behind a [`Length`] preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthSpec {
    /// Most sentences in the collapsed digest.
    pub max_sentences: usize,
    /// Most characters of sentence text in the collapsed digest.
    pub max_chars: usize,
    /// Sentences in the expanded summary.
    pub expanded: usize,
}

impl Length {
    /// Every preset, shortest first.
    pub const ALL: [Length; 3] = [Length::Short, Length::Medium, Length::Long];

    /// The sentence counts and character budget of this preset.
    pub fn spec(self) -> LengthSpec {
        let (max_sentences, max_chars, expanded) = match self {
            Length::Short => (2, 250, 5),
            Length::Medium => (3, 450, 8),
            Length::Long => (5, 800, 12),
        };
        LengthSpec {
            max_sentences,
            max_chars,
            expanded,
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ignore_case() {
        for length in Length::ALL {
            assert_eq!(length.as_str().parse::<Length>(), Ok(length));
        }
        assert_eq!(" LONG ".parse::<Length>(), Ok(Length::Long));
        assert_eq!("tiny".parse::<Length>(), Err(UnknownLength));
        assert_eq!(Length::default(), Length::Medium);
    }
}
