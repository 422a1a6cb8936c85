//! End-to-end tests: the real bot against fake servers on 127.0.0.1, in one test binary.

mod fake_telegram_selftest;
mod support;
