//! The concurrent digest cache: TTL, capacity bound, single-flight loads, short-lived failures.
