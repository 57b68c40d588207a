//! Protocols shipped with lws-rs, the counterparts of libwebsockets' plugins: the test-server WebSocket
//! protocols (dumb-increment, mirror, status), an echo protocol and the POST demo. [`registry`] returns them
//! by name so `lwsws` configuration can enable them per vhost with options; `raw-proxy` (libwebsockets'
//! `lws-raw-proxy`, pvo `onward`) and `lws-raw-echo` serve raw connections.

mod dumb_increment;
mod echo;
mod fulltext_demo;
mod json;
mod mirror;
mod post_demo;
mod raw_echo;
mod status;

pub use dumb_increment::DumbIncrement;
pub use echo::Echo;
pub use fulltext_demo::FulltextDemo;
pub use mirror::Mirror;
pub use post_demo::PostDemo;
pub use raw_echo::RawEcho;
pub use status::Status;

use lws::raw::{Proxy, ProxyConfig};
use lws::Registry;

/// Every protocol in this crate, registered under its libwebsockets name.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register("dumb-increment-protocol", DumbIncrement::from_pvo);
    r.register("lws-mirror-protocol", Mirror::from_pvo);
    r.register("lws-status", Status::from_pvo);
    r.register("lws-echo", Echo::from_pvo);
    r.register("protocol-post-demo", PostDemo::from_pvo);
    r.register("fulltext-demo", FulltextDemo::from_pvo);
    r.register_handle("raw-proxy", |name, pvo| {
        Ok(Proxy::new(ProxyConfig::from_pvo(name, pvo)?).into_handle(name))
    });
    r.register_handle("lws-raw-echo", RawEcho::handle);
    r
}
