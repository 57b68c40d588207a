//! Small standalone pieces of lws-rs that a user may want alone, without tokio or sockets: a zero-allocation
//! tokenizer for header values and config text ([`tokenize`], after `lws_tokenize`) and a managed on-disk object
//! cache with least-recently-used trimming that several processes can share ([`diskcache`], after `lws_diskcache`).
#![forbid(unsafe_code)]

pub mod diskcache;
pub mod tokenize;
