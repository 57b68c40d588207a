//! Sans-IO protocol engines for lws-rs: bytes go in with the current time, events and bytes come out.
//! Nothing here touches a socket, a clock or an async runtime, so every engine is testable with byte vectors,
//! fuzzable, and reusable by any runtime (the `lws` crate drives them on tokio).
#![forbid(unsafe_code)]

pub mod cgi;
pub mod coding;
pub mod form;
pub mod h2;
pub mod hpack;
pub mod http1;
pub mod sniff;
pub mod uri;
pub mod ws;
