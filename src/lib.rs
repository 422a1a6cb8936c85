//! linkdigest: reads the links people share and answers with what the page says.
//!
//! The library turns a URL (or an HTML file, or plain text) into a [`digest::Digest`]: the
//! article's title, site, reading time and its summary sentences ranked by importance, so
//! that every digest length is rendered from one cached entry.
//!
//! # Layout
//!
//! - [`config`]: settings from the environment, validated once at start.
//! - [`links`]: find article URLs in a message and normalise them for caching.
//! - [`fetch`]: the safe HTTP fetcher (SSRF guard, size and time limits, charsets).
//! - [`budget`]: the CPU deadline of one link, checked by long loops as they go.
//! - [`extract`]: the article's main text and metadata, without menus and teasers.
//! - [`pdf`]: PDF papers and reports as articles, read page by page within limits.
//! - [`lang`]: language detection shared by extraction and summarization.
//! - [`truncate`]: page text cut to a bound at a word.
//! - [`summarize`]: the `Summarizer` trait and the built-in extractive summarizer.
//! - [`cache`]: the concurrent cache with TTL, capacity bound and single-flight loads.
//! - [`digest`]: the pipeline service that ties the above together, and the `Digest` type.
//! - [`render`]: a digest as Telegram HTML.
//! - [`callback_data`]: the short data behind the bot's buttons, without teloxide.
//! - [`settings`] and [`store`]: per-chat settings and persisted digests in SQLite.
//! - [`bot`]: the Telegram bot (the only module that knows teloxide).
//! - [`ops`]: `/healthz` and `/metrics` for operators.
//! - [`perkey`]: per-key state that expires (limits, repeat marks, send windows), local or
//!   in Redis.
//! - [`redis_state`]: Redis, so several instances share one cache, settings and per-key state.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bot;
pub mod budget;
pub mod cache;
pub mod callback_data;
pub mod config;
pub mod digest;
pub mod extract;
pub mod fetch;
pub mod lang;
pub mod links;
pub mod ops;
pub mod pdf;
pub mod perkey;
pub mod redis_state;
pub mod render;
pub mod settings;
pub mod store;
pub mod summarize;
pub mod truncate;
