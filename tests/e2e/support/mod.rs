//! Test support for the end-to-end tests: fake servers the bot talks to instead of the internet.

pub mod fake_telegram;
