//! The safe fetcher: SSRF guard, time and size limits, charset decoding.
