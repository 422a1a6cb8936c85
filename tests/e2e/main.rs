//! End-to-end tests: the real bot, pipeline and command line against fake servers on
//! 127.0.0.1, in one test binary.

mod bot;
mod cli;
mod fake_telegram_selftest;
mod fetch;
mod pdf;
mod pipeline;
mod support;
