//! End-to-end tests: the real bot, pipeline and command line against fake servers on
//! 127.0.0.1, in one test binary.

mod batch;
mod bot;
mod cli;
mod fake_telegram_selftest;
mod fetch;
mod hostile;
mod pipeline;
mod render_safety;
mod support;
