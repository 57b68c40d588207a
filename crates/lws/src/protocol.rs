//! Protocols: the unit of application code, as in libwebsockets. A protocol value is per-vhost state built
//! from the vhost's options; its `Session` type is per-connection state (per request for plain HTTP, per
//! connection for a WebSocket).

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::http::{HttpCtx, Request};
use crate::raw::driver::Callbacks;
use crate::raw::service::DynRaw;
use crate::raw::{RawProtocol, RawService};
use crate::ws::{CloseInfo, WsCtx, WsMessage, WsOptions};

/// Application code bound to a name, reached through callback mounts and as a WebSocket subprotocol.
///
/// Every method has a default, so a protocol overrides only what it handles. The methods run on the
/// connection's task and must not block; for slow work, take a [`crate::Responder`] with
/// [`HttpCtx::defer`] (HTTP) or a [`crate::ws::WsHandle`] (WebSocket) and continue from another task.
pub trait Protocol: Send + Sync + 'static {
    /// State kept for one HTTP request or one WebSocket connection (libwebsockets' "per-session data").
    type Session: Default + Send + 'static;

    /// A request head arrived for a URL under a mount bound to this protocol. Answer now with
    /// [`HttpCtx::respond`], or leave it unanswered to receive the body through [`Protocol::http_body`].
    /// The default answers 404.
    fn http(&self, _session: &mut Self::Session, cx: &mut HttpCtx<'_>) {
        cx.respond(crate::Response::error(404));
    }

    /// A piece of the request body; pieces arrive in order and are never buffered whole by the runtime.
    fn http_body(&self, _session: &mut Self::Session, _cx: &mut HttpCtx<'_>, _chunk: &[u8]) {}

    /// The request body is complete; a protocol that has not answered yet must answer now.
    fn http_body_completion(&self, _session: &mut Self::Session, _cx: &mut HttpCtx<'_>) {}

    /// The request is over (answered, or the connection went away); release what the session holds.
    fn http_closed(&self, _session: &mut Self::Session) {}

    /// How this protocol wants its WebSocket connections run (limits, streaming, compression).
    fn ws_options(&self) -> WsOptions {
        WsOptions::default()
    }

    /// A WebSocket upgrade chose this protocol: refuse it with an HTTP status, or accept (the default).
    fn accept_upgrade(&self, _request: &Request) -> Result<(), u16> {
        Ok(())
    }

    /// A WebSocket connection is open.
    fn established(&self, _session: &mut Self::Session, _cx: &mut WsCtx<'_>) {}

    /// A message (or, with [`WsOptions::stream_fragments`], a fragment) arrived.
    fn message(&self, _session: &mut Self::Session, _cx: &mut WsCtx<'_>, _msg: WsMessage<'_>) {}

    /// The connection can take more data: requested with [`WsCtx::request_writable`] (or for all members
    /// with [`WsCtx::request_writable_all`]), delivered once the send queue is below its low-water mark.
    fn writable(&self, _session: &mut Self::Session, _cx: &mut WsCtx<'_>) {}

    /// The timer set with [`WsCtx::set_timer`] expired.
    fn timer(&self, _session: &mut Self::Session, _cx: &mut WsCtx<'_>) {}

    /// The connection is gone; `close` says how it ended.
    fn closed(&self, _session: &mut Self::Session, _close: &CloseInfo) {}
}

/// A protocol with its session type erased, so that a vhost can hold protocols of different types.
pub(crate) trait DynProtocol: Send + Sync {
    fn new_session(&self) -> Box<dyn Any + Send>;
    fn http(&self, session: &mut (dyn Any + Send), cx: &mut HttpCtx<'_>);
    fn http_body(&self, session: &mut (dyn Any + Send), cx: &mut HttpCtx<'_>, chunk: &[u8]);
    fn http_body_completion(&self, session: &mut (dyn Any + Send), cx: &mut HttpCtx<'_>);
    fn http_closed(&self, session: &mut (dyn Any + Send));
    fn ws_options(&self) -> WsOptions;
    fn accept_upgrade(&self, request: &Request) -> Result<(), u16>;
    fn established(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>);
    fn message(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>, msg: WsMessage<'_>);
    fn writable(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>);
    fn timer(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>);
    fn closed(&self, session: &mut (dyn Any + Send), close: &CloseInfo);
}

impl<P: Protocol> DynProtocol for P {
    fn new_session(&self) -> Box<dyn Any + Send> {
        Box::new(P::Session::default())
    }

    fn http(&self, session: &mut (dyn Any + Send), cx: &mut HttpCtx<'_>) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::http(self, s, cx);
        }
    }

    fn http_body(&self, session: &mut (dyn Any + Send), cx: &mut HttpCtx<'_>, chunk: &[u8]) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::http_body(self, s, cx, chunk);
        }
    }

    fn http_body_completion(&self, session: &mut (dyn Any + Send), cx: &mut HttpCtx<'_>) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::http_body_completion(self, s, cx);
        }
    }

    fn http_closed(&self, session: &mut (dyn Any + Send)) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::http_closed(self, s);
        }
    }

    fn ws_options(&self) -> WsOptions {
        Protocol::ws_options(self)
    }

    fn accept_upgrade(&self, request: &Request) -> Result<(), u16> {
        Protocol::accept_upgrade(self, request)
    }

    fn established(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::established(self, s, cx);
        }
    }

    fn message(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>, msg: WsMessage<'_>) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::message(self, s, cx, msg);
        }
    }

    fn writable(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::writable(self, s, cx);
        }
    }

    fn timer(&self, session: &mut (dyn Any + Send), cx: &mut WsCtx<'_>) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::timer(self, s, cx);
        }
    }

    fn closed(&self, session: &mut (dyn Any + Send), close: &CloseInfo) {
        if let Some(s) = session.downcast_mut::<P::Session>() {
            Protocol::closed(self, s, close);
        }
    }
}

