//! Find article URLs in a message and normalise them for caching.
