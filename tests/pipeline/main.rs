//! Pipeline integration tests: one binary, every request on 127.0.0.1.

mod fetch;
mod support;
