//! Inline keyboards: Expand/Collapse under a digest, and the settings choices.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::callback_data::Callback;
use crate::digest::Length;
use crate::settings::Mode;

fn one_button(label: &str, callback: Callback) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([[InlineKeyboardButton::callback(label, callback.data())]])
}

/// The **Expand** button under a collapsed digest.
pub fn expand(key: &str) -> InlineKeyboardMarkup {
    one_button("Expand", Callback::Expand(key.to_owned()))
}

/// The **Collapse** button under an expanded summary.
pub fn collapse(key: &str) -> InlineKeyboardMarkup {
    one_button("Collapse", Callback::Collapse(key.to_owned()))
}

/// The **Summarize** button under an inline placeholder.
pub fn summarize(key: &str) -> InlineKeyboardMarkup {
    one_button("Summarize", Callback::Summarize(key.to_owned()))
}

/// One button per length preset, the current one ticked.
pub fn lengths(current: Length) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([Length::ALL.map(|length| {
        let tick = if length == current { "✓ " } else { "" };
        InlineKeyboardButton::callback(
            format!("{tick}{length}"),
            Callback::SetLength(length).data(),
        )
    })])
}

/// One button per mode, the current one ticked.
pub fn modes(current: Mode) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new([Mode::ALL.map(|mode| {
        let tick = if mode == current { "✓ " } else { "" };
        InlineKeyboardButton::callback(format!("{tick}{mode}"), Callback::SetMode(mode).data())
    })])
}
