//! CGI mounts (RFC 3875; libwebsockets' `cgi://` origins): a request under the mountpoint runs a script as a
//! child process, with the request body on its stdin and its stdout parsed as a CGI head and streamed back
//! as the response body.
//!
//! The child runs directly (no shell), in its own process group, in its script's directory, with an
//! environment holding only the RFC 3875 meta-variables (plus libwebsockets' `SCRIPT_PATH` and the mount's
//! own variables). Both directions have backpressure: the body reaches stdin only as fast as the script
//! reads it, and stdout is read only when the client's connection has room. A timeout kills the whole
//! process group, as does the client going away; children are always reaped.
//!
//! Layout, top to bottom: `config` ([`Cgi`], what a mount is given, and the per-vhost process cap);
//! `run` (one request: spawn, head, body); `keeper` (the task that feeds stdin, logs stderr, enforces the
//! timeout and reaps); `group` (signalling a process group); `script` (finding the executable under the
//! origin); `env` (the meta-variables).

mod config;
mod env;
mod group;
mod keeper;
mod run;
mod script;

pub use config::{Cgi, DEFAULT_MAX_PROCESSES, DEFAULT_TIMEOUT};
pub(crate) use config::{CgiMount, CgiSlots};
pub(crate) use run::{run, CgiJob};