/// A protocol instance ready to be attached to a vhost.
#[derive(Clone)]
pub struct ProtocolHandle {
    pub(crate) name: Arc<str>,
    pub(crate) inner: Arc<dyn DynProtocol>,
    /// The per-vhost options it was built from (`default`, `basic-auth` are read by the runtime).
    pub(crate) options: Pvo,
    /// It serves WebSocket upgrades (false for raw-only protocols).
    pub(crate) websocket: bool,
    /// What serves its raw connections, if it has any.
    pub(crate) raw: Option<Arc<dyn RawService>>,
    /// Its raw callbacks, for drivers that call them directly (UDP); `None` for services such as the proxy.
    pub(crate) raw_callbacks: Option<Arc<dyn DynRaw>>,
}

/// The HTTP and WebSocket side of a raw-only protocol: nothing (404 for HTTP, no upgrades).
struct NoHttp;

impl Protocol for NoHttp {
    type Session = ();
}

impl ProtocolHandle {
    /// Wraps a protocol value under the name that mounts and clients use to reach it.
    pub fn new(name: &str, protocol: impl Protocol) -> Self {
        ProtocolHandle {
            name: name.into(),
            inner: Arc::new(protocol),
            options: Pvo::default(),
            websocket: true,
            raw: None,
            raw_callbacks: None,
        }
    }

    /// Wraps a protocol that serves only raw connections (raw vhosts, fallbacks, clients, adoption).
    pub fn raw(name: &str, protocol: impl RawProtocol) -> Self {
        let callbacks: Arc<dyn DynRaw> = Arc::new(protocol);
        ProtocolHandle {
            name: name.into(),
            inner: Arc::new(NoHttp),
            options: Pvo::default(),
            websocket: false,
            raw: Some(Arc::new(Callbacks(callbacks.clone()))),
            raw_callbacks: Some(callbacks),
        }
    }

