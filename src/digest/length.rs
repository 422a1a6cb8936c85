//! The digest length presets that admins choose per chat.

pub use crate::settings::{Length, UnknownLength};

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
