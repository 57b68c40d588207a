//! Full-text search for lws-rs: a compact trie index file with search and autocomplete over huge UTF-8 corpora.
//! This crate is reserved in the workspace layout; its API arrives with the full-text search work and has no items yet.
