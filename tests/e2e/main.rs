//! End-to-end tests: the real bot, pipeline and command line against fake servers on
//! 127.0.0.1, in one test binary.
#![allow(
    clippy::too_many_lines,
    reason = "the 80-line limit is for src/; test and example drivers read top-down"
)]

mod batch;
mod bot;
mod cli;
mod fake_telegram_selftest;
mod fetch;
mod hostile;
mod pdf;
mod pipeline;
mod render_safety;
mod support;