    /// Wraps a protocol that serves HTTP and WebSocket callbacks and raw connections too.
    pub fn with_raw<P: Protocol + RawProtocol>(name: &str, protocol: P) -> Self {
        let shared = Arc::new(protocol);
        let callbacks: Arc<dyn DynRaw> = shared.clone();
        ProtocolHandle {
            name: name.into(),
            inner: shared,
            options: Pvo::default(),
            websocket: true,
            raw: Some(Arc::new(Callbacks(callbacks.clone()))),
            raw_callbacks: Some(callbacks),
        }
    }

    /// A raw-only protocol whose connections are served by `service` itself (the proxy).
    pub(crate) fn raw_service(name: &str, service: Arc<dyn RawService>) -> Self {
        ProtocolHandle {
            name: name.into(),
            inner: Arc::new(NoHttp),
            options: Pvo::default(),
            websocket: false,
            raw: Some(service),
            raw_callbacks: None,
        }
    }

    /// Whether the protocol serves raw connections.
    pub fn has_raw(&self) -> bool {
        self.raw.is_some()
    }

    /// Attaches the per-vhost options the runtime itself reads: `default` (`1` makes this the protocol
    /// for WebSocket upgrades that name none) and `basic-auth` (a credentials file the upgrade must pass).
    pub fn with_options(mut self, options: Pvo) -> Self {
        self.options = options;
        self
    }

    /// The protocol's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for ProtocolHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtocolHandle")
            .field("name", &self.name)
            .finish()
    }
}

/// Per-vhost protocol options (libwebsockets' "pvo"): a name, a value and nested options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pvo {
    /// Option name.
    pub name: String,
    /// Option value (always text, as in the lwsws config).
    pub value: String,
    /// Nested options.
    pub children: Vec<Pvo>,
}

impl Pvo {
    /// The value of the child option `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.children
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.as_str())
    }
}

/// Why a registered protocol could not be instantiated for a vhost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolInitError {
    /// The protocol being set up.
    pub protocol: String,
    /// What was wrong (typically with one of its options).
    pub message: String,
}

impl fmt::Display for ProtocolInitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protocol {}: {}", self.protocol, self.message)
    }
}

impl std::error::Error for ProtocolInitError {}

type Constructor = Arc<dyn Fn(&Pvo) -> Result<ProtocolHandle, ProtocolInitError> + Send + Sync>;

/// Protocol constructors by name (libwebsockets' plugins, linked statically), so configuration can enable
/// protocols per vhost with options.
#[derive(Clone, Default)]
pub struct Registry {
    constructors: HashMap<String, Constructor>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a constructor that builds the protocol from its per-vhost options.
    pub fn register<P, F>(&mut self, name: &str, build: F)
    where
        P: Protocol,
        F: Fn(&Pvo) -> Result<P, ProtocolInitError> + Send + Sync + 'static,
    {
        let owned: Arc<str> = name.into();
        self.constructors.insert(
            name.to_string(),
            Arc::new(move |pvo| {
                let mut handle = ProtocolHandle::new(&owned, build(pvo)?);
                handle.options = pvo.clone();
                Ok(handle)
            }),
        );
    }

    /// Registers a constructor that builds the whole handle (raw protocols, the proxy, protocols that are
    /// both), from the protocol's name and per-vhost options.
    pub fn register_handle<F>(&mut self, name: &str, build: F)
    where
        F: Fn(&str, &Pvo) -> Result<ProtocolHandle, ProtocolInitError> + Send + Sync + 'static,
    {
        let owned: Arc<str> = name.into();
        self.constructors.insert(
            name.to_string(),
            Arc::new(move |pvo| {
                let mut handle = build(&owned, pvo)?;
                handle.options = pvo.clone();
                Ok(handle)
            }),
        );
    }

    /// Builds the named protocol for one vhost; `None` if no protocol of that name is registered.
    pub fn instantiate(
        &self,
        name: &str,
        pvo: &Pvo,
    ) -> Option<Result<ProtocolHandle, ProtocolInitError>> {
        self.constructors.get(name).map(|c| c(pvo))
    }

    /// Names of all registered protocols, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.constructors.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("protocols", &self.names())
            .finish()
    }
}
