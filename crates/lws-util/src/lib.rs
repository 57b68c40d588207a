//! Small standalone pieces of lws-rs that a user may want alone: the tokenizer, the managed disk cache, arenas.
//! This crate is reserved in the workspace layout; its API arrives with the tokenizer and disk cache work.
