//! Protocols shipped with lws-rs, the counterparts of libwebsockets' plugins (post-demo now; the WebSocket
//! demo protocols come with WebSocket support). [`registry`] returns them by name so `lwsws` configuration
//! can enable them per vhost with options.

mod post_demo;

pub use post_demo::PostDemo;

use lws::Registry;

/// Every protocol in this crate, registered under its libwebsockets name.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register("protocol-post-demo", PostDemo::from_pvo);
    r
}
