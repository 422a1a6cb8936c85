//! Settings from the environment or `.env`, validated once at start.
