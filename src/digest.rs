//! The pipeline service (fetch → extract → summarize → cache) and the `Digest` it produces.
