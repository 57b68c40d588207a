//! The HTTP role: requests as handlers see them, responses they build, and the connection driver.

pub(crate) mod body;
mod ctx;
mod request;
mod request_body;
mod response;

pub mod sse;
pub mod sse_ring;

pub(crate) mod date;
pub(crate) mod dispatch;
pub(crate) mod error_page;
pub(crate) mod h1;
pub(crate) mod h2;
pub(crate) mod outgoing;
pub(crate) mod pump;

pub use body::{Body, BodyError, BodySender, BodySource, ClientGone, Frame, Trailers};
pub use ctx::{HttpCtx, Responder};
pub use request::Request;
pub(crate) use request_body::BodyPipe;
pub use request_body::RequestBody;
pub use response::Response;
